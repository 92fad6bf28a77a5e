"""The dispatcher's housekeeping: purge what has outlived its retention (hourly)."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

from flask import Flask

from backend.db import Session


def purge_expired(app: Flask) -> dict[str, int]:
    """One unit of work: delete expired answers, tokens and log-in failures."""
    from backend.ops import retention

    with app.app_context():
        session = Session()
        try:
            counts = retention.purge(session, settings=app.config)
            session.commit()
            return counts
        finally:
            Session.remove()


def register(scheduler: Any, app: Flask, *, worker: str, stop: threading.Event) -> None:
    """Add the purge to the dispatcher's scheduler."""
    scheduler.add_job(
        purge_expired,
        "interval",
        hours=1,
        kwargs={"app": app},
        id="ops.purge_expired",
        max_instances=1,
        coalesce=True,
        next_run_time=dt.datetime.now(dt.UTC),
    )
