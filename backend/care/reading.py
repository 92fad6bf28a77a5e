"""Read one protocol item from YAML data into typed values, naming the field of any problem."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from backend.care.offsets import Offset, parse_offset
from backend.care.protocols import (
    ACTORS,
    AGE_BASES,
    ANCHORS,
    FIELD_TYPES,
    INTERPRETATIONS,
    KINDS,
    LOCALES,
    RISK_COLOURS,
    SEXES,
    Anchor,
    BirthWeightBelow,
    BornBefore,
    BornOnOrAfter,
    ChoiceIs,
    Condition,
    Definitions,
    Done,
    EnrolledFromGa,
    FieldTest,
    FlagIn,
    GaAtBirthBelow,
    Interval,
    Item,
    MotherAgeAtEddAtLeast,
    NamedAnchor,
    Part,
    Preterm,
    ResultField,
    ResultOf,
    RiskColourIn,
    Rule,
    SexIs,
    StepAnchor,
    StepTest,
    Window,
    parse_ratio,
)
from backend.conditions import COMPARATORS, AllOf, AnyOf, Not, Source, Text

CODE = re.compile(r"^[a-z][a-z0-9_]*$")
SOURCE_ID = re.compile(r"^([a-z][a-z0-9-]*:)?(C\d+|M!?|EXT)$")
ITEM_KEYS = {
    "code",
    "kind",
    "anchor",
    "window",
    "when",
    "age",
    "min_interval",
    "later_of",
    "window_if_fallback",
    "after_end",
    "optional",
    "actor",
    "title",
    "why",
    "parts",
    "results",
    "interpretation",
    "source",
    "verified",
    "note",
}
DEFAULT_KEYS = {"kind", "anchor", "age", "actor", "optional", "after_end", "source"}
# Which subject kinds a condition can be true for: a guard against conditions that never hold.
CONDITION_KINDS = {
    "risk_colour_in": {"pregnancy"},
    "preterm": {"child"},
    "ga_at_birth_below": {"child"},
    "enrolled_from_ga": {"pregnancy"},
    "mother_age_at_edd_at_least": {"pregnancy"},
    "birth_weight_below_g": {"child"},
    "sex": {"child"},
    "born_on_or_after": {"child"},
    "born_before": {"child"},
}
NUMERIC = ("number", "integer", "ratio")


class Invalid(Exception):
    """One problem in one field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


# --- small typed readers; each raises Invalid naming the field ---


def read_mapping(value: Any, name: str) -> Mapping[str, Any]:
    """A mapping, or an error that says so (YAML lists and scalars look alike to editors)."""
    if not isinstance(value, Mapping):
        raise Invalid(name, "must be a mapping (key: value lines)")
    return value


# A clinician's sign-off, next to `verified` wherever it may stand (checked by backend.review).
VERIFICATION_KEYS = frozenset({"verified_by", "verified_on", "verified_in"})


def check_keys(data: Mapping[str, Any], allowed: set[str], required: set[str], prefix: str) -> None:
    """Refuse unknown keys (typos would otherwise be ignored) and require the needed ones.

    Wherever `verified` is allowed, so is the sign-off that makes it true (VERIFICATION_KEYS).
    """
    if "verified" in allowed:
        allowed = allowed | VERIFICATION_KEYS
    for key in data:
        if key not in allowed:
            raise Invalid(f"{prefix}{key}", f"unknown field; allowed: {', '.join(sorted(allowed))}")
    for key in sorted(required):
        if key not in data or data[key] is None:
            raise Invalid(f"{prefix}{key}", "required")


def read_string(value: Any, name: str) -> str:
    """Non-empty text."""
    if not isinstance(value, str) or not value.strip():
        raise Invalid(name, "must be non-empty text")
    return value


def read_code(value: Any, name: str) -> str:
    """A stable code: lowercase letters, digits and underscores, as stored in the database."""
    if not isinstance(value, str) or not CODE.match(value):
        raise Invalid(name, f"must be a code of lowercase letters, digits and '_', not {value!r}")
    return value


