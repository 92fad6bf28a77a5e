"""The one source of "now" and "today", so tests can stand at 23:30 in Shanghai.

Instants are UTC; "today" is always computed in a person's own time zone.
"""

from __future__ import annotations

import datetime as dt
from typing import Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_frozen: dt.datetime | None = None


def now() -> dt.datetime:
    """The current instant, aware, in UTC (frozen in tests by `freeze`)."""
    return _frozen if _frozen is not None else dt.datetime.now(dt.UTC)


def freeze(instant: dt.datetime | None) -> None:
    """Pin `now()` to an aware instant (tests and benchmarks); None releases it."""
    global _frozen
    if instant is not None and instant.tzinfo is None:
        raise ValueError("freeze needs an aware datetime")
    _frozen = instant.astimezone(dt.UTC) if instant is not None else None


def zone(name: str | None, default: str = "Asia/Shanghai") -> ZoneInfo:
    """The ZoneInfo for `name`, falling back to the default zone."""
    try:
        return ZoneInfo(name or default)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(default)


def today(tz_name: str | None, default: str = "Asia/Shanghai") -> dt.date:
    """Today's date where the person lives."""
    return now().astimezone(zone(tz_name, default)).date()


class HasTimezone(Protocol):
    """A person (a `User`): anything with her own time-zone setting."""

    @property
    def timezone(self) -> str | None: ...


def person_today(person: HasTimezone, default_tz: str) -> dt.date:
    """Today's date in the person's own time zone (the default zone when she set none)."""
    return today(person.timezone, default_tz)


def is_valid_zone(name: str) -> bool:
    """True for an IANA time-zone name."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True
