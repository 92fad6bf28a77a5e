"""Compute an indicator in the database: one aggregate statement, grouped by district,
institution, month (and birth-defect category), then Wilson intervals and small-cell
suppression on the few grouped rows (backend/indicators/tables.py).

Rows are placed where the woman was registered (建册) on the row's date (the latest
registration in force then, else her latest earlier one; else her own district code), so a
woman who moved district counts where she lived when her baby was born. A city total is the
sum of its districts' cells.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ColumnElement, case, func, literal, or_, select, text, union_all
from sqlalchemy.orm import Session

from backend.access.models import Consent, ConsentPurpose
from backend.auth.models import Institution, Registration, User
from backend.indicators import populations, reads, snapshots, tables
from backend.indicators.definitions import Definition
from backend.indicators.sql import local_date, month_of
from backend.indicators.tables import wilson as wilson  # the tests' check of the interval

ALL = snapshots.ALL  # the category of the row that holds every category together


def _statement(
    definition: Definition,
    period: populations.Period,
    by: tuple[str, ...],
    districts: list[str] | None,
) -> Any:
    r = populations.rows(definition.records, period)
    registered_on = local_date(Registration.registered_at, period.offset_minutes)
    left_on = local_date(Registration.left_at, period.offset_minutes)

    def latest(*conditions: Any) -> Any:
        return (
            select(Registration.institution_id)
            .where(Registration.user_id == r.c.person_id, registered_on <= r.c.anchor, *conditions)
            .order_by(Registration.registered_at.desc())
            .limit(1)
            .correlate(r)
            .scalar_subquery()
        )

    # The registration in force on the row's date, else her latest earlier one.
    institution = func.coalesce(
        latest(or_(Registration.left_at.is_(None), left_on > r.c.anchor)), latest()
    )
    # Materialized on PostgreSQL, so that each row's registration is looked up once (inlined,
    # the planner evaluates the lookup in the join condition and again in the output).
    consenting = []
    if definition.basis == "consent":
        # Her latest decision on anonymous statistics (any channel) is a yes.
        latest_decision = (
            select(Consent.granted)
            .where(
                Consent.user_id == r.c.person_id,
                Consent.purpose == ConsentPurpose.ANONYMOUS_STATISTICS,
            )
            .order_by(Consent.at.desc())
            .limit(1)
            .correlate(r)
            .scalar_subquery()
        )
        consenting.append(latest_decision.is_(True))
    placed = (
        select(r, institution.label("institution_id"))
        .where(*consenting)
        .cte("placed")
        .prefix_with("MATERIALIZED", dialect="postgresql")
    )
    district = func.coalesce(Institution.district_code, User.district_code)

    def grouped(keys: tuple[str, ...], all_categories: bool) -> Any:
        columns: list[Any] = []
        group: list[Any] = []
        if "district" in keys or "institution" in keys:
            columns.append(district.label("district_code"))
            group.append(district)
        else:
            columns.append(literal(None).label("district_code"))
        if "institution" in keys:
            columns += [
                placed.c.institution_id.label("institution_id"),
                Institution.name.label("institution_name"),
            ]
            group += [placed.c.institution_id, Institution.name]
        else:
            columns += [
                literal(None).label("institution_id"),
                literal(None).label("institution_name"),
            ]
        if "month" in keys:
            columns.append(month_of(placed.c.anchor).label("month"))
            group.append(month_of(placed.c.anchor))
        else:
            columns.append(literal(None).label("month"))
        if all_categories:
            columns.append(literal(ALL).label("category"))
        elif "category" in keys:
            columns.append(placed.c.category.label("category"))
            group.append(placed.c.category)
        else:
            columns.append(literal(None).label("category"))
        if populations.repeats_units(definition.records):
            # Several records of one unit (a child with two defects): count the unit once.
            counts: list[ColumnElement[Any]] = [
                func.count(func.distinct(case((placed.c.num == 1, placed.c.unit)))),
                func.count(func.distinct(case((placed.c.den == 1, placed.c.unit)))),
            ]
        else:
            # One row per unit: plain sums, which PostgreSQL can hash-aggregate.
            counts = [
                func.coalesce(func.sum(placed.c.num), 0),
                func.coalesce(func.sum(placed.c.den), 0),
            ]
        columns += [counts[0].label("numerator"), counts[1].label("denominator")]
        stmt = (
            select(*columns)
            .select_from(placed)
            .outerjoin(Institution, Institution.id == placed.c.institution_id)
            .outerjoin(User, User.id == placed.c.person_id)
        )
        if districts is not None:
            stmt = stmt.where(district.in_(districts))
        return stmt.group_by(*group) if group else stmt

    if "category" in by:
        # One statement: the cells per category, and the same cells over all categories (a
        # child with two defects is one case there), from which each category's births come.
        return union_all(grouped(by, False), grouped(by, True))
    return grouped(by, False)


def _jit_off(session: Session) -> None:
    if session.get_bind().dialect.name == "postgresql":
        # The planner's cost estimates of these aggregates over a city trigger JIT compilation,
        # which costs more than the query itself at this size; it is off for this transaction.
        session.execute(text("SET LOCAL jit = off"))


def _key(row: dict[str, Any]) -> tuple[Any, ...]:
    return (row["district_code"], row["institution_id"], row["month"])


def _merge(*parts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows of the same cell (from snapshots and from the live count) added together."""
    out: dict[tuple[Any, ...], dict[str, Any]] = {}
    for part in parts:
        for row in part:
            key = (*_key(row), row["category"])
            if key in out:
                out[key]["numerator"] += row["numerator"]
                out[key]["denominator"] += row["denominator"]
            else:
                out[key] = dict(row)
    return list(out.values())


