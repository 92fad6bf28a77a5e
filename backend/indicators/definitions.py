"""The indicator definitions (content/indicators/*.yaml): parsed, checked, looked up by code.

The content layer (backend/content) reads and validates the files at start-up; this module
turns them into definitions there too (init_app), never on a first request.

Each file defines one indicator: its code, titles, numerator and denominator in words and as
the records that count (`records`), the period rule, the target with its source, and the
breakdowns it supports. A broken file fails at start-up naming the file and the field.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import Flask, current_app, has_app_context

from backend import content
from backend.indicators import populations

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


def build(files: dict[str, Any]) -> dict[str, Definition]:
    """Every definition, by code, in file-name order (files: name → mapping, as the content
    layer read them); codes are unique."""
    out: dict[str, Definition] = {}
    for name, data in sorted(files.items()):
        definition = parse(data, where=name)
        if definition.code in out:
            raise DefinitionError(f"{name}: code {definition.code} is used twice")
        out[definition.code] = definition
    return out


@dataclass(frozen=True)
class Indicators:
    """The definitions and the shared rules, parsed from what the content layer validated."""

    definitions: dict[str, Definition]
    policy: dict[str, Any]


_parsed: tuple[content.LoadedContent, Indicators] | None = None


def init_app(app: Flask) -> Indicators:
    """Parse the definitions at start-up from the content create_app validated, into the app;
    a broken definition stops the app here, naming the file and the field."""
    found = _of(content.loaded())
    app.extensions["indicators"] = found
    return found


def _of(loaded: content.LoadedContent) -> Indicators:
    global _parsed
    if _parsed is None or _parsed[0] is not loaded:
        found = Indicators(
            definitions=build(loaded.data["indicators.definitions"]),
            policy=dict(loaded.data["indicators.policy"]),
        )
        _parsed = (loaded, found)
    return _parsed[1]


def _current() -> Indicators:
    """The app's definitions in a request; else those of the content create_app loaded
    (engines and jobs run outside a request)."""
    if has_app_context() and "indicators" in current_app.extensions:
        found: Indicators = current_app.extensions["indicators"]
        return found
    return _of(content.loaded())


def definitions() -> dict[str, Definition]:
    """The definitions, by code."""
    return _current().definitions


def policy() -> dict[str, Any]:
    """The shared rules (content/indicators/_policy.yaml): small cells, districts, snapshots."""
    return _current().policy
