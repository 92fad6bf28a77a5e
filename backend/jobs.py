"""What the domains' jobs modules share: a job's own unit of work, and an hourly job.

A scheduled job runs outside any request, so it opens the app context and the session itself,
commits once at the end and always hands the connection back (backend.scheduler runs them).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask
from sqlalchemy.orm import Session as OrmSession

from backend.db import Session


@contextmanager
def unit_of_work(app: Flask) -> Iterator[OrmSession]:
    """The job's session in the app context: committed if the block returns, always removed."""
    with app.app_context():
        session = Session()
        try:
            yield session
            session.commit()
        finally:
            Session.remove()


def add_hourly(scheduler: Any, job: Callable[..., Any], app: Flask, *, job_id: str) -> None:
    """Run `job(app=app)` every hour from now on, one instance at a time, missed runs coalesced."""
    scheduler.add_job(
        job,
        "interval",
        hours=1,
        kwargs={"app": app},
        id=job_id,
        max_instances=1,
        coalesce=True,
        next_run_time=dt.datetime.now(dt.UTC),
    )