def read_codes(value: Any, name: str) -> tuple[str, ...]:
    """One code or a list of codes."""
    items = value if isinstance(value, list) else [value]
    if not items:
        raise Invalid(name, "must name at least one step")
    return tuple(read_code(v, name) for v in items)


def read_bool(value: Any, name: str) -> bool:
    """A real YAML boolean, not a string that looks like one."""
    if not isinstance(value, bool):
        raise Invalid(name, "must be true or false")
    return value


def read_date(value: Any, name: str) -> dt.date:
    """A YYYY-MM-DD date (a timestamp is refused: protocols work in whole days)."""
    if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
        raise Invalid(name, f"must be a date written YYYY-MM-DD, not {value!r}")
    return value


def read_number(value: Any, name: str) -> float:
    """An int or float (booleans are ints in Python and are refused)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise Invalid(name, f"must be a number, not {value!r}")
    return float(value)


def read_offset(value: Any, name: str) -> Offset:
    """An offset such as 16w or 3m -1d, with the parser's message on failure."""
    try:
        return parse_offset(value)
    except ValueError as exc:
        raise Invalid(name, str(exc)) from None


def read_choice(value: Any, allowed: tuple[str, ...], name: str) -> str:
    """One of a closed vocabulary."""
    if value not in allowed:
        raise Invalid(name, f"must be one of {', '.join(allowed)}, not {value!r}")
    return str(value)


def read_text(value: Any, name: str) -> Text:
    """Text in every supported locale, so the app can show either language."""
    data = read_mapping(value, name)
    for key in data:
        if key not in LOCALES:
            raise Invalid(f"{name}.{key}", f"unknown locale; use {', '.join(LOCALES)}")
    for locale in LOCALES:
        if not isinstance(data.get(locale), str) or not data[locale].strip():
            raise Invalid(f"{name}.{locale}", "required (text in both zh_CN and en)")
    return {locale: str(data[locale]).strip() for locale in LOCALES}


def read_source(
    value: Any,
    name: str,
    *,
    ids: re.Pattern[str] = SOURCE_ID,
    hint: str = "unknown reference id {id!r}; use C<n>, M, M!, EXT, or doc:C<n>",
) -> Source:
    """Reference ids and a title: every clinical number must say where it comes from (`ids`
    is the pattern of a domain's reference ids, `hint` the message for one that is not)."""
    data = read_mapping(value, name)
    check_keys(data, {"ids", "title"}, {"ids", "title"}, f"{name}.")
    found = data["ids"] if isinstance(data["ids"], list) else [data["ids"]]
    if not found:
        raise Invalid(f"{name}.ids", "must list at least one reference id")
    for source_id in found:
        if not isinstance(source_id, str) or not ids.match(source_id):
            raise Invalid(f"{name}.ids", hint.format(id=source_id))
    return Source(ids=tuple(found), title=read_string(data["title"], f"{name}.title"))


def read_note(value: Any, name: str) -> str | None:
    """An optional non-empty note."""
    return None if value is None else read_string(value, name).strip()


@dataclass
class Ref:
    """A reference to check once every file is read."""

    path: str
    code: str
    field: str
    what: str  # 'step', 'interval', 'field', 'choice'
    target: str
    detail: Any = None


@dataclass
class FileCtx:
    """What item parsing needs from its file and collects for the cross-file checks."""

    path: str
    programme: str
    definitions: Definitions | None
    refs: list[Ref] = field(default_factory=list)


# --- conditions ---


