"""Care protocols as typed, validated data: what content/protocols/*.yaml may say, once loaded.

Parsing and validation live in backend.care.loading; this module holds the shapes every other
module reads, plus the pure helpers that check and interpret a result against its item.
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from backend.care.offsets import Offset
from backend.conditions import (
    AllOf,
    AnyOf,
    Not,
    Source,
    Text,
    compare,
)
from backend.content.yamlfile import ContentFileError

CONTENT_DIR = Path(__file__).resolve().parents[2] / "content" / "protocols"

KINDS = ("woman", "pregnancy", "child")
RISK_COLOURS = ("green", "yellow", "orange", "red", "purple")
SEXES = ("female", "male")
INTERPRETATIONS = ("normal", "abnormal", "critical")
SEVERITY = {"normal": 0, "abnormal": 1, "critical": 2}
LOCALES = ("zh_CN", "en")
ACTORS = ("family", "staff")
AGE_BASES = ("chronological", "corrected")
FIELD_TYPES = ("number", "integer", "enum", "text", "ratio", "boolean")
SIDES = ("left", "right")

# The dates a subject of each kind can hold; a step may also count from another step's result.
ANCHORS: Mapping[str, tuple[str, ...]] = {
    "woman": (
        "plan_date",
        "marriage_registration",
        "lmp",
        "edd",
        "pregnancy_end",
        "insertion",
        "last_period",
    ),
    "pregnancy": (
        "lmp",
        "edd",
        "birth",
        "discharge",
        "risk_assessment",
        "pregnancy_end",
        "enrolment",
    ),
    # A child's `lmp` is birth − gestational age at birth: postmenstrual age counts from it.
    "child": ("birth", "discharge", "lmp"),
}


class ProtocolError(ContentFileError):
    """A protocol file is broken; the message names the file, the item and the field."""


@dataclass(frozen=True)
class Window:
    """Offsets from the anchor: the window opens, is on time until `due`, closes after `closes`."""

    opens: Offset
    due: Offset
    closes: Offset

    def as_text(self) -> dict[str, str]:
        """The offsets as written in the file."""
        return {"opens": self.opens.text, "due": self.due.text, "closes": self.closes.text}


@dataclass(frozen=True)
class FieldTest:
    """A comparison on one result field: `haemoglobin_g_l below 110`."""

    field: str
    op: str
    value: Any


@dataclass(frozen=True)
class StepTest:
    """The latest result among `steps`, optionally required to have an interpretation or value."""

    steps: tuple[str, ...]
    interpretations: tuple[str, ...] | None = None
    test: FieldTest | None = None


@dataclass(frozen=True)
class NamedAnchor:
    """Count from the first of these subject dates that is known (`[discharge, birth]`)."""

    names: tuple[str, ...]


@dataclass(frozen=True)
class StepAnchor:
    """Count from the day another step's (matching) result was recorded."""

    step: StepTest


Anchor = NamedAnchor | StepAnchor


# --- conditions: a small declarative vocabulary; `raw` keeps the YAML for reasons ---


@dataclass(frozen=True)
class RiskColourIn:
    colours: tuple[str, ...]
    raw: Any = field(default=None, compare=False)


@dataclass(frozen=True)
class Preterm:
    value: bool
    raw: Any = field(default=None, compare=False)


@dataclass(frozen=True)
class GaAtBirthBelow:
    days: int
    raw: Any = field(default=None, compare=False)


@dataclass(frozen=True)
class EnrolledFromGa:
    """The pregnancy entered the handbook at this gestational age or later (late booking)."""

    days: int
    raw: Any = field(default=None, compare=False)


@dataclass(frozen=True)
class MotherAgeAtEddAtLeast:
    """The woman is at least this old (completed years) on the EDD."""

    years: int
    raw: Any = field(default=None, compare=False)


@dataclass(frozen=True)
class BirthWeightBelow:
    grams: int
    raw: Any = field(default=None, compare=False)


@dataclass(frozen=True)
class SexIs:
    sex: str
    raw: Any = field(default=None, compare=False)


@dataclass(frozen=True)
class BornOnOrAfter:
    date: dt.date
    raw: Any = field(default=None, compare=False)


@dataclass(frozen=True)
class BornBefore:
    date: dt.date
    raw: Any = field(default=None, compare=False)


@dataclass(frozen=True)
class FlagIn:
    name: str
    values: tuple[Any, ...]
    raw: Any = field(default=None, compare=False)


@dataclass(frozen=True)
class ChoiceIs:
    group: str
    option: str
    raw: Any = field(default=None, compare=False)


@dataclass(frozen=True)
class Done:
    step: str
    raw: Any = field(default=None, compare=False)


@dataclass(frozen=True)
class ResultOf:
    step: StepTest
    raw: Any = field(default=None, compare=False)


