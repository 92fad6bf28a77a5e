"""Scheduled work of the indicators: snapshot the closed months every night, so that a
bureau's read of a closed period sums kept cells instead of recounting the city."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

from flask import Flask
from sqlalchemy.orm import Session as OrmSession

from backend import clock
from backend.db import Session
from backend.indicators import engine, snapshots
from backend.indicators.definitions import Definition, definitions, policy


def local_today(timezone: str) -> tuple[dt.date, int]:
    """Today in the city's time zone and its offset from UTC in minutes."""
    now = clock.now().astimezone(clock.zone(timezone))
    return now.date(), int((now.utcoffset() or dt.timedelta(0)).total_seconds() // 60)


def take_closed(
    session: OrmSession,
    *,
    since: dt.date,
    until: dt.date,
    today: dt.date,
    offset_minutes: int,
    chosen: list[Definition] | None = None,
) -> int:
    """Snapshot every closed period in [since, until] of every indicator (one INSERT … SELECT
    each); a period is closed `settle_days` after its end. Returns how many were taken."""
    closed_by = today - dt.timedelta(days=int(policy()["snapshots"]["settle_days"]))
    taken = 0
    for definition in chosen or list(definitions().values()):
        periods = snapshots.closed_periods(
            definition, since=since, until=until, closed_by=closed_by
        )
        # Months that add up are counted by one statement over them all; the others (the
        # education rate's months and years) one by one.
        batches = [periods] if snapshots.by_months(definition) else [[p] for p in periods]
        for batch in filter(None, batches):
            engine.snapshot_months(
                session, definition, batch, today=today, offset_minutes=offset_minutes
            )
        taken += len(periods)
    return taken


def trailing(today: dt.date) -> tuple[dt.date, dt.date]:
    """The window the nightly job counts again: the last `months` months before this one."""
    back = int(policy()["snapshots"]["months"])
    first = today.replace(day=1)
    for _ in range(back):
        first = (first - dt.timedelta(days=1)).replace(day=1)
    return first, today.replace(day=1) - dt.timedelta(days=1)


def refresh(app: Flask) -> int:
    """The nightly job: the trailing window's closed periods, each indicator committed on its
    own (a failure leaves the others' snapshots, and reads count the rest live)."""
    with app.app_context():
        today, offset = local_today(str(app.config["DEFAULT_TIMEZONE"]))
        since, until = trailing(today)
        session = Session()
        taken = 0
        try:
            for definition in definitions().values():
                taken += take_closed(
                    session,
                    since=since,
                    until=until,
                    today=today,
                    offset_minutes=offset,
                    chosen=[definition],
                )
                session.commit()
            return taken
        finally:
            Session.remove()


def register(scheduler: Any, app: Flask, *, worker: str, stop: threading.Event) -> None:
    """Add the nightly snapshot to the dispatcher's scheduler (03:00 in the city)."""
    scheduler.add_job(
        refresh,
        "cron",
        hour=3,
        timezone=str(app.config["DEFAULT_TIMEZONE"]),
        kwargs={"app": app},
        id="indicators.snapshot",
        max_instances=1,
        coalesce=True,
    )
