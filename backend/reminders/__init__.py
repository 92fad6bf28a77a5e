"""Reminders that are never lost: planning from steps and regimens, the dispatcher, channels.

Planning listens to care (a schedule changed) and regimens (a regimen changed); the dispatcher
runs as its own process (`flask --app backend dispatcher`, see backend/scheduler.py).
"""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app

from backend.api import Api


def init_app(app: Flask, api: Api) -> None:
    """Check the reminder rules, register the blueprint, listeners and readiness figures."""
    from backend.reminders import routes, rules, service

    rules.load()  # a broken content/reminders.yaml stops the app at start-up
    api.register_blueprint(routes.blp)
    _register_exports(app)
    app.extensions.setdefault("readiness_probes", []).append(
        lambda session: service.lag_and_dead(session)
    )
    _connect_signals()


_connected = False


def _connect_signals() -> None:
    global _connected
    if _connected:
        return
    from backend.care import signals as care_signals
    from backend.regimens import signals as regimen_signals

    care_signals.schedule_changed.connect(_on_schedule_changed)
    regimen_signals.regimen_changed.connect(_on_regimen_changed)
    _connected = True


def _on_schedule_changed(_sender: Any, *, session: Any, person_ids: Any, **_: Any) -> None:
    from backend.reminders import rules, service

    service.plan_steps(
        session,
        person_ids=set(person_ids),
        protocols=current_app.extensions["care.protocols"],
        rules=rules.load(),
        default_tz=current_app.config["DEFAULT_TIMEZONE"],
    )


def _on_regimen_changed(_sender: Any, *, session: Any, regimen: Any, **_: Any) -> None:
    from backend.regimens import service as regimen_service
    from backend.reminders import rules, service

    service.plan_regimens(
        session,
        regimens=regimen_service.active_regimens(session, user_ids=[regimen.user_id]),
        user_ids={regimen.user_id},
        rules=rules.load(),
        default_tz=current_app.config["DEFAULT_TIMEZONE"],
    )


def _register_exports(app: Flask) -> None:
    """Her inbox, reminders and preferences belong in her data export."""
    from sqlalchemy import select

    from backend import exports
    from backend.reminders.models import Notification, Reminder, ReminderPreference

    exports.register(
        app,
        "notifications",
        lambda s, u: s.scalars(
            select(Notification)
            .where(Notification.user_id == u.id)
            .order_by(Notification.created_at)
        ),
    )
    exports.register(
        app,
        "reminders",
        lambda s, u: s.scalars(
            select(Reminder).where(Reminder.recipient_id == u.id).order_by(Reminder.fire_at)
        ),
    )
    exports.register(
        app,
        "reminder_preferences",
        lambda s, u: s.scalars(
            select(ReminderPreference).where(ReminderPreference.user_id == u.id)
        ),
    )