Condition = (
    AllOf["Condition"]
    | AnyOf["Condition"]
    | Not["Condition"]
    | RiskColourIn
    | Preterm
    | GaAtBirthBelow
    | EnrolledFromGa
    | MotherAgeAtEddAtLeast
    | BirthWeightBelow
    | SexIs
    | BornOnOrAfter
    | BornBefore
    | FlagIn
    | ChoiceIs
    | Done
    | ResultOf
)


@dataclass(frozen=True)
class Interval:
    """This step does not open before `after` was done plus `at_least` (vaccine intervals)."""

    after: str
    at_least: Offset


@dataclass(frozen=True)
class Part:
    """One component of a step (a test at a visit, one of the 19 pre-pregnancy items)."""

    code: str
    title: Text
    required: bool = True
    sexes: tuple[str, ...] = ()
    note: str | None = None
    verified: bool | None = None


@dataclass(frozen=True)
class ResultField:
    """A typed value a doctor may log for a step, with its plausible range."""

    name: str
    type: str
    label: Text | None = None
    unit: str | None = None
    min: float | None = None
    max: float | None = None
    values: tuple[Any, ...] = ()
    per_side: bool = False
    required: bool = False


@dataclass(frozen=True)
class Rule:
    """If the field test holds, the result is at least this interpretation."""

    test: FieldTest
    then: str
    note: str | None = None
    verified: bool | None = None


@dataclass(frozen=True)
class Item:
    """One schedulable thing of a programme, for one kind of subject."""

    code: str
    programme: str
    kind: str
    anchor: Anchor
    window: Window
    title: Text
    why: Text
    source: Source
    verified: bool
    path: str
    when: Condition | None = None
    age: str = "chronological"
    intervals: tuple[Interval, ...] = ()
    after_end: bool = False
    optional: bool = False
    actor: str = "family"
    parts: tuple[Part, ...] = ()
    results: tuple[ResultField, ...] = ()
    interpretation: tuple[Rule, ...] = ()
    note: str | None = None
    # Alternative (anchor, window) pairs: the window that opens last applies ("4–6 weeks after
    # birth or 31–32 weeks postmenstrual age, whichever is later").
    later_of: tuple[tuple[NamedAnchor, Window], ...] = ()
    # With an anchor list ([discharge, birth]): the window used when counting from a later name
    # because the first is not known yet (the birth while the discharge date is not recorded).
    window_if_fallback: Window | None = None
    # A clinician's sign-off when verified (who, when, document and page), for the API.
    signoff: Mapping[str, str] | None = None

    @property
    def title_key(self) -> str:
        """The message id for the title, for catalogues that translate beyond the file."""
        return f"care.{self.code}.title"

    @property
    def why_key(self) -> str:
        """The message id for the explanation."""
        return f"care.{self.code}.why"

    def result_field(self, name: str) -> ResultField | None:
        """The declared result field called `name`, if any."""
        return next((f for f in self.results if f.name == name), None)


@dataclass(frozen=True)
class ChoiceGroup:
    """Alternative products chosen per subject (JE-L or JE-I), with the default."""

    name: str
    options: tuple[str, ...]
    default: str
    note: str | None = None


@dataclass(frozen=True)
class ProtocolVersion:
    """One version of a programme: its items as in force from `effective_from` to `effective_to`."""

    programme: str
    version: str
    effective_from: dt.date
    effective_to: dt.date | None
    title: Text
    source: Source
    path: str
    items: Mapping[str, Item]
    choices: Mapping[str, ChoiceGroup] = field(default_factory=dict)
    extends: str | None = None
    note: str | None = None

    def in_force(self, day: dt.date) -> bool:
        """True when this version applies on `day`."""
        return self.effective_from <= day and (
            self.effective_to is None or day <= self.effective_to
        )


@dataclass(frozen=True)
class FlagDefinition:
    """A declared subject flag (mother_hbsag) and the values it may take."""

    name: str
    values: tuple[Any, ...]
    title: Text | None = None


@dataclass(frozen=True)
class Definitions:
    """The few definitions the engine needs to read the programmes (term, preterm, flags)."""

    version: str
    term_gestation: Offset
    preterm_below: Offset
    flags: Mapping[str, FlagDefinition]
    path: str


