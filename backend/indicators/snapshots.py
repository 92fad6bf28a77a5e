"""Snapshots of closed periods: taken set-based by the engine's own statement, read back as a
sum of cells, composed with a live count of what no snapshot covers.

Taking one is one INSERT … SELECT of the engine's grouped statement (by district, institution,
month and, for birth defects, category): the same SQL as a live read, so a snapshot equals a
recount of its period on the day it was taken. A read of a period uses, per indicator:
- a snapshot of exactly that period, if there is one (the only way for an indicator whose
  period is not a sum of months: the education rate counts women registered in the period);
- else, when the period starts on the 1st, the longest run of month snapshots from its start,
  and one live statement for the rest (the open month, late months not yet taken);
- else one live statement.
So a read costs one statement for the snapshots held and the cells of every indicator read
together (two when the snapshots changed since the process last read the same thing; see
backend/indicators/reads.py), and at most one live statement per indicator not fully covered.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Iterator
from typing import Any

from sqlalchemy import case, delete, func, insert, literal, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.types import Boolean, Date, String, Uuid

from backend.db import utcnow
from backend.indicators.definitions import Definition
from backend.indicators.models import IndicatorCell, IndicatorSnapshot

ALL = "*"  # the category of the row that holds every category together


def month_end(first: dt.date) -> dt.date:
    """The last day of the month that starts on `first`."""
    following = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return following - dt.timedelta(days=1)


def months(since: dt.date, until: dt.date) -> Iterator[tuple[dt.date, dt.date]]:
    """The whole calendar months from since's month through until's month."""
    first = since.replace(day=1)
    while first <= until:
        last = month_end(first)
        yield first, last
        first = last + dt.timedelta(days=1)


def by_months(definition: Definition) -> bool:
    """Whether a period's counts are the sum of its months' (every rule but 'period_end':
    the education rate counts a woman once per period, wherever her months are)."""
    return definition.period != "period_end"


def grain(definition: Definition) -> tuple[str, ...]:
    """The breakdown a snapshot keeps: every breakdown a read may ask for."""
    keys = ("institution", "month")
    return (*keys, "category") if "category" in definition.breakdowns else keys


def take(
    session: Session,
    definition: Definition,
    statement: Any,
    *,
    periods: list[tuple[dt.date, dt.date]],
) -> list[uuid.UUID]:
    """Replace the snapshots of `definition` over `periods` with the rows of `statement` (the
    engine's grouped statement at `grain(definition)` over them all): one INSERT … SELECT.
    Several periods are whole months, each row going to the snapshot of its month."""
    for since, until in periods:
        old = select(IndicatorSnapshot.id).where(
            IndicatorSnapshot.code == definition.code,
            IndicatorSnapshot.period_start == since,
            IndicatorSnapshot.period_end == until,
        )
        session.execute(delete(IndicatorCell).where(IndicatorCell.snapshot_id.in_(old)))
        session.execute(
            delete(IndicatorSnapshot).where(
                IndicatorSnapshot.code == definition.code,
                IndicatorSnapshot.period_start == since,
                IndicatorSnapshot.period_end == until,
            )
        )
    taken = [
        IndicatorSnapshot(
            id=uuid.uuid4(),
            code=definition.code,
            period_start=since,
            period_end=until,
            taken_at=utcnow(),
        )
        for since, until in periods
    ]
    session.add_all(taken)
    session.flush()
    rows = statement.subquery("grouped")
    kept = [or_(rows.c.numerator != 0, rows.c.denominator != 0)]
    if "category" in grain(definition):
        # By category, the births stand in the rows over all categories (ALL); the rows
        # without a category are not read.
        kept.append(rows.c.category.is_not(None))

    def per_month(values: dict[str, Any], kind: Any) -> Any:
        if len(periods) == 1:
            return literal(next(iter(values.values())), kind)
        return case({month: literal(v, kind) for month, v in values.items()}, value=rows.c.month)

    label = {s.period_start.strftime("%Y-%m"): s for s in taken}
    monthly = all(s.period_end == month_end(s.period_start) for s in taken)
    session.execute(
        insert(IndicatorCell).from_select(
            [
                "snapshot_id",
                "row",
                "code",
                "period_start",
                "period_end",
                "monthly",
                "district_code",
                "institution_id",
                "month",
                "category",
                "numerator",
                "denominator",
            ],
            select(
                per_month({m: s.id for m, s in label.items()}, Uuid()),
                func.row_number().over(),
                literal(definition.code, String()),
                per_month({m: s.period_start for m, s in label.items()}, Date()),
                per_month({m: s.period_end for m, s in label.items()}, Date()),
                literal(monthly and all(p[0].day == 1 for p in periods), Boolean()),
                rows.c.district_code,
                rows.c.institution_id,
                rows.c.month,
                rows.c.category,
                rows.c.numerator,
                rows.c.denominator,
            ).where(*kept),
        )
    )
    return [s.id for s in taken]


def closed_periods(
    definition: Definition, *, since: dt.date, until: dt.date, closed_by: dt.date
) -> list[tuple[dt.date, dt.date]]:
    """The periods to snapshot in [since, until] that ended by `closed_by`: every whole month,
    and the calendar years too for an indicator whose period is not a sum of months."""
    periods = [
        (first, last) for first, last in months(since, until) if first >= since and last <= until
    ]
    if not by_months(definition):
        periods += [
            (dt.date(y, 1, 1), dt.date(y, 12, 31))
            for y in range(since.year, until.year + 1)
            if dt.date(y, 1, 1) >= since and dt.date(y, 12, 31) <= until
        ]
    return [(a, b) for a, b in periods if b <= closed_by]


def held(session: Session) -> int:
    """How many snapshots are kept (the job's report)."""
    return int(session.execute(select(func.count()).select_from(IndicatorSnapshot)).scalar_one())


def purge(session: Session, codes: Iterable[str]) -> None:
    """Drop every snapshot of these indicators (reads count them live until the next job)."""
    chosen = list(codes)
    ids = select(IndicatorSnapshot.id).where(IndicatorSnapshot.code.in_(chosen))
    session.execute(delete(IndicatorCell).where(IndicatorCell.snapshot_id.in_(ids)))
    session.execute(delete(IndicatorSnapshot).where(IndicatorSnapshot.code.in_(chosen)))
