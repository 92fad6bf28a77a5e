"""The dispatcher's housekeeping: purge what has outlived its retention (hourly)."""

from __future__ import annotations

import threading
from typing import Any

from flask import Flask

from backend.jobs import add_hourly, unit_of_work
from backend.ops import retention


def purge_expired(app: Flask) -> dict[str, int]:
    """One unit of work: delete expired answers, tokens and log-in failures."""
    with unit_of_work(app) as session:
        return retention.purge(session, settings=app.config)


def register(scheduler: Any, app: Flask, *, worker: str, stop: threading.Event) -> None:
    """Add the purge to the dispatcher's scheduler."""
    add_hourly(scheduler, purge_expired, app, job_id="ops.purge_expired")