def _step_test(value: Any, name: str) -> StepTest:
    """`{step: ..., interpretation: ...}` or `{step: ..., field: ..., <comparator>: ...}`."""
    data = read_mapping(value, name)
    allowed = {"step", "interpretation", "field", *COMPARATORS}
    check_keys(data, allowed, {"step"}, f"{name}.")
    steps = read_codes(data["step"], f"{name}.step")
    interpretations = None
    if "interpretation" in data:
        raw = data["interpretation"]
        raw = raw if isinstance(raw, list) else [raw]
        interpretations = tuple(
            read_choice(v, INTERPRETATIONS, f"{name}.interpretation") for v in raw
        )
    test = None
    comparators = [k for k in COMPARATORS if k in data]
    if "field" in data:
        if interpretations is not None:
            raise Invalid(name, "give either interpretation or field, not both")
        if len(comparators) != 1:
            raise Invalid(name, f"a field needs exactly one of {', '.join(COMPARATORS)}")
        test = _field_test(data, comparators[0], name)
    elif comparators:
        raise Invalid(f"{name}.{comparators[0]}", "needs a field to compare")
    return StepTest(steps=steps, interpretations=interpretations, test=test)


def _field_test(data: Mapping[str, Any], op: str, name: str) -> FieldTest:
    """One comparison on a result field."""
    field_name = read_code(data.get("field"), f"{name}.field")
    value = data[op]
    if op == "in":
        if not isinstance(value, list) or not value:
            raise Invalid(f"{name}.in", "must be a non-empty list")
        value = tuple(value)
    elif op != "equals" and (isinstance(value, bool) or not isinstance(value, int | float | str)):
        raise Invalid(f"{name}.{op}", f"must be a number, not {value!r}")
    return FieldTest(field=field_name, op=op, value=value)


def _condition(value: Any, name: str, kind: str, ctx: FileCtx, code: str) -> Condition:
    """A `when:` mapping; several keys in one mapping must all hold."""
    data = read_mapping(value, name)
    if not data:
        raise Invalid(name, "must hold at least one condition")
    terms = [_one_condition(key, data[key], f"{name}.{key}", kind, ctx, code) for key in data]
    return terms[0] if len(terms) == 1 else AllOf(terms=tuple(terms), raw=dict(data))


def _condition_list(
    value: Any, name: str, kind: str, ctx: FileCtx, code: str
) -> tuple[Condition, ...]:
    """The terms of any_of / all_of."""
    if not isinstance(value, list) or not value:
        raise Invalid(name, "must be a non-empty list of conditions")
    return tuple(_condition(v, f"{name}[{i}]", kind, ctx, code) for i, v in enumerate(value))


def _one_condition(
    key: str, value: Any, name: str, kind: str, ctx: FileCtx, code: str
) -> Condition:
    """One word of the condition vocabulary, checked against the subject kind."""
    raw = {key: value}
    if key in CONDITION_KINDS and kind not in CONDITION_KINDS[key]:
        allowed = ", ".join(sorted(CONDITION_KINDS[key]))
        raise Invalid(name, f"never holds for a {kind}; it applies to: {allowed}")
    if key == "any_of":
        return AnyOf(terms=_condition_list(value, name, kind, ctx, code), raw=raw)
    if key == "all_of":
        return AllOf(terms=_condition_list(value, name, kind, ctx, code), raw=raw)
    if key == "not":
        return Not(term=_condition(value, name, kind, ctx, code), raw=raw)
    if key == "risk_colour_in":
        colours = value if isinstance(value, list) else [value]
        if not colours:
            raise Invalid(name, "must list at least one colour")
        return RiskColourIn(
            colours=tuple(read_choice(c, RISK_COLOURS, name) for c in colours), raw=raw
        )
    if key == "preterm":
        return Preterm(value=read_bool(value, name), raw=raw)
    if key == "ga_at_birth_below":
        offset = read_offset(value, name)
        if offset.months or offset.days <= 0:
            raise Invalid(name, "must be a gestational age in weeks and days, such as 32w")
        return GaAtBirthBelow(days=offset.days, raw=raw)
    if key == "enrolled_from_ga":
        offset = read_offset(value, name)
        if offset.months or offset.days <= 0:
            raise Invalid(name, "must be a gestational age in weeks and days, such as 13w")
        return EnrolledFromGa(days=offset.days, raw=raw)
    if key == "mother_age_at_edd_at_least":
        if isinstance(value, bool) or not isinstance(value, int) or not 10 <= value <= 60:
            raise Invalid(name, "must be an age in whole years (10 to 60)")
        return MotherAgeAtEddAtLeast(years=value, raw=raw)
    if key == "birth_weight_below_g":
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise Invalid(name, "must be a weight in grams (a positive whole number)")
        return BirthWeightBelow(grams=value, raw=raw)
    if key == "sex":
        return SexIs(sex=read_choice(value, SEXES, name), raw=raw)
    if key == "born_on_or_after":
        return BornOnOrAfter(date=read_date(value, name), raw=raw)
    if key == "born_before":
        return BornBefore(date=read_date(value, name), raw=raw)
    if key == "flag":
        return _flag_condition(value, name, ctx, raw)
    if key == "choice":
        data = read_mapping(value, name)
        if len(data) != 1:
            raise Invalid(name, "must name one group and its option, such as {JE: JE-I}")
        group, option = next(iter(data.items()))
        ctx.refs.append(Ref(ctx.path, code, name, "choice", str(group), str(option)))
        return ChoiceIs(group=str(group), option=str(option), raw=raw)
    if key == "done":
        step = read_code(value, name)
        ctx.refs.append(Ref(ctx.path, code, name, "step", step))
        return Done(step=step, raw=raw)
    if key == "result_of":
        test = _step_test(value, name)
        _refer_step_test(test, name, ctx, code)
        return ResultOf(step=test, raw=raw)
    known = [
        "any_of",
        "all_of",
        "not",
        "risk_colour_in",
        "preterm",
        "ga_at_birth_below",
        "enrolled_from_ga",
        "mother_age_at_edd_at_least",
        "birth_weight_below_g",
        "sex",
        "born_on_or_after",
        "born_before",
        "flag",
        "choice",
        "done",
        "result_of",
    ]
    raise Invalid(name, f"unknown condition {key!r}; known: {', '.join(known)}")


