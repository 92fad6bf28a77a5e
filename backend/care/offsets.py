"""Offsets written in the protocol files ('16w', '20w6d', '3m -1d', '-6m', '48h') and their
calendar arithmetic, so that a birth on 31 January plus one month lands on the last of February.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from backend.months import MONTHS_PER_YEAR, add_months

# Calendar facts, not clinical numbers.
DAYS_PER_WEEK = 7
HOURS_PER_DAY = 24
# Only used to compare offsets of mixed units when validating a window's order.
_APPROX_DAYS_PER_MONTH = 30.4375

_UNITS = {
    "y": "years",
    "yr": "years",
    "year": "years",
    "years": "years",
    "m": "months",
    "mo": "months",
    "month": "months",
    "months": "months",
    "w": "weeks",
    "wk": "weeks",
    "week": "weeks",
    "weeks": "weeks",
    "d": "days",
    "day": "days",
    "days": "days",
    "h": "hours",
    "hour": "hours",
    "hours": "hours",
}
_TERM = re.compile(r"\s*([+-]?)\s*(\d+)\s*([A-Za-z]+)\s*")


@dataclass(frozen=True)
class Offset:
    """A signed distance from an anchor date: whole months (years folded in) then days."""

    months: int = 0
    days: int = 0
    text: str = "0d"

    def apply(self, anchor: dt.date) -> dt.date:
        """The date this offset designates from `anchor` (months first, then days)."""
        return add_months(anchor, self.months) + dt.timedelta(days=self.days)

    @property
    def approx_days(self) -> float:
        """A length in days good enough to check that opens ≤ due ≤ closes."""
        return self.months * _APPROX_DAYS_PER_MONTH + self.days

    def __str__(self) -> str:
        return self.text


def parse_offset(text: object) -> Offset:
    """Parse '13w6d', '3m -1d', '-6m', '48h', '2 weeks'; raise ValueError with a readable message.

    A leading '-' negates the whole offset ('-13w6d' is minus 13 weeks 6 days); otherwise each
    later term may carry its own sign ('3m -1d' is the day before the 3-month mark).
    """
    if isinstance(text, bool) or not isinstance(text, str):
        raise ValueError(f"must be an offset such as '16w', '20w6d' or '3m -1d', not {text!r}")
    source = text.strip()
    if not source:
        raise ValueError("must not be empty")
    whole_negative = source.startswith("-")
    body = source[1:] if whole_negative else source
    months = days = 0
    pos = 0
    first = True
    while pos < len(body):
        match = _TERM.match(body, pos)
        if match is None or match.end() == pos:
            raise ValueError(f"cannot read {source!r}: expected terms such as '16w' or '6d'")
        sign, number, unit_text = match.groups()
        unit = _UNITS.get(unit_text.lower())
        if unit is None:
            raise ValueError(f"unknown unit {unit_text!r}")
        if sign and (first or whole_negative):
            raise ValueError(
                f"cannot read {source!r}: put one '-' in front of the whole offset, "
                "or sign only the later terms ('3m -1d')"
            )
        value = -int(number) if sign == "-" else int(number)
        if unit == "years":
            months += value * MONTHS_PER_YEAR
        elif unit == "months":
            months += value
        elif unit == "weeks":
            days += value * DAYS_PER_WEEK
        elif unit == "days":
            days += value
        else:
            if value % HOURS_PER_DAY:
                raise ValueError(f"hours must be whole days (a multiple of 24), not {value}h")
            days += value // HOURS_PER_DAY
        pos = match.end()
        first = False
    if whole_negative:
        months, days = -months, -days
    return Offset(months=months, days=days, text=" ".join(source.split()))
