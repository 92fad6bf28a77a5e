"""Scheduled work of the regimens: persist the completion of regimens past their last day."""

from __future__ import annotations

import threading
from typing import Any

from flask import Flask

from backend.jobs import add_hourly, unit_of_work
from backend.regimens import lifecycle


def complete_regimens(app: Flask) -> int:
    """Mark completed every active regimen whose last day has passed; its own unit of work."""
    with unit_of_work(app) as session:
        done = lifecycle.complete_past_end(session, default_tz=app.config["DEFAULT_TIMEZONE"])
        return len(done)


def register(scheduler: Any, app: Flask, *, worker: str, stop: threading.Event) -> None:
    """Add this domain's jobs to the dispatcher's scheduler (hourly: midnight comes per zone)."""
    add_hourly(scheduler, complete_regimens, app, job_id="regimens.complete")