def _flag_condition(value: Any, name: str, ctx: FileCtx, raw: Any) -> Condition:
    """A subject flag, checked against the flags declared in definitions.yaml."""
    data = read_mapping(value, name)
    if len(data) != 1:
        raise Invalid(name, "must name one flag and its value(s), such as {mother_hbsag: positive}")
    flag, wanted = next(iter(data.items()))
    values = tuple(wanted) if isinstance(wanted, list) else (wanted,)
    if ctx.definitions is not None:
        definition = ctx.definitions.flags.get(str(flag))
        if definition is None:
            known = ", ".join(sorted(ctx.definitions.flags))
            raise Invalid(f"{name}.{flag}", f"unknown flag; declared in definitions: {known}")
        for v in values:
            if v not in definition.values:
                allowed = ", ".join(str(x) for x in definition.values)
                raise Invalid(f"{name}.{flag}", f"value {v!r} not declared; allowed: {allowed}")
    return FlagIn(name=str(flag), values=values, raw=raw)


def _refer_step_test(test: StepTest, name: str, ctx: FileCtx, code: str) -> None:
    """Remember the steps (and fields) a test names, to check once every file is read."""
    for step in test.steps:
        if step == code:
            raise Invalid(f"{name}.step", "a step cannot depend on its own result")
        ctx.refs.append(Ref(ctx.path, code, f"{name}.step", "step", step))
        if test.test is not None:
            ctx.refs.append(Ref(ctx.path, code, f"{name}.field", "field", step, test.test))


# --- item parts ---


def _anchor(value: Any, kind: str, ctx: FileCtx, code: str) -> Anchor:
    """A named date (or a list, first known wins) or another step's result."""
    if not isinstance(value, str | list | Mapping):
        raise Invalid("anchor", "must be a date name, a list of names, or {step: ...}")
    if isinstance(value, str | list):
        names = value if isinstance(value, list) else [value]
        if not names:
            raise Invalid("anchor", "must name at least one date")
        for anchor_name in names:
            if anchor_name not in ANCHORS[kind]:
                allowed = ", ".join(ANCHORS[kind])
                raise Invalid(
                    "anchor",
                    f"unknown anchor {anchor_name!r} for a {kind}; use {allowed} or {{step: ...}}",
                )
        return NamedAnchor(names=tuple(names))
    test = _step_test(value, "anchor")
    _refer_step_test(test, "anchor", ctx, code)
    return StepAnchor(step=test)


