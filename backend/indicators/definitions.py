"""The indicator definitions (content/indicators/*.yaml): read, validated, looked up by code.

Each file defines one indicator: its code, titles, numerator and denominator in words and as
the records that count (`records`), the period rule, the target with its source, and the
breakdowns it supports. A broken file fails at start-up naming the file and the field.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from backend.indicators import populations

INDICATORS_DIR = Path(__file__).resolve().parents[2] / "content" / "indicators"
LOCALES = ("zh_CN", "en")
OPERATORS = ("<", "<=", ">", ">=")
BREAKDOWNS = ("district", "institution", "month", "category")
# The legal basis a count is kept on: statutory surveillance and public-health service
# reporting, or her consent to anonymous statistics (only consenting women are counted).
BASES = ("statutory", "consent")


class DefinitionError(ValueError):
    """A definition file is wrong; the message names the file and the field."""


@dataclass(frozen=True)
class Target:
    operator: str
    value: float
    source: str

    def met(self, scaled: float) -> bool:
        """Whether a rate (already multiplied by `per`) meets the target."""
        return {
            "<": scaled < self.value,
            "<=": scaled <= self.value,
            ">": scaled > self.value,
            ">=": scaled >= self.value,
        }[self.operator]


@dataclass(frozen=True)
class Definition:
    code: str
    title: dict[str, str]
    numerator: dict[str, str]
    denominator: dict[str, str]
    period: str
    period_text: dict[str, str]
    per: int
    unit: dict[str, str]
    records: dict[str, Any]
    target: Target | None
    source: str
    verified: bool
    breakdowns: tuple[str, ...]
    group: str
    basis: str
    parameters: dict[str, Any] = field(default_factory=dict)

    def text(self, what: str, locale: str) -> str:
        """A localized field (title, numerator, denominator, period_text, unit)."""
        words: dict[str, str] = getattr(self, what)
        return words.get(locale) or words["zh_CN"]


def _words(data: dict[str, Any], key: str, where: str) -> dict[str, str]:
    value = data.get(key)
    if not isinstance(value, dict) or any(not value.get(loc) for loc in LOCALES):
        raise DefinitionError(f"{where}: {key} needs zh_CN and en")
    return {loc: str(value[loc]) for loc in LOCALES}


def parse(data: dict[str, Any], *, where: str) -> Definition:
    """One definition from its YAML mapping."""
    for key in ("code", "records", "period", "source", "group", "basis"):
        if key not in data:
            raise DefinitionError(f"{where}: {key} is missing")
    records = data["records"]
    try:
        anchor = populations.validate(records)
    except (KeyError, TypeError, ValueError) as exc:
        raise DefinitionError(f"{where}: records: {exc}") from exc
    if data["period"] != anchor:
        raise DefinitionError(f"{where}: period: the records are counted by {anchor}")
    if data["basis"] not in BASES:
        raise DefinitionError(f"{where}: basis: use {' or '.join(BASES)}")
    target = None
    if data.get("target") is not None:
        raw = data["target"]
        if raw.get("operator") not in OPERATORS or not isinstance(raw.get("value"), int | float):
            raise DefinitionError(f"{where}: target: operator and a numeric value are needed")
        if not raw.get("source"):
            raise DefinitionError(f"{where}: target: source is missing")
        target = Target(str(raw["operator"]), float(raw["value"]), str(raw["source"]))
    breakdowns = tuple(data.get("breakdowns", ("district", "institution", "month")))
    if any(b not in BREAKDOWNS for b in breakdowns):
        raise DefinitionError(f"{where}: breakdowns: use {', '.join(BREAKDOWNS)}")
    if "category" in breakdowns and records.get("numerator", {}).get("population") != (
        "birth_defects"
    ):
        raise DefinitionError(f"{where}: breakdowns: category needs birth-defect records")
    return Definition(
        code=str(data["code"]),
        title=_words(data, "title", where),
        numerator=_words(data, "numerator_text", where),
        denominator=_words(data, "denominator_text", where),
        period=anchor,
        period_text=_words(data, "period_text", where),
        per=int(data.get("per", 100)),
        unit=_words(data, "unit", where),
        records=records,
        target=target,
        source=str(data["source"]),
        verified=bool(data.get("verified", False)),
        breakdowns=breakdowns,
        group=str(data["group"]),
        basis=str(data["basis"]),
        parameters=dict(data.get("parameters") or {}),
    )


def load(directory: Path = INDICATORS_DIR) -> dict[str, Definition]:
    """Every definition of the directory, by code, in file order; codes are unique."""
    out: dict[str, Definition] = {}
    for path in sorted(directory.glob("*.yaml")):
        if path.name.startswith("_"):
            continue
        with open(path, encoding="utf-8") as f:
            definition = parse(yaml.safe_load(f), where=path.name)
        if definition.code in out:
            raise DefinitionError(f"{path.name}: code {definition.code} is used twice")
        out[definition.code] = definition
    return out


@cache
def definitions() -> dict[str, Definition]:
    """The definitions, read once."""
    return load()


@cache
def policy() -> dict[str, Any]:
    """The shared rules (content/indicators/_policy.yaml): small cells, districts."""
    with open(INDICATORS_DIR / "_policy.yaml", encoding="utf-8") as f:
        data: dict[str, Any] = yaml.safe_load(f)
    return data
