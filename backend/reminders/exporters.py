"""Her inbox, reminders and preferences as sections of her data export."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select

from backend import exports
from backend.reminders.models import Notification, Reminder, ReminderPreference


def register(app: Flask) -> None:
    """Her inbox, reminders and preferences belong in her data export."""
    inbox = select(Notification).order_by(Notification.created_at)
    exports.register(app, "notifications", exports.owned(inbox, Notification.user_id))
    planned = select(Reminder).order_by(Reminder.fire_at)
    exports.register(app, "reminders", exports.owned(planned, Reminder.recipient_id))
    prefs = select(ReminderPreference)
    exports.register(app, "reminder_preferences", exports.owned(prefs, ReminderPreference.user_id))