def compute_many(
    session: Session,
    *,
    definitions: list[Definition],
    since: dt.date,
    until: dt.date,
    by: tuple[str, ...],
    districts: list[str] | None,
    today: dt.date,
    offset_minutes: int,
    locale: str = "zh_CN",
    min_cell: int | None = None,
) -> dict[str, dict[str, Any]]:
    """Several indicators' tables for one period, by code: the snapshots of closed periods
    read in one statement for them all, and one live statement per indicator for what no
    snapshot covers (see backend/indicators/snapshots.py)."""
    plans, stored = reads.read(
        session, definitions, since=since, until=until, today=today, by=by, districts=districts
    )
    if any(p.live is not None for p in plans.values()):
        # Only the live statements need it: the cells' read is far below JIT's cost threshold.
        _jit_off(session)
    rules = tables.rules(locale, min_cell)
    out = {}
    for definition in definitions:
        chosen = plans[definition.code]
        raw = stored[definition.code]
        if chosen.live is not None:
            period = populations.Period(*chosen.live, today, offset_minutes)
            live = [
                dict(r._mapping)
                for r in session.execute(_statement(definition, period, by, districts))
            ]
            raw = _merge(raw, live)
        table = tables.build(definition, raw, by, rules)
        out[definition.code] = {**table, "as_of": chosen.as_of}
    return out


def compute(
    session: Session,
    *,
    definition: Definition,
    since: dt.date,
    until: dt.date,
    by: tuple[str, ...],
    districts: list[str] | None,
    today: dt.date,
    offset_minutes: int,
    locale: str = "zh_CN",
    min_cell: int | None = None,
) -> dict[str, Any]:
    """The indicator's table for the period: one cell per group, and the total of the cells;
    `as_of` is when the oldest snapshot read was taken (None: all counted live).

    `min_cell` overrides the policy's minimum cell size (tests count by hand with 0).
    """
    return compute_many(
        session,
        definitions=[definition],
        since=since,
        until=until,
        by=by,
        districts=districts,
        today=today,
        offset_minutes=offset_minutes,
        locale=locale,
        min_cell=min_cell,
    )[definition.code]


def snapshot(
    session: Session,
    definition: Definition,
    *,
    since: dt.date,
    until: dt.date,
    today: dt.date,
    offset_minutes: int,
) -> Any:
    """Take (or retake) the snapshot of a closed period: the live statement at the
    snapshot's grain, written into its cells by one INSERT … SELECT."""
    return snapshot_months(
        session, definition, [(since, until)], today=today, offset_minutes=offset_minutes
    )[0]


def snapshot_months(
    session: Session,
    definition: Definition,
    periods: list[tuple[dt.date, dt.date]],
    *,
    today: dt.date,
    offset_minutes: int,
) -> list[Any]:
    """Take the snapshots of `periods`: one period, or consecutive whole months of an
    indicator whose months add up (one statement over them all, split by month)."""
    _jit_off(session)
    period = populations.Period(periods[0][0], periods[-1][1], today, offset_minutes)
    statement = _statement(definition, period, snapshots.grain(definition), None)
    return snapshots.take(session, definition, statement, periods=periods)