def _window(value: Any) -> Window:
    """opens / due / closes offsets; due defaults to closes; they must run forward."""
    data = read_mapping(value, "window")
    check_keys(data, {"opens", "due", "closes"}, {"opens", "closes"}, "window.")
    opens = read_offset(data["opens"], "window.opens")
    closes = read_offset(data["closes"], "window.closes")
    due = read_offset(data["due"], "window.due") if data.get("due") is not None else closes
    if not opens.approx_days <= due.approx_days <= closes.approx_days:
        raise Invalid(
            "window",
            f"must run forward: opens ({opens}) ≤ due ({due}) ≤ closes ({closes})",
        )
    return Window(opens=opens, due=due, closes=closes)


def _signoff(data: Mapping[str, Any]) -> dict[str, str] | None:
    """Who signed the item off, when, and against which page (checked by backend.review)."""
    signed_in = data.get("verified_in")
    if data.get("verified_by") is None or not isinstance(signed_in, Mapping):
        return None
    return {
        "verified_by": str(data["verified_by"]),
        "verified_on": str(data.get("verified_on")),
        "verified_in": f"{signed_in.get('document', '')}, p. {signed_in.get('page', '')}",
    }


def _fallback_window(value: Any, anchor: Anchor) -> Window | None:
    """The window used when the first date of an anchor list is unknown."""
    if value is None:
        return None
    if not isinstance(anchor, NamedAnchor) or len(anchor.names) < 2:
        raise Invalid("window_if_fallback", "needs an anchor list such as [discharge, birth]")
    try:
        return _window(value)
    except Invalid as exc:
        raise Invalid(exc.field.replace("window", "window_if_fallback", 1), exc.message) from None


def _later_of(
    value: Any, kind: str, ctx: FileCtx, code: str
) -> tuple[tuple[NamedAnchor, Window], ...]:
    """Alternative windows on other named dates; the one that opens last applies."""
    if not isinstance(value, list) or not value:
        raise Invalid("later_of", "must be a non-empty list of {anchor: ..., window: ...}")
    pairs = []
    for i, entry in enumerate(value):
        data = read_mapping(entry, f"later_of[{i}]")
        check_keys(data, {"anchor", "window"}, {"anchor", "window"}, f"later_of[{i}].")
        anchor = _anchor(data["anchor"], kind, ctx, code)
        if not isinstance(anchor, NamedAnchor):
            raise Invalid(f"later_of[{i}].anchor", "must name a date, not another step")
        pairs.append((anchor, _window(data["window"])))
    return tuple(pairs)


def _intervals(value: Any, ctx: FileCtx, code: str) -> tuple[Interval, ...]:
    """Minimum intervals after other steps (vaccine doses)."""
    entries = value if isinstance(value, list) else [value]
    intervals = []
    for i, entry in enumerate(entries):
        name = f"min_interval[{i}]" if isinstance(value, list) else "min_interval"
        data = read_mapping(entry, name)
        check_keys(data, {"after", "at_least"}, {"after", "at_least"}, f"{name}.")
        after = read_code(data["after"], f"{name}.after")
        if after == code:
            raise Invalid(f"{name}.after", "a step cannot follow itself")
        at_least = read_offset(data["at_least"], f"{name}.at_least")
        if at_least.approx_days <= 0:
            raise Invalid(f"{name}.at_least", "must be a positive interval")
        ctx.refs.append(Ref(ctx.path, code, f"{name}.after", "interval", after))
        intervals.append(Interval(after=after, at_least=at_least))
    return tuple(intervals)


