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

from sqlalchemy import and_, case, delete, func, insert, literal, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.types import Boolean, Date, String, Uuid

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
    """How one indicator's period is read: the snapshot of exactly the period, or its month
    snapshots from the start through `through`; plus live [start, end] for the rest."""

    exact: bool
    through: dt.date | None
    as_of: dt.datetime | None
    live: tuple[dt.date, dt.date] | None

    @property
    def stored(self) -> bool:
        return self.exact or self.through is not None


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
    # Core, not ORM: a few hundred plain rows, read at each request.
    found = (
        session.connection()
        .execute(
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
        )
        .all()
    )
    held = {(r.code, r.period_start, r.period_end): (r.id, r.taken_at) for r in found}
    plans = {}
    for definition in chosen:
        exact = held.get((definition.code, since, until))
        if exact:
            plans[definition.code] = Plan(True, None, exact[1], None)
            continue
        taken, start, through = [], since, None
        if by_months(definition) and since.day == 1:
            for first, last in months(since, until):
                hit = held.get((definition.code, first, last)) if last <= until else None
                if not hit:
                    break
                taken.append(hit[1])
                start, through = last + dt.timedelta(days=1), last
        plans[definition.code] = Plan(
            False,
            through,
            min(taken) if taken else None,
            (start, end) if start <= end else None,
        )
    return plans


def cells_statement(
    plans: dict[str, Plan],
    *,
    since: dt.date,
    until: dt.date,
    by: tuple[str, ...],
    districts: list[str] | None,
) -> Any:
    """The planned snapshots' cells summed to the breakdown `by`, by indicator: one range of
    periods per group of indicators (None: nothing is stored for them)."""
    cell = IndicatorCell
    chosen: list[Any] = []
    exact = [code for code, p in plans.items() if p.exact]
    if exact:
        chosen.append(
            and_(
                cell.code.in_(exact),
                cell.period_start == since,
                cell.period_end == until,
            )
        )
    by_through: dict[dt.date, list[str]] = {}
    for code, p in plans.items():
        if not p.exact and p.through is not None:
            by_through.setdefault(p.through, []).append(code)
    for through, codes in sorted(by_through.items()):
        chosen.append(
            and_(
                cell.period_start >= since,
                cell.period_start <= through,
                cell.code.in_(codes),
                cell.monthly.is_(True),
            )
        )
    if not chosen:
        return None
    columns: list[Any] = [cell.code.label("code")]
    group: list[Any] = [cell.code]
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
    # The whole range first (an index range scan of ix_indicator_cells_period), then which
    # snapshots of it each indicator reads.
    stmt = (
        select()
        .select_from(cell)
        .where(cell.period_start >= since, cell.period_start <= until, or_(*chosen))
    )
    if "category" in by:
        columns.append(cell.category.label("category"))
        group.append(cell.category)
    else:
        columns.append(literal(None).label("category"))
        # Over all categories: the rows that count a unit once (ALL), or have no category.
        stmt = stmt.where(or_(cell.category.is_(None), cell.category == ALL))
    columns += [
        func.sum(cell.numerator).label("numerator"),
        func.sum(cell.denominator).label("denominator"),
    ]
    if "institution" in by:
        stmt = stmt.outerjoin(Institution, Institution.id == cell.institution_id)
    if districts is not None:
        stmt = stmt.where(cell.district_code.in_(districts))
    return stmt.add_columns(*columns).group_by(*group)


def read(
    session: Session,
    plans: dict[str, Plan],
    *,
    since: dt.date,
    until: dt.date,
    by: tuple[str, ...],
    districts: list[str] | None,
) -> dict[str, list[dict[str, Any]]]:
    """The planned cells by indicator: one statement, whatever the number of indicators."""
    out: dict[str, list[dict[str, Any]]] = {code: [] for code in plans}
    stmt = cells_statement(plans, since=since, until=until, by=by, districts=districts)
    if stmt is None:
        return out
    for row in session.connection().execute(stmt):
        values = dict(row._mapping)
        out[values.pop("code")].append(values)
    return out


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
