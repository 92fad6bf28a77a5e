"""Scheduled work of the regimens: persist the completion of regimens past their last day."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

from flask import Flask

from backend.db import Session
from backend.regimens import lifecycle


def complete_regimens(app: Flask) -> int:
    """Mark completed every active regimen whose last day has passed; its own unit of work."""
    with app.app_context():
        session = Session()
        try:
            done = lifecycle.complete_past_end(session, default_tz=app.config["DEFAULT_TIMEZONE"])
            session.commit()
            return len(done)
        finally:
            Session.remove()


def register(scheduler: Any, app: Flask, *, worker: str, stop: threading.Event) -> None:
    """Add this domain's jobs to the dispatcher's scheduler (hourly: midnight comes per zone)."""
    scheduler.add_job(
        complete_regimens,
        "interval",
        hours=1,
        kwargs={"app": app},
        id="regimens.complete",
        max_instances=1,
        coalesce=True,
        next_run_time=dt.datetime.now(dt.UTC),
    )