@dataclass(frozen=True)
class ProtocolSet:
    """Every programme, each with its versions in date order, plus the shared definitions."""

    definitions: Definitions
    programmes: Mapping[str, tuple[ProtocolVersion, ...]]

    def versions(self, programme: str) -> tuple[ProtocolVersion, ...]:
        """The versions of a programme, oldest first."""
        return self.programmes[programme]

    def codes(self) -> list[str]:
        """Every item code, each once."""
        seen: dict[str, None] = {}
        for versions in self.programmes.values():
            for version in versions:
                seen.update(dict.fromkeys(version.items))
        return list(seen)

    def item(self, code: str, on: dt.date | None = None) -> Item:
        """The item `code` as in force `on` that day (default: its latest version; before its
        first version, the first). The first programme holding the code answers."""
        dates, items = self._by_code[code]
        if on is None:
            return items[-1]
        return items[max(bisect.bisect_right(dates, on) - 1, 0)]

    @functools.cached_property
    def _by_code(self) -> dict[str, tuple[list[dt.date], list[Item]]]:
        """Each code's versions' start dates and items, built once: a schedule page, a sync's
        planning and the dispatcher's rendering look items up per step."""
        index: dict[str, tuple[list[dt.date], list[Item]]] = {}
        for versions in self.programmes.values():
            for code in {c for v in versions for c in v.items}:
                if code in index:  # the first programme holding a code wins
                    continue
                holding = [v for v in versions if code in v.items]
                index[code] = (
                    [v.effective_from for v in holding],
                    [v.items[code] for v in holding],
                )
        return index

    @functools.cached_property
    def version(self) -> str:
        """Every programme's versions (part of a schedule's ETag: its titles come from them)."""
        return ",".join(
            f"{name}@{v.version}:{v.effective_from}"
            for name, versions in self.programmes.items()
            for v in versions
        )


# --- results: check a doctor's values against an item, and interpret them ---


def parse_ratio(value: Any) -> float:
    """'1/270' or '1:270' as a number (1/270); raise ValueError otherwise."""
    if isinstance(value, bool):
        raise ValueError("not a ratio")
    if isinstance(value, int | float):
        return float(value)
    text = str(value).replace(":", "/").replace(" ", "")
    numerator, _, denominator = text.partition("/")
    num, den = float(numerator), float(denominator)
    if den <= 0 or num < 0:
        raise ValueError("not a ratio")
    return num / den


def _check_scalar(spec: ResultField, value: Any) -> str | None:
    """An error message for one value of `spec`, or None when it is acceptable."""
    if spec.type == "boolean":
        return None if isinstance(value, bool) else "must be true or false"
    if spec.type == "text":
        return None if isinstance(value, str) else "must be text"
    if spec.type == "enum":
        return None if value in spec.values else f"must be one of {list(spec.values)}"
    if spec.type == "ratio":
        try:
            number = parse_ratio(value)
        except (TypeError, ValueError):
            return "must be a ratio such as 1/270"
    elif spec.type == "integer":
        if isinstance(value, bool) or not isinstance(value, int):
            return "must be a whole number"
        number = float(value)
    else:
        if isinstance(value, bool) or not isinstance(value, int | float):
            return "must be a number"
        number = float(value)
    if spec.min is not None and number < spec.min:
        return f"must be at least {spec.min:g}" + (f" {spec.unit}" if spec.unit else "")
    if spec.max is not None and number > spec.max:
        return f"must be at most {spec.max:g}" + (f" {spec.unit}" if spec.unit else "")
    return None


def check_result(item: Item, values: Mapping[str, Any]) -> dict[str, str]:
    """Field → message for every impossible or unknown value (empty when the result is valid)."""
    errors: dict[str, str] = {}
    declared = {f.name: f for f in item.results}
    for name in values:
        if name not in declared:
            errors[name] = "unknown field for this step"
    for name, spec in declared.items():
        if name not in values or values[name] is None:
            if spec.required:
                errors[name] = "required"
            continue
        value = values[name]
        if spec.per_side:
            if not isinstance(value, Mapping) or not value or set(value) - set(SIDES):
                errors[name] = "must give a value per side: {left: ..., right: ...}"
                continue
            for side, side_value in value.items():
                message = _check_scalar(spec, side_value)
                if message:
                    errors[f"{name}.{side}"] = message
        else:
            message = _check_scalar(spec, value)
            if message:
                errors[name] = message
    return errors


def _comparable(spec: ResultField | None, value: Any) -> Any:
    if spec is not None and spec.type == "ratio":
        return parse_ratio(value)
    return value


def field_test_holds(test: FieldTest, spec: ResultField | None, value: Any) -> bool:
    """Whether the test holds for a recorded value (any side, for per-side fields)."""
    if isinstance(value, Mapping):
        return any(field_test_holds(test, spec, v) for v in value.values())
    if value is None:
        return False
    try:
        left = _comparable(spec, value)
        right = (
            tuple(_comparable(spec, v) for v in test.value)
            if test.op == "in"
            else _comparable(spec, test.value)
        )
        return compare(test.op, left, right)
    except (TypeError, ValueError):
        return False


def interpret(item: Item, values: Mapping[str, Any]) -> str | None:
    """The most severe interpretation the item's rules give, 'normal' if none fires.

    None when the item has no rules or none of their fields was recorded: the doctor then
    records the interpretation. A doctor's own interpretation always wins over this one.
    """
    if not item.interpretation:
        return None
    seen_any = False
    worst = "normal"
    for rule in item.interpretation:
        value = values.get(rule.test.field)
        if value is None:
            continue
        seen_any = True
        if (
            field_test_holds(rule.test, item.result_field(rule.test.field), value)
            and SEVERITY[rule.then] > SEVERITY[worst]
        ):
            worst = rule.then
    return worst if seen_any else None
