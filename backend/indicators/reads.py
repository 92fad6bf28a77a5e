"""Reading the snapshots back: which snapshots a period uses per indicator (the plan), and
their cells summed to the breakdown asked for, in one round trip when the snapshots held have
not changed since this process last read the same thing.

The plan needs the list of snapshots held; the cells statement needs the plan. Rather than two
round trips, a read sends one statement: the list (always) and the cells of the selection this
process chose last time for the same read (a guess). The plan is made from the list that came
back; if its selection is the guess, the cells came with it, from the same database snapshot
as the list (a month taken again is read afresh all the same: the guess names periods, not
cells). If not (a snapshot was taken or dropped since, by any process), the cells of the right
selection are read by a second statement. A guess is never trusted: at worst it costs that
second statement, never a wrong count.

Dates and codes are written into the statements as constants (codes are content identifiers,
`^[a-z][a-z0-9_]*$`), so that the planner estimates the range of cells from the statistics
whether or not the driver has prepared the statement (psycopg does from the 5th execution): a
generic plan of a parameterized range guesses one row and sorts the year's cells instead of
hashing them, about twice as slow. The statements are built once per read shape and kept, so
SQLAlchemy neither rebuilds them nor recomputes their cache keys.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    String,
    Uuid,
    and_,
    func,
    literal_column,
    null,
    or_,
    select,
    type_coerce,
    union_all,
)
from sqlalchemy.orm import Session

from backend.auth.models import Institution
from backend.indicators.definitions import Definition
from backend.indicators.models import IndicatorCell, IndicatorSnapshot
from backend.indicators.snapshots import ALL, by_months, months

# Which snapshots feed the cells statement: (code, exact, through) of each stored indicator.
Selection = tuple[tuple[str, bool, dt.date | None], ...]
Cell = dict[str, Any]

# A read's shape (codes, period, breakdown, districts) → the selection it had last time here.
_guesses: dict[tuple[Any, ...], Selection] = {}
_GUESSES_KEPT = 512
# What `_const` writes into the SQL: indicator codes, ISO dates, the ALL category.
_CONSTANT = re.compile(r"[a-z0-9_*-]+")


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


def _const(value: str | dt.date) -> ColumnElement[Any]:
    """A code or a date written into the SQL, not sent as a parameter (see the module's
    docstring); anything else is refused, so nothing can be injected."""
    text = value.isoformat() if isinstance(value, dt.date) else value
    if not _CONSTANT.fullmatch(text):
        raise ValueError(f"not a code or a date: {value!r}")
    return literal_column(f"'{text}'")


def plan_from(
    held: Iterable[tuple[str, dt.date, dt.date, dt.datetime]],
    definitions: Iterable[Definition],
    *,
    since: dt.date,
    until: dt.date,
    today: dt.date,
) -> dict[str, Plan]:
    """Each indicator's plan for the period, from the snapshots held inside it (code, start,
    end, taken at)."""
    taken_at = {(code, start, end): at for code, start, end, at in held}
    end = min(until, today)
    spans = [m for m in months(since, until) if m[1] <= until] if since.day == 1 else []
    plans = {}
    for definition in definitions:
        code = definition.code
        exact = taken_at.get((code, since, until))
        if exact:
            plans[code] = Plan(True, None, exact, None)
            continue
        taken: list[dt.datetime] = []
        start, through = since, None
        if by_months(definition):
            for first, last in spans:
                hit = taken_at.get((code, first, last))
                if not hit:
                    break
                taken.append(hit)
                start, through = last + dt.timedelta(days=1), last
        plans[code] = Plan(
            False,
            through,
            min(taken) if taken else None,
            (start, end) if start <= end else None,
        )
    return plans


@functools.lru_cache(maxsize=64)
def _held_statement(codes: tuple[str, ...], since: dt.date, until: dt.date) -> Any:
    """The snapshots inside the period, in the columns of `_read_statement` (the cells'
    columns null; `taken_at` never null, which tells a snapshot's row from a cell's)."""
    snapshot = IndicatorSnapshot
    return select(
        snapshot.code,
        type_coerce(null(), String()),
        type_coerce(null(), Uuid()),
        type_coerce(null(), String()),
        type_coerce(null(), String()),
        type_coerce(null(), String()),
        type_coerce(null(), Integer()),
        type_coerce(null(), Integer()),
        snapshot.period_start,
        snapshot.period_end,
        snapshot.taken_at,
    ).where(
        snapshot.code.in_([_const(c) for c in codes]),
        snapshot.period_start >= _const(since),
        snapshot.period_end <= _const(until),
    )


@functools.lru_cache(maxsize=64)
def _cells_statement(
    selection: Selection,
    since: dt.date,
    until: dt.date,
    by: tuple[str, ...],
    districts: tuple[str, ...] | None,
) -> Any:
    """The selected snapshots' cells summed to the breakdown `by`, by indicator."""
    cell = IndicatorCell
    chosen: list[ColumnElement[bool]] = []
    exact = [code for code, is_exact, _ in selection if is_exact]
    if exact:
        chosen.append(
            and_(
                cell.code.in_([_const(c) for c in exact]),
                cell.period_start == _const(since),
                cell.period_end == _const(until),
            )
        )
    by_through: dict[dt.date, list[str]] = {}
    for code, is_exact, through in selection:
        if not is_exact and through is not None:
            by_through.setdefault(through, []).append(code)
    for through, codes in sorted(by_through.items()):
        upto = [] if through >= until else [cell.period_start <= _const(through)]
        chosen.append(and_(cell.code.in_([_const(c) for c in codes]), cell.monthly, *upto))
    columns: list[Any] = [cell.code]
    group: list[Any] = [cell.code]
    placed = "district" in by or "institution" in by
    columns.append(cell.district_code if placed else null())
    group += [cell.district_code] if placed else []
    if "institution" in by:
        columns += [cell.institution_id, Institution.name]
        group += [cell.institution_id, Institution.name]
    else:
        columns += [null(), null()]
    columns.append(cell.month if "month" in by else null())
    group += [cell.month] if "month" in by else []
    # The whole range first (a range scan of ix_indicator_cells_period), then which snapshots
    # of it each indicator reads.
    stmt = (
        select()
        .select_from(cell)
        .where(
            cell.period_start >= _const(since),
            cell.period_start <= _const(until),
            or_(*chosen),
        )
    )
    if "category" in by:
        columns.append(cell.category)
        group.append(cell.category)
    else:
        columns.append(null())
        # Over all categories: the rows that count a unit once (ALL), or have no category.
        stmt = stmt.where(or_(cell.category.is_(None), cell.category == _const(ALL)))
    columns += [func.sum(cell.numerator), func.sum(cell.denominator)]
    if "institution" in by:
        stmt = stmt.outerjoin(Institution, Institution.id == cell.institution_id)
    if districts is not None:
        stmt = stmt.where(cell.district_code.in_(districts))
    return stmt.add_columns(*columns).group_by(*group)


