"""Calendar-month arithmetic, written once: a month later (clamped to a shorter month's last
day), whole months between two dates, the first and last day of a month."""

from __future__ import annotations

import calendar
import datetime as dt

MONTHS_PER_YEAR = 12


def add_months(day: dt.date, months: int) -> dt.date:
    """`day` plus a number of calendar months, the last day of a shorter month instead
    (31 January + 1 month → 28 or 29 February)."""
    index = day.year * MONTHS_PER_YEAR + (day.month - 1) + months
    year, month0 = divmod(index, MONTHS_PER_YEAR)
    last = calendar.monthrange(year, month0 + 1)[1]
    return dt.date(year, month0 + 1, min(day.day, last))


def add_years(day: dt.date, years: int) -> dt.date:
    """The same calendar day `years` later (29 February becomes 28 February)."""
    return add_months(day, years * MONTHS_PER_YEAR)


def months_between(start: dt.date, end: dt.date) -> int:
    """Calendar months from `start`'s month to `end`'s month (days ignored)."""
    return (end.year - start.year) * MONTHS_PER_YEAR + end.month - start.month


def month_start(day: dt.date) -> dt.date:
    """The first day of `day`'s month."""
    return day.replace(day=1)


def months_back(month: dt.date, n: int) -> dt.date:
    """The first day of the month `n` months before `month`'s (negative: after)."""
    return month_start(add_months(month_start(month), -n))


def month_end(month: dt.date) -> dt.date:
    """The last day of `month`'s month."""
    return months_back(month, -1) - dt.timedelta(days=1)
