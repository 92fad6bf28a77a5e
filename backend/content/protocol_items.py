"""One item of a care protocol file (`items:`), typed: anchor, window, intervals, parts, result
fields and interpretation rules (its `when:` tree: protocol_when.py; field types:
protocol_fields.py), so the JSON Schema of content/protocols/*.yaml shows every item.

What an item cannot know alone (its subject kind's conditions and anchors, the flags of
definitions.yaml, the steps and choice groups it names) is checked by backend/care/item_checks.py
on these models. Messages are the ones editors know from the earlier hand-written reader.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    StrictBool,
    Tag,
    model_validator,
)

from backend.content.common import Strict, at, offset_of
from backend.content.protocol_fields import (
    NUMERIC,
    SEXES,
    CareSourceRef,
    Note,
    OffsetText,
    Sex,
    Signed,
    StepCode,
    Text,
    one_of,
    optional,
)
from backend.content.protocol_when import RuleTest, StepTestSpec, When, fits

# --- the parts of an item ---


def _anchor_shape(value: Any) -> str | None:
    if isinstance(value, str):
        return "=name"
    if isinstance(value, list):
        return "=names"
    return "=step" if isinstance(value, dict) else None


AnchorName = Literal[
    "plan_date",
    "marriage_registration",
    "lmp",
    "edd",
    "pregnancy_end",
    "insertion",
    "last_period",
    "birth",
    "discharge",
    "risk_assessment",
    "enrolment",
]


def _names(value: Any) -> Any:
    if isinstance(value, list) and not value:
        raise ValueError("must name at least one date")
    return value


Anchor = Annotated[
    Annotated[AnchorName, Tag("=name")]
    | Annotated[list[AnchorName], BeforeValidator(_names), Tag("=names")]
    | Annotated[StepTestSpec, Tag("=step")],
    Discriminator(
        _anchor_shape,
        custom_error_type="anchor_type",
        custom_error_message="must be a date name, a list of names, or {step: ...}",
    ),
]


class WindowSpec(Strict):
    """opens / due / closes offsets from the anchor; due defaults to closes; they run forward."""

    opens: OffsetText
    due: OffsetText | None = None
    closes: OffsetText

    @model_validator(mode="after")
    def _forward(self) -> WindowSpec:
        opens, closes = offset_of(self.opens), offset_of(self.closes)
        due = offset_of(self.due) if self.due is not None else closes
        if not opens.approx_days <= due.approx_days <= closes.approx_days:
            raise ValueError(f"must run forward: opens ({opens}) ≤ due ({due}) ≤ closes ({closes})")
        return self


def _date_names(value: Any) -> Any:
    if isinstance(value, dict):
        raise ValueError("must name a date, not another step")
    return _names(value)


class LaterOf(Strict):
    """An alternative window on another named date; the one that opens last applies."""

    anchor: Annotated[AnchorName | list[AnchorName], BeforeValidator(_date_names)]
    window: WindowSpec


class IntervalSpec(Strict):
    """A minimum interval after another step (vaccine doses)."""

    after: StepCode
    at_least: OffsetText

    @model_validator(mode="after")
    def _positive(self) -> IntervalSpec:
        if offset_of(self.at_least).approx_days <= 0:
            raise at("at_least", "must be a positive interval")
        return self


class PartSpec(Signed):
    """A component of a step (a test at a visit, an item of a check)."""

    code: StepCode
    title: Text
    required: StrictBool = True
    sexes: Annotated[
        list[Sex],
        BeforeValidator(one_of(SEXES, many=True), json_schema_input_type=Sex | list[Sex]),
    ] = Field(default_factory=list)
    note: Note = None
    verified: StrictBool | None = None


class ResultFieldSpec(Strict):
    """A typed result field a doctor may log, with a plausible range."""

    name: StepCode
    type: Literal["number", "integer", "enum", "text", "ratio", "boolean"]
    label: Text | None = None
    unit: Note = None
    min: Annotated[float | int | None, optional(lambda v: _real(v))] = None
    max: Annotated[float | int | None, optional(lambda v: _real(v))] = None
    values: list[Any] | None = None
    per_side: StrictBool = False
    required: StrictBool = False

    @model_validator(mode="after")
    def _consistent(self) -> ResultFieldSpec:
        if self.type == "enum" and not self.values:
            raise at("values", "an enum needs its list of values")
        if self.type != "enum" and "values" in self.model_fields_set:
            raise at("values", "only an enum field lists values")
        if (self.min is not None or self.max is not None) and self.type not in NUMERIC:
            raise ValueError("min and max apply to number, integer and ratio fields only")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise at("min", f"is above max ({self.min:g} > {self.max:g})")
        return self


def _real(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"must be a number, not {value!r}")
    return float(value)


class RuleSpec(Signed):
    """An interpretation rule reading one of the item's result fields."""

    when: RuleTest
    then: Literal["normal", "abnormal", "critical"]
    note: Note = None
    verified: StrictBool | None = None