def _parts(value: Any) -> tuple[Part, ...]:
    """The components of a step (tests at a visit, items of a check)."""
    if not isinstance(value, list):
        raise Invalid("parts", "must be a list")
    parts: list[Part] = []
    for i, entry in enumerate(value):
        name = f"parts[{i}]"
        data = read_mapping(entry, name)
        check_keys(
            data,
            {"code", "title", "required", "sexes", "note", "verified"},
            {"code", "title"},
            f"{name}.",
        )
        part_code = read_code(data["code"], f"{name}.code")
        if any(p.code == part_code for p in parts):
            raise Invalid(f"{name}.code", f"duplicate part {part_code!r}")
        sexes = data.get("sexes", [])
        sexes = sexes if isinstance(sexes, list) else [sexes]
        parts.append(
            Part(
                code=part_code,
                title=read_text(data["title"], f"{name}.title"),
                required=read_bool(data.get("required", True), f"{name}.required"),
                sexes=tuple(read_choice(s, SEXES, f"{name}.sexes") for s in sexes),
                note=read_note(data.get("note"), f"{name}.note"),
                verified=None
                if "verified" not in data
                else read_bool(data["verified"], f"{name}.verified"),
            )
        )
    return tuple(parts)


def _results(value: Any) -> tuple[ResultField, ...]:
    """The typed result fields a doctor may log, with plausible ranges."""
    if not isinstance(value, list) or not value:
        raise Invalid("results", "must be a non-empty list of fields")
    fields: list[ResultField] = []
    allowed = {"name", "type", "label", "unit", "min", "max", "values", "per_side", "required"}
    for i, entry in enumerate(value):
        name = f"results[{i}]"
        data = read_mapping(entry, name)
        check_keys(data, allowed, {"name", "type"}, f"{name}.")
        field_name = read_code(data["name"], f"{name}.name")
        if any(f.name == field_name for f in fields):
            raise Invalid(f"{name}.name", f"duplicate field {field_name!r}")
        field_type = read_choice(data["type"], FIELD_TYPES, f"{name}.type")
        values: tuple[Any, ...] = ()
        if field_type == "enum":
            raw_values = data.get("values")
            if not isinstance(raw_values, list) or not raw_values:
                raise Invalid(f"{name}.values", "an enum needs its list of values")
            values = tuple(raw_values)
        elif "values" in data:
            raise Invalid(f"{name}.values", "only an enum field lists values")
        low = read_number(data["min"], f"{name}.min") if data.get("min") is not None else None
        high = read_number(data["max"], f"{name}.max") if data.get("max") is not None else None
        if (low is not None or high is not None) and field_type not in NUMERIC:
            raise Invalid(name, "min and max apply to number, integer and ratio fields only")
        if low is not None and high is not None and low > high:
            raise Invalid(f"{name}.min", f"is above max ({low:g} > {high:g})")
        fields.append(
            ResultField(
                name=field_name,
                type=field_type,
                label=read_text(data["label"], f"{name}.label") if "label" in data else None,
                unit=read_note(data.get("unit"), f"{name}.unit"),
                min=low,
                max=high,
                values=values,
                per_side=read_bool(data.get("per_side", False), f"{name}.per_side"),
                required=read_bool(data.get("required", False), f"{name}.required"),
            )
        )
    return tuple(fields)


def check_test_fits(test: FieldTest, spec: ResultField, name: str) -> None:
    """A comparison must make sense for the field's type and values."""
    if test.op in ("below", "at_most", "above", "at_least"):
        if spec.type not in NUMERIC:
            raise Invalid(
                name,
                f"'{test.op}' needs a number, integer or ratio field; {spec.name} is {spec.type}",
            )
        if spec.type == "ratio":
            try:
                parse_ratio(test.value)
            except (TypeError, ValueError):
                raise Invalid(name, f"{test.value!r} is not a ratio such as 1/270") from None
        elif isinstance(test.value, str):
            raise Invalid(name, f"must be a number, not {test.value!r}")
    wanted = test.value if test.op == "in" else (test.value,)
    if test.op in ("equals", "in"):
        if spec.type == "enum":
            for v in wanted:
                if v not in spec.values:
                    raise Invalid(
                        name, f"{v!r} is not one of {spec.name}'s values {list(spec.values)}"
                    )
        elif spec.type == "boolean" and not all(isinstance(v, bool) for v in wanted):
            raise Invalid(name, f"{spec.name} is true/false")