@functools.lru_cache(maxsize=64)
def _read_statement(
    codes: tuple[str, ...],
    selection: Selection,
    since: dt.date,
    until: dt.date,
    by: tuple[str, ...],
    districts: tuple[str, ...] | None,
) -> Any:
    """The snapshots held, and the cells of `selection` after them (one statement)."""
    held = _held_statement(codes, since, until)
    if not selection:
        return held
    cells = _cells_statement(selection, since, until, by, districts)
    return union_all(held, cells.add_columns(null(), null(), null()))


def selection_of(plans: dict[str, Plan]) -> Selection:
    """The snapshots the plans read, as the cells statement's key."""
    return tuple(sorted((code, p.exact, p.through) for code, p in plans.items() if p.stored))


def cells_statement(
    plans: dict[str, Plan],
    *,
    since: dt.date,
    until: dt.date,
    by: tuple[str, ...],
    districts: Sequence[str] | None,
) -> Any:
    """The planned snapshots' cells summed to the breakdown `by`, by indicator (None: nothing
    is stored for them): code, district_code, institution_id, institution_name, month,
    category, numerator, denominator."""
    selection = selection_of(plans)
    if not selection:
        return None
    return _cells_statement(
        selection, since, until, by, tuple(districts) if districts is not None else None
    )


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
    codes = tuple(d.code for d in chosen)
    rows = session.connection().execute(_held_statement(codes, since, until)).all()
    held = [(r[0], r[8], r[9], r[10]) for r in rows]
    return plan_from(held, chosen, since=since, until=until, today=today)


def read(
    session: Session,
    definitions: Sequence[Definition],
    *,
    since: dt.date,
    until: dt.date,
    today: dt.date,
    by: tuple[str, ...],
    districts: Sequence[str] | None,
) -> tuple[dict[str, Plan], dict[str, list[Cell]]]:
    """Each indicator's plan, and the cells of its snapshots summed to `by`: one statement
    when this process's guess of the selection holds, else two (see the module docstring)."""
    codes = tuple(d.code for d in definitions)
    scope = tuple(districts) if districts is not None else None
    shape = (codes, since, until, by, scope)
    guess = _guesses.get(shape, ())
    connection = session.connection()
    held: list[tuple[str, dt.date, dt.date, dt.datetime]] = []
    rows: list[Any] = []
    for row in connection.execute(_read_statement(codes, guess, since, until, by, scope)).all():
        if row[10] is None:
            rows.append(row)
        else:
            held.append((row[0], row[8], row[9], row[10]))
    plans = plan_from(held, definitions, since=since, until=until, today=today)
    selection = selection_of(plans)
    if selection != guess:
        # The snapshots changed since the guess (or none was made): read the right cells.
        rows = []
        if selection:
            rows = list(connection.execute(_cells_statement(selection, since, until, by, scope)))
        if len(_guesses) >= _GUESSES_KEPT:
            _guesses.clear()
        _guesses[shape] = selection
    out: dict[str, list[Cell]] = {code: [] for code in codes}
    for row in rows:
        out[row[0]].append(
            {
                "district_code": row[1],
                "institution_id": row[2],
                "institution_name": row[3],
                "month": row[4],
                "category": row[5],
                "numerator": row[6],
                "denominator": row[7],
            }
        )
    return plans, out
