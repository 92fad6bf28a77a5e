"""The dispatcher's scheduled work: deliver due reminders, extend daily regimen reminders."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

from flask import Flask

from backend.db import Session, utcnow
from backend.regimens import service as regimen_service
from backend.reminders import dispatcher, planning, rules


def _context(app: Flask) -> dispatcher.Context:
    return dispatcher.Context.from_settings(
        app.config, rules=rules.load(), protocols=app.extensions["care.protocols"]
    )


def dispatch(app: Flask, *, worker: str, stop: threading.Event) -> dict[str, int]:
    """Drain: claim, deliver and record batch after batch until one comes back short (its own
    session and transactions)."""
    with app.app_context():
        try:
            return dispatcher.drain(
                Session(), worker=worker, ctx=_context(app), should_stop=stop.is_set
            )
        finally:
            Session.remove()


def plan_regimen_reminders(app: Flask) -> Any:
    """Keep the daily regimen reminders planned over the horizon (runs hourly)."""
    with app.app_context():
        session = Session()
        try:
            regimens = regimen_service.active_regimens(session)
            report = planning.plan_regimens(
                session,
                regimens=regimens,
                user_ids={r.user_id for r in regimens},
                rules=rules.load(),
                default_tz=app.config["DEFAULT_TIMEZONE"],
            )
            session.commit()
            return report
        finally:
            Session.remove()


def plan_lesson_reminders(app: Flask) -> Any:
    """Remind those who asked of lessons published in the last day that fit them (hourly)."""
    with app.app_context():
        session = Session()
        try:
            report = planning.plan_lessons(
                session,
                rules=rules.load(),
                default_tz=app.config["DEFAULT_TIMEZONE"],
                since=utcnow() - dt.timedelta(days=1),
            )
            session.commit()
            return report
        finally:
            Session.remove()


def register(scheduler: Any, app: Flask, *, worker: str, stop: threading.Event) -> None:
    """Add this domain's jobs to the dispatcher's scheduler."""
    scheduler.add_job(
        dispatch,
        "interval",
        seconds=app.config["DISPATCHER_INTERVAL_SECONDS"],
        kwargs={"app": app, "worker": worker, "stop": stop},
        id="reminders.dispatch",
        max_instances=1,
        coalesce=True,
        next_run_time=_now(),
    )
    scheduler.add_job(
        plan_regimen_reminders,
        "interval",
        hours=1,
        kwargs={"app": app},
        id="reminders.plan_regimens",
        max_instances=1,
        coalesce=True,
        next_run_time=_now(),
    )
    scheduler.add_job(
        plan_lesson_reminders,
        "interval",
        hours=1,
        kwargs={"app": app},
        id="reminders.plan_lessons",
        max_instances=1,
        coalesce=True,
        next_run_time=_now(),
    )


def _now() -> Any:
    return dt.datetime.now(dt.UTC)
