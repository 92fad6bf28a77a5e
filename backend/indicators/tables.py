"""An indicator's table from its grouped counts: the cells in a stable order, small-cell
suppression, rates scaled by `per` and Wilson intervals, and the total.

The overview builds 22 of these per read, so each step is one pass over plain values and each
cell's dict is made once, already in its final shape.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from backend.indicators.definitions import Definition, policy
from backend.indicators.snapshots import ALL
from backend.surveillance.content import categories

# What a cell's suppression level hides (the `suppressed` list, sorted as the API shows it).
SHOWN, NUMERATOR, BOTH = 0, 1, 2


@dataclass(frozen=True)
class Rules:
    """The shared rules a read applies to every table: district names in the reader's
    language, the minimum cell size, the interval's z."""

    names: dict[str, str]
    minimum: int
    z: float


def rules(locale: str, min_cell: int | None) -> Rules:
    """The policy's rules for one read (`min_cell` overrides the minimum cell size)."""
    found = policy()
    return Rules(
        names={d["code"]: d["name"].get(locale) or d["name"]["zh_CN"] for d in found["districts"]},
        minimum=int(found["min_cell"]) if min_cell is None else min_cell,
        z=float(found["confidence_z"]),
    )


def wilson(successes: int, n: int, z: float) -> tuple[float, float] | None:
    """The Wilson score interval of a proportion (None without a denominator)."""
    if n <= 0:
        return None
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def _level(n: Any, d: Any, minimum: int) -> int:
    """Primary suppression: a denominator below `minimum` hides both counts; a numerator (or
    its complement) below it hides the numerator."""
    if d < minimum:
        return BOTH
    if n < minimum or d - n < minimum:
        return NUMERATOR
    return SHOWN


def suppress(counts: list[tuple[int, int]], total: tuple[Any, Any], minimum: int) -> list[int]:
    """Each cell's level, then the total's (last). Secondary: where a single hidden count could
    be recovered from the total's, the smallest shown one is hidden too (numerators first)."""
    levels = [_level(n, d, minimum) for n, d in counts]
    total_level = _level(*total, minimum)
    for level, field in ((NUMERATOR, 0), (BOTH, 1)):
        if total_level >= level:
            continue
        hidden = sum(1 for x in levels if x >= level)
        if hidden == 1 and hidden < len(levels):
            shown = (i for i, x in enumerate(levels) if x < level)
            levels[min(shown, key=lambda i: counts[i][field])] = level
    return [*levels, total_level]


def _cell(
    key: tuple[Any, ...], n: Any, d: Any, level: int, definition: Definition, z: float
) -> dict[str, Any]:
    """One finished cell: key is (district code, its name, institution id, institution name,
    month, category)."""
    rate = value = low = high = met = None
    if level == SHOWN and d:
        per = definition.per
        share = n / d
        rate = round(share, 6)
        value = round(share * per, 2)
        interval = wilson(n, d, z)
        if interval is not None:
            low, high = round(interval[0] * per, 2), round(interval[1] * per, 2)
        if definition.target is not None:
            met = definition.target.met(value)
    return {
        "district_code": key[0],
        "district_name": key[1],
        "institution_id": key[2],
        "institution_name": key[3],
        "month": key[4],
        "category": key[5],
        "numerator": None if level else n,
        "denominator": None if level == BOTH else d,
        "suppressed": (
            ["denominator", "numerator"] if level == BOTH else ["numerator"] if level else []
        ),
        "rate": rate,
        "value": value,
        "ci_low": low,
        "ci_high": high,
        "meets_target": met,
    }


def _key(row: dict[str, Any]) -> tuple[Any, ...]:
    return (row["district_code"], row["institution_id"], row["month"])


def _by_category(raw: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], Any, Any]:
    """Every category of every cell (zero where none was counted), the births of a cell from
    its row over all categories; and the totals (a child with two defects counted once)."""
    births = {_key(r): r["denominator"] for r in raw if r["category"] == ALL}
    overall = {_key(r): r["numerator"] for r in raw if r["category"] == ALL}
    counted = {(*_key(r), r["category"]): r["numerator"] for r in raw if r["category"] != ALL}
    cats = categories()
    rows = [
        {
            "district_code": k[0],
            "institution_id": k[1],
            "institution_name": next((r["institution_name"] for r in raw if _key(r) == k), None),
            "month": k[2],
            "category": c.code,
            "numerator": counted.get((*k, c.code), 0),
            "denominator": d,
        }
        for k, d in sorted(births.items(), key=lambda kv: tuple(str(x) for x in kv[0]))
        for c in (*cats.items, cats.other)
    ]
    return rows, sum(overall.values()), sum(births.values())


def build(
    definition: Definition, raw: list[dict[str, Any]], by: tuple[str, ...], rules: Rules
) -> dict[str, Any]:
    """The indicator's table: one cell per group (groups with no count left out), and the
    total of the cells."""
    if "category" in by:
        raw, total_n, total_d = _by_category(raw)
    else:
        raw = [r for r in raw if r["denominator"] or r["numerator"]]
        total_n = sum(r["numerator"] for r in raw)
        total_d = sum(r["denominator"] for r in raw)
    raw.sort(
        key=lambda r: (
            str(r["district_code"] or ""),
            str(r["institution_name"] or ""),
            str(r["month"] or ""),
            str(r["category"] or ""),
        )
    )
    counts = [(int(r["numerator"]), int(r["denominator"])) for r in raw]
    levels = suppress(counts, (total_n, total_d), rules.minimum)
    names, z = rules.names, rules.z
    rows = [
        _cell(
            (
                r["district_code"],
                names.get(r["district_code"]) if r["district_code"] else None,
                r["institution_id"],
                r["institution_name"],
                r["month"],
                r["category"],
            ),
            n,
            d,
            level,
            definition,
            z,
        )
        for r, (n, d), level in zip(raw, counts, levels, strict=False)
    ]
    total = _cell((None,) * 6, total_n, total_d, levels[-1], definition, z)
    return {"rows": rows, "total": total}