def _one_or_list(value: Any) -> str | None:
    if isinstance(value, list):
        return "=list"
    return "=one" if isinstance(value, dict) else None


Intervals = Annotated[
    Annotated[IntervalSpec, Tag("=one")] | Annotated[list[IntervalSpec], Tag("=list")],
    Discriminator(
        _one_or_list,
        custom_error_type="interval_type",
        custom_error_message="must be a mapping (key: value lines)",
    ),
]


def _nonempty(message: str) -> BeforeValidator:
    def check(value: Any) -> Any:
        if value is not None and (not isinstance(value, list) or not value):
            raise ValueError(message)
        return value

    return BeforeValidator(check)


def _defaults_may_fill(schema: dict[str, Any]) -> None:
    """In a file, `kind` and `anchor` may come from its `defaults:` (the schema's view)."""
    schema["required"] = [k for k in schema.get("required", ()) if k not in ("kind", "anchor")]


class ItemSpec(Signed):
    """One step of a programme (the file's `defaults:` merged in)."""

    model_config = ConfigDict(json_schema_extra=_defaults_may_fill)

    code: StepCode
    kind: Literal["woman", "pregnancy", "child"]
    anchor: Anchor
    window: WindowSpec
    when: When | None = None
    age: Literal["chronological", "corrected"] = "chronological"
    min_interval: Intervals | None = None
    later_of: Annotated[
        list[LaterOf] | None,
        _nonempty("must be a non-empty list of {anchor: ..., window: ...}"),
    ] = None
    window_if_fallback: WindowSpec | None = None
    after_end: StrictBool = False
    optional: StrictBool = False
    actor: Literal["family", "staff"] = "family"
    title: Text
    why: Text
    parts: Annotated[list[PartSpec] | None, _nonempty("must be a list")] = None
    results: Annotated[
        list[ResultFieldSpec] | None, _nonempty("must be a non-empty list of fields")
    ] = None
    interpretation: Annotated[
        list[RuleSpec] | None, _nonempty("must be a non-empty list of rules")
    ] = None
    source: CareSourceRef | None = None  # else the file's (ProtocolFile.source_of)
    verified: StrictBool
    note: Note = None

    @model_validator(mode="after")
    def _whole(self) -> ItemSpec:
        if self.age == "corrected" and (self.kind != "child" or self.anchor != "birth"):
            raise at("age", "corrected age applies to child items anchored on birth only")
        if not self.verified and self.note is None:
            raise at("note", "required when verified is false: say what is uncertain and why")
        if self.window_if_fallback is not None and not (
            isinstance(self.anchor, list) and len(self.anchor) >= 2
        ):
            raise at("window_if_fallback", "needs an anchor list such as [discharge, birth]")
        for i, interval in enumerate(self.intervals()):
            if interval.after == self.code:
                where = (
                    f"min_interval.{i}" if isinstance(self.min_interval, list) else "min_interval"
                )
                raise at(f"{where}.after", "a step cannot follow itself")
        self._unique([p.code for p in self.parts or ()], "parts", "code", "part")
        self._unique([f.name for f in self.results or ()], "results", "name", "field")
        self._rules()
        return self

    def intervals(self) -> list[IntervalSpec]:
        found = self.min_interval
        return [] if found is None else found if isinstance(found, list) else [found]

    @staticmethod
    def _unique(codes: list[str], where: str, key: str, noun: str) -> None:
        for i, code in enumerate(codes):
            if code in codes[:i]:
                raise at(f"{where}.{i}.{key}", f"duplicate {noun} {code!r}")

    def _rules(self) -> None:
        if self.interpretation is None:
            return
        if not self.results:
            raise at("interpretation", "needs `results:` to declare the fields it reads")
        for i, rule in enumerate(self.interpretation):
            test = rule.when
            spec = next((f for f in self.results if f.name == test.field), None)
            where = f"interpretation.{i}.when"
            if spec is None:
                raise at(f"{where}.field", f"{test.field!r} is not declared in results")
            op = test.comparators()[0]
            wrong = fits(op, test.limit(op), spec.type, tuple(spec.values or ()), spec.name)
            if wrong:
                raise at(f"{where}.{op}", wrong)
