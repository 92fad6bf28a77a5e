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
So a read costs one lookup of the snapshots, one statement over the cells of every indicator
read together, and at most one live statement per indicator not fully covered.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, insert, literal, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.types import Uuid

from backend.auth.models import Institution
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


@dataclass
class Plan:
    """How one indicator's period is read: these snapshots' cells, plus live [start, end]."""

    snapshot_ids: list[uuid.UUID]
    as_of: dt.datetime | None
    live: tuple[dt.date, dt.date] | None


def plan(
    session: Session,
    definitions: Iterable[Definition],
    *,
    since: dt.date,
    until: dt.date,
    today: dt.date,
) -> dict[str, Plan]:
    """Each indicator's plan for the period (one statement: the snapshots inside it)."""
    chosen = list(definitions)
    end = min(until, today)
    found = session.execute(
        select(
            IndicatorSnapshot.code,
            IndicatorSnapshot.period_start,
            IndicatorSnapshot.period_end,
            IndicatorSnapshot.id,
            IndicatorSnapshot.taken_at,
        ).where(
            IndicatorSnapshot.code.in_([d.code for d in chosen]),
            IndicatorSnapshot.period_start >= since,
            IndicatorSnapshot.period_end <= until,
        )
    ).all()
    held = {(r.code, r.period_start, r.period_end): (r.id, r.taken_at) for r in found}
    plans = {}
    for definition in chosen:
        exact = held.get((definition.code, since, until))
        if exact:
            plans[definition.code] = Plan([exact[0]], exact[1], None)
            continue
        ids, taken, start = [], [], since
        if by_months(definition) and since.day == 1:
            for first, last in months(since, until):
                hit = held.get((definition.code, first, last)) if last <= until else None
                if not hit:
                    break
                ids.append(hit[0])
                taken.append(hit[1])
                start = last + dt.timedelta(days=1)
        plans[definition.code] = Plan(
            ids, min(taken) if taken else None, (start, end) if start <= end else None
        )
    return plans


def read(
    session: Session,
    plans: dict[str, Plan],
    *,
    by: tuple[str, ...],
    districts: list[str] | None,
) -> dict[str, list[dict[str, Any]]]:
    """The planned snapshots' cells summed to the breakdown `by`, by indicator (one
    statement, whatever the number of indicators)."""
    ids = [i for p in plans.values() for i in p.snapshot_ids]
    out: dict[str, list[dict[str, Any]]] = {code: [] for code in plans}
    if not ids:
        return out
    cell = IndicatorCell
    columns: list[Any] = [IndicatorSnapshot.code.label("code")]
    group: list[Any] = [IndicatorSnapshot.code]
    placed = "district" in by or "institution" in by
    columns.append((cell.district_code if placed else literal(None)).label("district_code"))
    group += [cell.district_code] if placed else []
    if "institution" in by:
        columns += [
            cell.institution_id.label("institution_id"),
            Institution.name.label("institution_name"),
        ]
        group += [cell.institution_id, Institution.name]
    else:
        columns += [literal(None).label("institution_id"), literal(None).label("institution_name")]
    columns.append((cell.month if "month" in by else literal(None)).label("month"))
    group += [cell.month] if "month" in by else []
    if "category" in by:
        columns.append(cell.category.label("category"))
        group.append(cell.category)
        kept = None
    else:
        columns.append(literal(None).label("category"))
        # Over all categories: the rows that count a unit once (ALL), or have no category.
        kept = or_(cell.category.is_(None), cell.category == ALL)
    columns += [
        func.sum(cell.numerator).label("numerator"),
        func.sum(cell.denominator).label("denominator"),
    ]
    stmt = (
        select(*columns)
        .select_from(cell)
        .join(IndicatorSnapshot, IndicatorSnapshot.id == cell.snapshot_id)
        .where(cell.snapshot_id.in_(ids))
    )
    if kept is not None:
        stmt = stmt.where(kept)
    if "institution" in by:
        stmt = stmt.outerjoin(Institution, Institution.id == cell.institution_id)
    if districts is not None:
        stmt = stmt.where(cell.district_code.in_(districts))
    for row in session.execute(stmt.group_by(*group)):
        values = dict(row._mapping)
        out[values.pop("code")].append(values)
    return out


def take(
    session: Session,
    definition: Definition,
    statement: Any,
    *,
    since: dt.date,
    until: dt.date,
) -> uuid.UUID:
    """Replace the snapshot of `definition` over [since, until] with the rows of `statement`
    (the engine's grouped statement at `grain(definition)`): one INSERT … SELECT."""
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
    snapshot = IndicatorSnapshot(
        id=uuid.uuid4(),
        code=definition.code,
        period_start=since,
        period_end=until,
        taken_at=utcnow(),
    )
    session.add(snapshot)
    session.flush()
    rows = statement.subquery("grouped")
    kept = [or_(rows.c.numerator != 0, rows.c.denominator != 0)]
    if "category" in grain(definition):
        # By category, the births stand in the rows over all categories (ALL); the rows
        # without a category are not read.
        kept.append(rows.c.category.is_not(None))
    session.execute(
        insert(IndicatorCell).from_select(
            [
                "snapshot_id",
                "row",
                "district_code",
                "institution_id",
                "month",
                "category",
                "numerator",
                "denominator",
            ],
            select(
                literal(snapshot.id, Uuid()),
                func.row_number().over(),
                rows.c.district_code,
                rows.c.institution_id,
                rows.c.month,
                rows.c.category,
                rows.c.numerator,
                rows.c.denominator,
            ).where(*kept),
        )
    )
    return snapshot.id


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

