"""Her inbox, reminders and preferences as sections of her data export."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select

from backend import exports
from backend.reminders.models import Notification, Reminder, ReminderPreference


def register(app: Flask) -> None:
    """Her inbox, reminders and preferences belong in her data export."""
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