def _rules(value: Any, results: tuple[ResultField, ...]) -> tuple[Rule, ...]:
    """Interpretation rules reading the declared result fields."""
    if not isinstance(value, list) or not value:
        raise Invalid("interpretation", "must be a non-empty list of rules")
    if not results:
        raise Invalid("interpretation", "needs `results:` to declare the fields it reads")
    rules = []
    for i, entry in enumerate(value):
        name = f"interpretation[{i}]"
        data = read_mapping(entry, name)
        check_keys(data, {"when", "then", "note", "verified"}, {"when", "then"}, f"{name}.")
        when = read_mapping(data["when"], f"{name}.when")
        check_keys(when, {"field", *COMPARATORS}, {"field"}, f"{name}.when.")
        ops = [k for k in COMPARATORS if k in when]
        if len(ops) != 1:
            raise Invalid(f"{name}.when", f"needs exactly one of {', '.join(COMPARATORS)}")
        test = _field_test(when, ops[0], f"{name}.when")
        spec = next((f for f in results if f.name == test.field), None)
        if spec is None:
            raise Invalid(f"{name}.when.field", f"{test.field!r} is not declared in results")
        check_test_fits(test, spec, f"{name}.when.{ops[0]}")
        rules.append(
            Rule(
                test=test,
                then=read_choice(data["then"], INTERPRETATIONS, f"{name}.then"),
                note=read_note(data.get("note"), f"{name}.note"),
                verified=None
                if "verified" not in data
                else read_bool(data["verified"], f"{name}.verified"),
            )
        )
    return tuple(rules)


def read_item(data: Mapping[str, Any], ctx: FileCtx, file_source: Source | None, code: str) -> Item:
    """One item with its file defaults merged in, every field checked."""
    check_keys(
        data, ITEM_KEYS, {"code", "kind", "anchor", "window", "title", "why", "verified"}, ""
    )
    kind = read_choice(data["kind"], KINDS, "kind")
    anchor = _anchor(data["anchor"], kind, ctx, code)
    window = _window(data["window"])
    age = read_choice(data.get("age", "chronological"), AGE_BASES, "age")
    if age == "corrected" and (kind != "child" or anchor != NamedAnchor(names=("birth",))):
        raise Invalid("age", "corrected age applies to child items anchored on birth only")
    if "source" in data and data["source"] is not None:
        source = read_source(data["source"], "source")
    elif file_source is not None:
        source = file_source
    else:
        raise Invalid("source", "required (on the item or the file)")
    verified = read_bool(data["verified"], "verified")
    note = read_note(data.get("note"), "note")
    if not verified and note is None:
        raise Invalid("note", "required when verified is false: say what is uncertain and why")
    results = _results(data["results"]) if data.get("results") is not None else ()
    return Item(
        code=code,
        programme=ctx.programme,
        kind=kind,
        anchor=anchor,
        window=window,
        title=read_text(data["title"], "title"),
        why=read_text(data["why"], "why"),
        source=source,
        verified=verified,
        signoff=_signoff(data) if verified else None,
        path=ctx.path,
        when=_condition(data["when"], "when", kind, ctx, code)
        if data.get("when") is not None
        else None,
        age=age,
        window_if_fallback=_fallback_window(data.get("window_if_fallback"), anchor),
        later_of=_later_of(data["later_of"], kind, ctx, code)
        if data.get("later_of") is not None
        else (),
        intervals=_intervals(data["min_interval"], ctx, code)
        if data.get("min_interval") is not None
        else (),
        after_end=read_bool(data.get("after_end", False), "after_end"),
        optional=read_bool(data.get("optional", False), "optional"),
        actor=read_choice(data.get("actor", "family"), ACTORS, "actor"),
        parts=_parts(data["parts"]) if data.get("parts") is not None else (),
        results=results,
        interpretation=_rules(data["interpretation"], results)
        if data.get("interpretation") is not None
        else (),
        note=note,
    )
