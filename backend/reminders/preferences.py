"""Her reminder preferences and time: channels, quiet hours, opt-outs, the send time.

The defaults come from content/reminders.yaml; a reminder's instant is her local day at her send
time, moved out of her quiet hours.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from backend.auth.models import User
from backend.db import utcnow
from backend.errors import invalid
from backend.i18n import _l
from backend.reminders.models import ReminderPreference
from backend.reminders.rules import Rules

CHANNELS = ("miniprogram", "sms", "inbox")
DEFAULT_CHANNELS = ["miniprogram", "sms", "inbox"]
DEFAULT_OPTED_OUT = ["lesson_new"]

# --- time: her day, her send time, her quiet hours ------------------------------------------


def after_quiet_hours(local: dt.datetime, start: dt.time, end: dt.time) -> dt.datetime:
    """Move a local instant that falls in the quiet hours to their end."""
    t = local.time()
    if start == end:
        return local
    if start > end:  # overnight, e.g. 21:00-08:00
        if t >= start:
            return dt.datetime.combine(local.date() + dt.timedelta(days=1), end, local.tzinfo)
        if t < end:
            return dt.datetime.combine(local.date(), end, local.tzinfo)
        return local
    if start <= t < end:
        return dt.datetime.combine(local.date(), end, local.tzinfo)
    return local


def fire_at(day: dt.date, prefs: Preferences, tz: ZoneInfo) -> dt.datetime:
    """The UTC instant of a reminder for her local `day`, out of her quiet hours."""
    local = dt.datetime.combine(day, prefs.send_time, tz)
    return after_quiet_hours(local, prefs.quiet_start, prefs.quiet_end).astimezone(dt.UTC)


@dataclass(frozen=True)
class Preferences:
    """Her reminder preferences, with the defaults filled in."""

    channels: list[str]
    quiet_start: dt.time
    quiet_end: dt.time
    send_time: dt.time
    opted_out: list[str]


class StoredPreferences(NamedTuple):
    """The columns of a stored `ReminderPreference`, read without the ORM (planning)."""

    channels: list[str]
    quiet_start: dt.time
    quiet_end: dt.time
    send_time: dt.time
    opted_out: list[str]


def preferences_of(row: ReminderPreference | StoredPreferences | None, rules: Rules) -> Preferences:
    """Stored preferences or the defaults of content/reminders.yaml."""
    if row is None:
        return Preferences(
            list(DEFAULT_CHANNELS), rules.quiet_start, rules.quiet_end, rules.send_time, []
        )
    return Preferences(
        list(row.channels), row.quiet_start, row.quiet_end, row.send_time, list(row.opted_out)
    )


def get_preferences(session: Session, *, user: User, rules: Rules) -> Preferences:
    """Her preferences (defaults when she never set any)."""
    return preferences_of(session.get(ReminderPreference, user.id), rules)


def set_preferences(
    session: Session, *, user: User, rules: Rules, data: Mapping[str, Any]
) -> Preferences:
    """Change her preferences; the caller re-plans her reminders."""
    current = get_preferences(session, user=user, rules=rules)
    channels = list(data.get("channels", current.channels))
    if "inbox" not in channels:
        channels.append("inbox")  # the in-app inbox is always on
    if len(set(channels)) != len(channels):
        raise invalid("channels", _l("Name each channel once."))
    send_time = data.get("send_time", current.send_time)
    quiet_start = data.get("quiet_start", current.quiet_start)
    quiet_end = data.get("quiet_end", current.quiet_end)
    row = session.get(ReminderPreference, user.id)
    if row is None:
        row = ReminderPreference(user_id=user.id)
        session.add(row)
    row.channels = channels
    row.send_time, row.quiet_start, row.quiet_end = send_time, quiet_start, quiet_end
    row.opted_out = sorted(set(data.get("opted_out", current.opted_out)))
    row.updated_at = utcnow()
    session.flush()
    return preferences_of(row, rules)
