"""The indicators a bureau reads: definitions in the reader's language, tables with the
bureau's district scope applied, CSV. No flask here; routes check roles and audit."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

from sqlalchemy.orm import Session

from backend.errors import NotFound, invalid
from backend.i18n import _l
from backend.indicators import engine
from backend.indicators.definitions import Definition, definitions, policy


def describe(definition: Definition, *, locale: str) -> dict[str, Any]:
    """The definition in the reader's language."""
    target = definition.target
    return {
        "code": definition.code,
        "group": definition.group,
        "basis": definition.basis,
        "title": definition.text("title", locale),
        "numerator": definition.text("numerator", locale),
        "denominator": definition.text("denominator", locale),
        "period": definition.period,
        "period_text": definition.text("period_text", locale),
        "per": definition.per,
        "unit": definition.text("unit", locale),
        "target": (
            {"operator": target.operator, "value": target.value, "source": target.source}
            if target
            else None
        ),
        "source": definition.source,
        "verified": definition.verified,
        "breakdowns": list(definition.breakdowns),
    }


def list_(*, locale: str) -> list[dict[str, Any]]:
    """Every indicator, in file order."""
    return [describe(d, locale=locale) for d in definitions().values()]


def get(code: str) -> Definition:
    """The definition, or 404."""
    definition = definitions().get(code)
    if definition is None:
        raise NotFound(_l("No such indicator."))
    return definition


def scope(allowed: list[str] | None, district: str | None) -> list[str] | None:
    """The districts to count: the reader's scope narrowed to `district` (another district is
    not hers: 404)."""
    if district is None:
        return allowed
    if allowed is not None and district not in allowed:
        raise NotFound(_l("No such district among yours."))
    return [district]


def table(
    session: Session,
    *,
    code: str,
    since: dt.date,
    until: dt.date,
    by: str,
    district: str | None,
    allowed: list[str] | None,
    today: dt.date,
    offset_minutes: int,
    locale: str,
) -> dict[str, Any]:
    """The indicator's table for the period (one aggregate statement)."""
    definition = get(code)
    keys = tuple(p for p in by.split(",") if p and p != "total")
    if any(k not in definition.breakdowns for k in keys):
        raise invalid("by", _l("This indicator is not broken down that way."))
    result = engine.compute(
        session,
        definition=definition,
        since=since,
        until=until,
        by=keys,
        districts=scope(allowed, district),
        today=today,
        offset_minutes=offset_minutes,
        locale=locale,
    )
    return {
        **describe(definition, locale=locale),
        "from": since,
        "to": until,
        "by": list(keys),
        "district": district,
        "min_cell": int(policy()["min_cell"]),
        **result,
    }


def overview(
    session: Session,
    *,
    since: dt.date,
    until: dt.date,
    district: str | None,
    allowed: list[str] | None,
    today: dt.date,
    offset_minutes: int,
    locale: str,
) -> dict[str, Any]:
    """Every indicator by district with its total, target and met-ness: the snapshots of the
    period read in one statement for them all, and one live statement per indicator for what
    no snapshot covers (a bounded number, whatever the city's size)."""
    chosen = scope(allowed, district)
    tables = engine.compute_many(
        session,
        definitions=list(definitions().values()),
        since=since,
        until=until,
        by=("district",),
        districts=chosen,
        today=today,
        offset_minutes=offset_minutes,
        locale=locale,
    )
    rules = policy()
    return {
        "from": since,
        "to": until,
        "district": district,
        "min_cell": int(rules["min_cell"]),
        "districts": [
            {"code": d["code"], "name": d["name"].get(locale) or d["name"]["zh_CN"]}
            for d in rules["districts"]
            if chosen is None or d["code"] in chosen
        ],
        "indicators": [
            {**describe(d, locale=locale), **tables[d.code]} for d in definitions().values()
        ],
    }


CSV_COLUMNS = (
    "district_code",
    "district_name",
    "institution_name",
    "month",
    "category",
    "numerator",
    "denominator",
    "value",
    "ci_low",
    "ci_high",
    "meets_target",
)


def to_csv(body: dict[str, Any]) -> str:
    """The table as CSV (UTF-8 with BOM so spreadsheet programs read the Chinese names);
    hidden counts read "<5"."""
    hidden = f"<{body['min_cell']}"
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["indicator", *CSV_COLUMNS])
    for cell in [*body["rows"], {**body["total"], "district_name": "total"}]:
        row = []
        for column in CSV_COLUMNS:
            value = cell.get(column)
            if column in cell.get("suppressed", ()) or (
                column in ("value", "ci_low", "ci_high")
                and "numerator" in cell.get("suppressed", ())
            ):
                value = hidden
            row.append("" if value is None else value)
        writer.writerow([body["code"], *row])
    return out.getvalue()
