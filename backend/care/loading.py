"""Read content/protocols/*.yaml, validate every field, and build the ProtocolSet.

Every problem is reported as "<file>: item <code>: field <field>: <message>" so that an editor
can find it; one problem per item is reported, for every broken item of every file, at once.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from backend.care.offsets import Offset, parse_offset
from backend.care.protocols import (
    ACTORS,
    AGE_BASES,
    ANCHORS,
    COMPARATORS,
    FIELD_TYPES,
    INTERPRETATIONS,
    KINDS,
    LOCALES,
    RISK_COLOURS,
    SEXES,
    AllOf,
    Anchor,
    AnyOf,
    BirthWeightBelow,
    BornBefore,
    BornOnOrAfter,
    ChoiceGroup,
    ChoiceIs,
    Condition,
    Definitions,
    Done,
    FieldTest,
    FlagDefinition,
    FlagIn,
    GaAtBirthBelow,
    Interval,
    Item,
    NamedAnchor,
    Not,
    Part,
    Preterm,
    ProtocolError,
    ProtocolSet,
    ProtocolVersion,
    ResultField,
    ResultOf,
    RiskColourIn,
    Rule,
    SexIs,
    Source,
    StepAnchor,
    StepTest,
    Text,
    Window,
)

CODE = re.compile(r"^[a-z][a-z0-9_]*$")
SOURCE_ID = re.compile(r"^([a-z][a-z0-9-]*:)?(C\d+|M!?|EXT)$")
FILE_KEYS = {
    "programme",
    "version",
    "effective_from",
    "effective_to",
    "title",
    "source",
    "note",
    "extends",
    "removes",
    "defaults",
    "choices",
    "items",
}
ITEM_KEYS = {
    "code",
    "kind",
    "anchor",
    "window",
    "when",
    "age",
    "min_interval",
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
    "birth_weight_below_g": {"child"},
    "sex": {"child"},
    "born_on_or_after": {"child"},
    "born_before": {"child"},
}
NUMERIC = ("number", "integer", "ratio")


class _Invalid(Exception):
    """One problem in one field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that refuses a key written twice in one mapping (YAML keeps the last silently)."""


def _construct_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _value in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            continue  # `<<: *base` brings keys that the mapping may override on purpose
        key = loader.construct_object(key_node)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        seen.add(key)
    loader.flatten_mapping(node)
    return loader.construct_mapping(node)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


# --- small typed readers; each raises _Invalid naming the field ---


def _mapping(value: Any, name: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise _Invalid(name, "must be a mapping (key: value lines)")
    return value


def _keys(data: Mapping[str, Any], allowed: set[str], required: set[str], prefix: str) -> None:
    for key in data:
        if key not in allowed:
            raise _Invalid(
                f"{prefix}{key}", f"unknown field; allowed: {', '.join(sorted(allowed))}"
            )
    for key in sorted(required):
        if key not in data or data[key] is None:
            raise _Invalid(f"{prefix}{key}", "required")


def _string(value: Any, name: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _Invalid(name, "must be non-empty text")
    return value


def _code(value: Any, name: str) -> str:
    if not isinstance(value, str) or not CODE.match(value):
        raise _Invalid(name, f"must be a code of lowercase letters, digits and '_', not {value!r}")
    return value


def _codes(value: Any, name: str) -> tuple[str, ...]:
    items = value if isinstance(value, list) else [value]
    if not items:
        raise _Invalid(name, "must name at least one step")
    return tuple(_code(v, name) for v in items)


def _bool(value: Any, name: str) -> bool:
    if not isinstance(value, bool):
        raise _Invalid(name, "must be true or false")
    return value


def _date(value: Any, name: str) -> dt.date:
    if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
        raise _Invalid(name, f"must be a date written YYYY-MM-DD, not {value!r}")
    return value


def _number(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _Invalid(name, f"must be a number, not {value!r}")
    return float(value)


def _offset(value: Any, name: str) -> Offset:
    try:
        return parse_offset(value)
    except ValueError as exc:
        raise _Invalid(name, str(exc)) from None


def _choice(value: Any, allowed: tuple[str, ...], name: str) -> str:
    if value not in allowed:
        raise _Invalid(name, f"must be one of {', '.join(allowed)}, not {value!r}")
    return str(value)


def _text(value: Any, name: str) -> Text:
    data = _mapping(value, name)
    for key in data:
        if key not in LOCALES:
            raise _Invalid(f"{name}.{key}", f"unknown locale; use {', '.join(LOCALES)}")
    for locale in LOCALES:
        if not isinstance(data.get(locale), str) or not data[locale].strip():
            raise _Invalid(f"{name}.{locale}", "required (text in both zh_CN and en)")
    return {locale: str(data[locale]).strip() for locale in LOCALES}


def _source(value: Any, name: str) -> Source:
    data = _mapping(value, name)
    _keys(data, {"ids", "title"}, {"ids", "title"}, f"{name}.")
    ids = data["ids"] if isinstance(data["ids"], list) else [data["ids"]]
    if not ids:
        raise _Invalid(f"{name}.ids", "must list at least one reference id")
    for source_id in ids:
        if not isinstance(source_id, str) or not SOURCE_ID.match(source_id):
            raise _Invalid(
                f"{name}.ids",
                f"unknown reference id {source_id!r}; use C<n>, M, M!, EXT, or doc:C<n>",
            )
    return Source(ids=tuple(ids), title=_string(data["title"], f"{name}.title"))


def _note(value: Any, name: str) -> str | None:
    return None if value is None else _string(value, name).strip()


@dataclass
class _Ref:
    """A reference to check once every file is read."""

    path: str
    code: str
    field: str
    what: str  # 'step', 'interval', 'field', 'choice'
    target: str
    detail: Any = None


@dataclass
class _FileCtx:
    """What item parsing needs from its file and collects for the cross-file checks."""

    path: str
    programme: str
    definitions: Definitions | None
    refs: list[_Ref] = field(default_factory=list)


# --- conditions ---


def _step_test(value: Any, name: str) -> StepTest:
    data = _mapping(value, name)
    allowed = {"step", "interpretation", "field", *COMPARATORS}
    _keys(data, allowed, {"step"}, f"{name}.")
    steps = _codes(data["step"], f"{name}.step")
    interpretations = None
    if "interpretation" in data:
        raw = data["interpretation"]
        raw = raw if isinstance(raw, list) else [raw]
        interpretations = tuple(_choice(v, INTERPRETATIONS, f"{name}.interpretation") for v in raw)
    test = None
    comparators = [k for k in COMPARATORS if k in data]
    if "field" in data:
        if interpretations is not None:
            raise _Invalid(name, "give either interpretation or field, not both")
        if len(comparators) != 1:
            raise _Invalid(name, f"a field needs exactly one of {', '.join(COMPARATORS)}")
        test = _field_test(data, comparators[0], name)
    elif comparators:
        raise _Invalid(f"{name}.{comparators[0]}", "needs a field to compare")
    return StepTest(steps=steps, interpretations=interpretations, test=test)


def _field_test(data: Mapping[str, Any], op: str, name: str) -> FieldTest:
    field_name = _code(data.get("field"), f"{name}.field")
    value = data[op]
    if op == "in":
        if not isinstance(value, list) or not value:
            raise _Invalid(f"{name}.in", "must be a non-empty list")
        value = tuple(value)
    elif op != "equals" and (isinstance(value, bool) or not isinstance(value, int | float | str)):
        raise _Invalid(f"{name}.{op}", f"must be a number, not {value!r}")
    return FieldTest(field=field_name, op=op, value=value)


def _condition(value: Any, name: str, kind: str, ctx: _FileCtx, code: str) -> Condition:
    data = _mapping(value, name)
    if not data:
        raise _Invalid(name, "must hold at least one condition")
    terms = [_one_condition(key, data[key], f"{name}.{key}", kind, ctx, code) for key in data]
    return terms[0] if len(terms) == 1 else AllOf(terms=tuple(terms), raw=dict(data))


def _condition_list(value: Any, name: str, kind: str, ctx: _FileCtx, code: str) -> tuple:
    if not isinstance(value, list) or not value:
        raise _Invalid(name, "must be a non-empty list of conditions")
    return tuple(_condition(v, f"{name}[{i}]", kind, ctx, code) for i, v in enumerate(value))


def _one_condition(
    key: str, value: Any, name: str, kind: str, ctx: _FileCtx, code: str
) -> Condition:
    raw = {key: value}
    if key in CONDITION_KINDS and kind not in CONDITION_KINDS[key]:
        allowed = ", ".join(sorted(CONDITION_KINDS[key]))
        raise _Invalid(name, f"never holds for a {kind}; it applies to: {allowed}")
    if key == "any_of":
        return AnyOf(terms=_condition_list(value, name, kind, ctx, code), raw=raw)
    if key == "all_of":
        return AllOf(terms=_condition_list(value, name, kind, ctx, code), raw=raw)
    if key == "not":
        return Not(term=_condition(value, name, kind, ctx, code), raw=raw)
    if key == "risk_colour_in":
        colours = value if isinstance(value, list) else [value]
        if not colours:
            raise _Invalid(name, "must list at least one colour")
        return RiskColourIn(colours=tuple(_choice(c, RISK_COLOURS, name) for c in colours), raw=raw)
    if key == "preterm":
        return Preterm(value=_bool(value, name), raw=raw)
    if key == "ga_at_birth_below":
        offset = _offset(value, name)
        if offset.months or offset.days <= 0:
            raise _Invalid(name, "must be a gestational age in weeks and days, such as 32w")
        return GaAtBirthBelow(days=offset.days, raw=raw)
    if key == "birth_weight_below_g":
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise _Invalid(name, "must be a weight in grams (a positive whole number)")
        return BirthWeightBelow(grams=value, raw=raw)
    if key == "sex":
        return SexIs(sex=_choice(value, SEXES, name), raw=raw)
    if key == "born_on_or_after":
        return BornOnOrAfter(date=_date(value, name), raw=raw)
    if key == "born_before":
        return BornBefore(date=_date(value, name), raw=raw)
    if key == "flag":
        return _flag_condition(value, name, ctx, raw)
    if key == "choice":
        data = _mapping(value, name)
        if len(data) != 1:
            raise _Invalid(name, "must name one group and its option, such as {JE: JE-I}")
        group, option = next(iter(data.items()))
        ctx.refs.append(_Ref(ctx.path, code, name, "choice", str(group), str(option)))
        return ChoiceIs(group=str(group), option=str(option), raw=raw)
    if key == "done":
        step = _code(value, name)
        ctx.refs.append(_Ref(ctx.path, code, name, "step", step))
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
        "birth_weight_below_g",
        "sex",
        "born_on_or_after",
        "born_before",
        "flag",
        "choice",
        "done",
        "result_of",
    ]
    raise _Invalid(name, f"unknown condition {key!r}; known: {', '.join(known)}")


def _flag_condition(value: Any, name: str, ctx: _FileCtx, raw: Any) -> Condition:
    data = _mapping(value, name)
    if len(data) != 1:
        raise _Invalid(
            name, "must name one flag and its value(s), such as {mother_hbsag: positive}"
        )
    flag, wanted = next(iter(data.items()))
    values = tuple(wanted) if isinstance(wanted, list) else (wanted,)
    if ctx.definitions is not None:
        definition = ctx.definitions.flags.get(str(flag))
        if definition is None:
            known = ", ".join(sorted(ctx.definitions.flags))
            raise _Invalid(f"{name}.{flag}", f"unknown flag; declared in definitions: {known}")
        for v in values:
            if v not in definition.values:
                allowed = ", ".join(str(x) for x in definition.values)
                raise _Invalid(f"{name}.{flag}", f"value {v!r} not declared; allowed: {allowed}")
    return FlagIn(name=str(flag), values=values, raw=raw)


def _refer_step_test(test: StepTest, name: str, ctx: _FileCtx, code: str) -> None:
    for step in test.steps:
        if step == code:
            raise _Invalid(f"{name}.step", "a step cannot depend on its own result")
        ctx.refs.append(_Ref(ctx.path, code, f"{name}.step", "step", step))
        if test.test is not None:
            ctx.refs.append(_Ref(ctx.path, code, f"{name}.field", "field", step, test.test))


# --- item parts ---


def _anchor(value: Any, kind: str, ctx: _FileCtx, code: str) -> Anchor:
    if not isinstance(value, str | list | Mapping):
        raise _Invalid("anchor", "must be a date name, a list of names, or {step: ...}")
    if isinstance(value, str | list):
        names = value if isinstance(value, list) else [value]
        if not names:
            raise _Invalid("anchor", "must name at least one date")
        for anchor_name in names:
            if anchor_name not in ANCHORS[kind]:
                allowed = ", ".join(ANCHORS[kind])
                raise _Invalid(
                    "anchor",
                    f"unknown anchor {anchor_name!r} for a {kind}; use {allowed} or {{step: ...}}",
                )
        return NamedAnchor(names=tuple(names))
    test = _step_test(value, "anchor")
    _refer_step_test(test, "anchor", ctx, code)
    return StepAnchor(step=test)


def _window(value: Any) -> Window:
    data = _mapping(value, "window")
    _keys(data, {"opens", "due", "closes"}, {"opens", "closes"}, "window.")
    opens = _offset(data["opens"], "window.opens")
    closes = _offset(data["closes"], "window.closes")
    due = _offset(data["due"], "window.due") if data.get("due") is not None else closes
    if not opens.approx_days <= due.approx_days <= closes.approx_days:
        raise _Invalid(
            "window",
            f"must run forward: opens ({opens}) ≤ due ({due}) ≤ closes ({closes})",
        )
    return Window(opens=opens, due=due, closes=closes)


def _intervals(value: Any, ctx: _FileCtx, code: str) -> tuple[Interval, ...]:
    entries = value if isinstance(value, list) else [value]
    intervals = []
    for i, entry in enumerate(entries):
        name = f"min_interval[{i}]" if isinstance(value, list) else "min_interval"
        data = _mapping(entry, name)
        _keys(data, {"after", "at_least"}, {"after", "at_least"}, f"{name}.")
        after = _code(data["after"], f"{name}.after")
        if after == code:
            raise _Invalid(f"{name}.after", "a step cannot follow itself")
        at_least = _offset(data["at_least"], f"{name}.at_least")
        if at_least.approx_days <= 0:
            raise _Invalid(f"{name}.at_least", "must be a positive interval")
        ctx.refs.append(_Ref(ctx.path, code, f"{name}.after", "interval", after))
        intervals.append(Interval(after=after, at_least=at_least))
    return tuple(intervals)


def _parts(value: Any) -> tuple[Part, ...]:
    if not isinstance(value, list):
        raise _Invalid("parts", "must be a list")
    parts: list[Part] = []
    for i, entry in enumerate(value):
        name = f"parts[{i}]"
        data = _mapping(entry, name)
        _keys(
            data,
            {"code", "title", "required", "sexes", "note", "verified"},
            {"code", "title"},
            f"{name}.",
        )
        part_code = _code(data["code"], f"{name}.code")
        if any(p.code == part_code for p in parts):
            raise _Invalid(f"{name}.code", f"duplicate part {part_code!r}")
        sexes = data.get("sexes", [])
        sexes = sexes if isinstance(sexes, list) else [sexes]
        parts.append(
            Part(
                code=part_code,
                title=_text(data["title"], f"{name}.title"),
                required=_bool(data.get("required", True), f"{name}.required"),
                sexes=tuple(_choice(s, SEXES, f"{name}.sexes") for s in sexes),
                note=_note(data.get("note"), f"{name}.note"),
                verified=None
                if "verified" not in data
                else _bool(data["verified"], f"{name}.verified"),
            )
        )
    return tuple(parts)


def _results(value: Any) -> tuple[ResultField, ...]:
    if not isinstance(value, list) or not value:
        raise _Invalid("results", "must be a non-empty list of fields")
    fields: list[ResultField] = []
    allowed = {"name", "type", "label", "unit", "min", "max", "values", "per_side", "required"}
    for i, entry in enumerate(value):
        name = f"results[{i}]"
        data = _mapping(entry, name)
        _keys(data, allowed, {"name", "type"}, f"{name}.")
        field_name = _code(data["name"], f"{name}.name")
        if any(f.name == field_name for f in fields):
            raise _Invalid(f"{name}.name", f"duplicate field {field_name!r}")
        field_type = _choice(data["type"], FIELD_TYPES, f"{name}.type")
        values: tuple[Any, ...] = ()
        if field_type == "enum":
            raw_values = data.get("values")
            if not isinstance(raw_values, list) or not raw_values:
                raise _Invalid(f"{name}.values", "an enum needs its list of values")
            values = tuple(raw_values)
        elif "values" in data:
            raise _Invalid(f"{name}.values", "only an enum field lists values")
        low = _number(data["min"], f"{name}.min") if data.get("min") is not None else None
        high = _number(data["max"], f"{name}.max") if data.get("max") is not None else None
        if (low is not None or high is not None) and field_type not in NUMERIC:
            raise _Invalid(name, "min and max apply to number, integer and ratio fields only")
        if low is not None and high is not None and low > high:
            raise _Invalid(f"{name}.min", f"is above max ({low:g} > {high:g})")
        fields.append(
            ResultField(
                name=field_name,
                type=field_type,
                label=_text(data["label"], f"{name}.label") if "label" in data else None,
                unit=_note(data.get("unit"), f"{name}.unit"),
                min=low,
                max=high,
                values=values,
                per_side=_bool(data.get("per_side", False), f"{name}.per_side"),
                required=_bool(data.get("required", False), f"{name}.required"),
            )
        )
    return tuple(fields)


def _check_test_fits(test: FieldTest, spec: ResultField, name: str) -> None:
    """A comparison must make sense for the field's type and values."""
    if test.op in ("below", "at_most", "above", "at_least"):
        if spec.type not in NUMERIC:
            raise _Invalid(
                name,
                f"'{test.op}' needs a number, integer or ratio field; {spec.name} is {spec.type}",
            )
        if spec.type == "ratio":
            from backend.care.protocols import parse_ratio

            try:
                parse_ratio(test.value)
            except (TypeError, ValueError):
                raise _Invalid(name, f"{test.value!r} is not a ratio such as 1/270") from None
        elif isinstance(test.value, str):
            raise _Invalid(name, f"must be a number, not {test.value!r}")
    wanted = test.value if test.op == "in" else (test.value,)
    if test.op in ("equals", "in"):
        if spec.type == "enum":
            for v in wanted:
                if v not in spec.values:
                    raise _Invalid(
                        name, f"{v!r} is not one of {spec.name}'s values {list(spec.values)}"
                    )
        elif spec.type == "boolean" and not all(isinstance(v, bool) for v in wanted):
            raise _Invalid(name, f"{spec.name} is true/false")


def _rules(value: Any, results: tuple[ResultField, ...]) -> tuple[Rule, ...]:
    if not isinstance(value, list) or not value:
        raise _Invalid("interpretation", "must be a non-empty list of rules")
    if not results:
        raise _Invalid("interpretation", "needs `results:` to declare the fields it reads")
    rules = []
    for i, entry in enumerate(value):
        name = f"interpretation[{i}]"
        data = _mapping(entry, name)
        _keys(data, {"when", "then", "note", "verified"}, {"when", "then"}, f"{name}.")
        when = _mapping(data["when"], f"{name}.when")
        _keys(when, {"field", *COMPARATORS}, {"field"}, f"{name}.when.")
        ops = [k for k in COMPARATORS if k in when]
        if len(ops) != 1:
            raise _Invalid(f"{name}.when", f"needs exactly one of {', '.join(COMPARATORS)}")
        test = _field_test(when, ops[0], f"{name}.when")
        spec = next((f for f in results if f.name == test.field), None)
        if spec is None:
            raise _Invalid(f"{name}.when.field", f"{test.field!r} is not declared in results")
        _check_test_fits(test, spec, f"{name}.when.{ops[0]}")
        rules.append(
            Rule(
                test=test,
                then=_choice(data["then"], INTERPRETATIONS, f"{name}.then"),
                note=_note(data.get("note"), f"{name}.note"),
                verified=None
                if "verified" not in data
                else _bool(data["verified"], f"{name}.verified"),
            )
        )
    return tuple(rules)


def _item(data: Mapping[str, Any], ctx: _FileCtx, file_source: Source | None, code: str) -> Item:
    _keys(data, ITEM_KEYS, {"code", "kind", "anchor", "window", "title", "why", "verified"}, "")
    kind = _choice(data["kind"], KINDS, "kind")
    anchor = _anchor(data["anchor"], kind, ctx, code)
    window = _window(data["window"])
    age = _choice(data.get("age", "chronological"), AGE_BASES, "age")
    if age == "corrected" and (kind != "child" or anchor != NamedAnchor(names=("birth",))):
        raise _Invalid("age", "corrected age applies to child items anchored on birth only")
    if "source" in data and data["source"] is not None:
        source = _source(data["source"], "source")
    elif file_source is not None:
        source = file_source
    else:
        raise _Invalid("source", "required (on the item or the file)")
    verified = _bool(data["verified"], "verified")
    note = _note(data.get("note"), "note")
    if not verified and note is None:
        raise _Invalid("note", "required when verified is false: say what is uncertain and why")
    results = _results(data["results"]) if data.get("results") is not None else ()
    return Item(
        code=code,
        programme=ctx.programme,
        kind=kind,
        anchor=anchor,
        window=window,
        title=_text(data["title"], "title"),
        why=_text(data["why"], "why"),
        source=source,
        verified=verified,
        path=ctx.path,
        when=_condition(data["when"], "when", kind, ctx, code)
        if data.get("when") is not None
        else None,
        age=age,
        intervals=_intervals(data["min_interval"], ctx, code)
        if data.get("min_interval") is not None
        else (),
        after_end=_bool(data.get("after_end", False), "after_end"),
        optional=_bool(data.get("optional", False), "optional"),
        actor=_choice(data.get("actor", "family"), ACTORS, "actor"),
        parts=_parts(data["parts"]) if data.get("parts") is not None else (),
        results=results,
        interpretation=_rules(data["interpretation"], results)
        if data.get("interpretation") is not None
        else (),
        note=note,
    )


# --- files ---


@dataclass
class _ParsedFile:
    """One protocol file, read but not yet joined to the other versions of its programme."""

    path: str
    programme: str
    version: str
    effective_from: dt.date
    effective_to: dt.date | None
    title: Text
    source: Source
    note: str | None
    extends: str | None
    removes: tuple[str, ...]
    choices: dict[str, ChoiceGroup]
    items: dict[str, Item]


def _choices(value: Any) -> dict[str, ChoiceGroup]:
    groups: dict[str, ChoiceGroup] = {}
    for group, spec in _mapping(value, "choices").items():
        name = f"choices.{group}"
        data = _mapping(spec, name)
        _keys(data, {"options", "default", "note"}, {"options", "default"}, f"{name}.")
        options = data["options"]
        if not isinstance(options, list) or len(options) < 2 or len(set(options)) != len(options):
            raise _Invalid(f"{name}.options", "must list two or more distinct options")
        options = tuple(_string(o, f"{name}.options") for o in options)
        groups[str(group)] = ChoiceGroup(
            name=str(group),
            options=options,
            default=_choice(data["default"], options, f"{name}.default"),
            note=_note(data.get("note"), f"{name}.note"),
        )
    return groups


def _file(
    path: str, data: Any, definitions: Definitions | None, refs: list[_Ref], problems: list[str]
) -> _ParsedFile | None:
    """Read one protocol file; append problems and return None when its header is broken."""
    try:
        data = _mapping(data, "(file)")
        _keys(
            data,
            FILE_KEYS,
            {"programme", "version", "effective_from", "title", "source", "items"},
            "",
        )
        programme = _code(data["programme"], "programme")
        if not isinstance(data["version"], str) or not data["version"].strip():
            raise _Invalid("version", 'must be text in quotes, such as "2021.1"')
        effective_from = _date(data["effective_from"], "effective_from")
        effective_to = (
            _date(data["effective_to"], "effective_to")
            if data.get("effective_to") is not None
            else None
        )
        if effective_to is not None and effective_to < effective_from:
            raise _Invalid("effective_to", "is before effective_from")
        extends = data.get("extends")
        if extends is not None and (not isinstance(extends, str) or not extends.strip()):
            raise _Invalid("extends", 'must be the version text of an earlier file, such as "2021"')
        removes = _codes(data["removes"], "removes") if data.get("removes") is not None else ()
        if removes and extends is None:
            raise _Invalid("removes", "only a file that extends another version can remove items")
        defaults = dict(_mapping(data.get("defaults") or {}, "defaults"))
        _keys(defaults, DEFAULT_KEYS, set(), "defaults.")
        if not isinstance(data["items"], list) or (not data["items"] and extends is None):
            raise _Invalid("items", "must be a non-empty list")
        parsed = _ParsedFile(
            path=path,
            programme=programme,
            version=data["version"].strip(),
            effective_from=effective_from,
            effective_to=effective_to,
            title=_text(data["title"], "title"),
            source=_source(data["source"], "source"),
            note=_note(data.get("note"), "note"),
            extends=extends.strip() if extends else None,
            removes=removes,
            choices=_choices(data["choices"]) if data.get("choices") is not None else {},
            items={},
        )
    except _Invalid as exc:
        problems.append(f"{path}: field {exc.field}: {exc.message}")
        return None
    file_source = parsed.source
    if "source" in defaults:
        try:
            file_source = _source(defaults.pop("source"), "defaults.source")
        except _Invalid as exc:
            problems.append(f"{path}: field {exc.field}: {exc.message}")
            return None
    ctx = _FileCtx(path=path, programme=programme, definitions=definitions)
    for index, raw in enumerate(data["items"]):
        label = f"#{index + 1}"
        try:
            raw = _mapping(raw, "(item)")
            code = _code(raw.get("code"), "code")
            label = code
            if code in parsed.items:
                raise _Invalid("code", "used twice in this file")
            parsed.items[code] = _item({**defaults, **raw}, ctx, file_source, code)
        except _Invalid as exc:
            problems.append(f"{path}: item {label}: field {exc.field}: {exc.message}")
    refs.extend(ctx.refs)
    return parsed


def _definitions(path: str, data: Mapping[str, Any]) -> Definitions:
    _keys(data, {"version", "definitions", "note"}, {"version", "definitions"}, "")
    if not isinstance(data["version"], str):
        raise _Invalid("version", 'must be text in quotes, such as "2026.1"')
    body = _mapping(data["definitions"], "definitions")
    _keys(
        body,
        {"term_gestation", "preterm_below", "flags"},
        {"term_gestation", "preterm_below", "flags"},
        "definitions.",
    )
    offsets: dict[str, Offset] = {}
    for key in ("term_gestation", "preterm_below"):
        name = f"definitions.{key}"
        entry = _mapping(body[key], name)
        _keys(
            entry,
            {"value", "source", "verified", "note"},
            {"value", "source", "verified"},
            f"{name}.",
        )
        _source(entry["source"], f"{name}.source")
        if not _bool(entry["verified"], f"{name}.verified") and entry.get("note") is None:
            raise _Invalid(f"{name}.note", "required when verified is false")
        offset = _offset(entry["value"], f"{name}.value")
        if offset.months or offset.days <= 0:
            raise _Invalid(
                f"{name}.value", "must be a gestational age in weeks and days, such as 40w"
            )
        offsets[key] = offset
    flags: dict[str, FlagDefinition] = {}
    for flag, spec in _mapping(body["flags"], "definitions.flags").items():
        name = f"definitions.flags.{flag}"
        entry = _mapping(spec, name)
        _keys(entry, {"values", "title", "note"}, {"values"}, f"{name}.")
        if not isinstance(entry["values"], list) or not entry["values"]:
            raise _Invalid(f"{name}.values", "must list the values the flag can take")
        flags[_code(flag, name)] = FlagDefinition(
            name=str(flag),
            values=tuple(entry["values"]),
            title=_text(entry["title"], f"{name}.title") if "title" in entry else None,
        )
    return Definitions(
        version=data["version"],
        term_gestation=offsets["term_gestation"],
        preterm_below=offsets["preterm_below"],
        flags=flags,
        path=path,
    )


# --- joining files into programmes, and cross-file checks ---


def _versions(files: list[_ParsedFile], problems: list[str]) -> tuple[ProtocolVersion, ...]:
    """Order the versions of one programme, check they follow each other, resolve `extends`."""
    files = sorted(files, key=lambda f: f.effective_from)
    resolved: dict[str, ProtocolVersion] = {}
    for previous, current in itertools.pairwise(files):
        if current.version == previous.version:
            problems.append(
                f"{current.path}: field version: {current.version!r} "
                f"is also the version of {previous.path}"
            )
        if (
            previous.effective_to is None
            or previous.effective_to + dt.timedelta(days=1) != current.effective_from
        ):
            problems.append(
                f"{previous.path}: field effective_to: must be the day before {current.path} "
                f"takes effect ({current.effective_from - dt.timedelta(days=1)})"
            )
    for parsed in files:
        items: dict[str, Item] = {}
        choices: dict[str, ChoiceGroup] = {}
        if parsed.extends is not None:
            base = resolved.get(parsed.extends)
            if base is None:
                problems.append(
                    f"{parsed.path}: field extends: no earlier version {parsed.extends!r} "
                    f"of programme {parsed.programme}"
                )
                continue
            items = dict(base.items)
            choices = dict(base.choices)
            for code in parsed.removes:
                if code not in items:
                    problems.append(
                        f"{parsed.path}: field removes: {code!r} "
                        f"is not an item of version {base.version}"
                    )
                items.pop(code, None)
        items.update(parsed.items)
        choices.update(parsed.choices)
        resolved[parsed.version] = ProtocolVersion(
            programme=parsed.programme,
            version=parsed.version,
            effective_from=parsed.effective_from,
            effective_to=parsed.effective_to,
            title=parsed.title,
            source=parsed.source,
            path=parsed.path,
            items=items,
            choices=choices,
            extends=parsed.extends,
            note=parsed.note,
        )
    return tuple(resolved[f.version] for f in files if f.version in resolved)


def _check_refs(
    programmes: Mapping[str, tuple[ProtocolVersion, ...]], refs: list[_Ref], problems: list[str]
) -> None:
    owner: dict[str, str] = {}
    items: dict[str, list[Item]] = {}
    for name, versions in programmes.items():
        for version in versions:
            for code, item in version.items.items():
                owner.setdefault(code, name)
                items.setdefault(code, []).append(item)
    for ref in refs:
        where = f"{ref.path}: item {ref.code}: field {ref.field}"
        if ref.what in ("step", "interval", "field") and ref.target not in owner:
            problems.append(f"{where}: unknown step {ref.target!r}")
        elif ref.what == "interval" and owner[ref.target] != owner.get(ref.code):
            problems.append(f"{where}: {ref.target!r} belongs to another programme")
        elif ref.what == "field":
            test: FieldTest = ref.detail
            specs = [i.result_field(test.field) for i in items[ref.target]]
            spec = next((s for s in specs if s is not None), None)
            if spec is None:
                problems.append(
                    f"{where}: step {ref.target!r} declares no result field {test.field!r}"
                )
                continue
            try:
                _check_test_fits(test, spec, ref.field)
            except _Invalid as exc:
                problems.append(f"{where}: {exc.message}")
        elif ref.what == "choice":
            groups = {
                g.name: g
                for v in programmes.get(owner.get(ref.code, ""), ())
                for g in v.choices.values()
            }
            group = groups.get(ref.target)
            if group is None:
                problems.append(
                    f"{where}: unknown choice group {ref.target!r}; declare it under `choices:`"
                )
            elif ref.detail not in group.options:
                problems.append(
                    f"{where}: {ref.detail!r} is not an option of {ref.target} "
                    f"{list(group.options)}"
                )


def _check_codes(
    programmes: Mapping[str, tuple[ProtocolVersion, ...]], problems: list[str]
) -> None:
    """A code belongs to one programme and keeps its subject kind across versions."""
    seen: dict[str, Item] = {}
    for name in sorted(programmes):
        for version in programmes[name]:
            for code, item in version.items.items():
                first = seen.setdefault(code, item)
                if first.programme != item.programme:
                    problems.append(
                        f"{item.path}: item {code}: field code: already used in {first.path}"
                    )
                elif first.kind != item.kind:
                    problems.append(
                        f"{item.path}: item {code}: field kind: is {first.kind} in {first.path}"
                    )


def build_protocols(texts: Mapping[str, str]) -> ProtocolSet:
    """Parse and validate protocol documents given as {path: YAML text}."""
    problems: list[str] = []
    documents: dict[str, Any] = {}
    for path, text in texts.items():
        try:
            documents[path] = yaml.load(text, Loader=_UniqueKeyLoader)
        except yaml.YAMLError as exc:
            problems.append(f"{path}: YAML syntax error: {' '.join(str(exc).split())}")
    definition_paths = [
        p for p, d in documents.items() if isinstance(d, Mapping) and "definitions" in d
    ]
    definitions = None
    if len(definition_paths) != 1:
        problems.append(
            "(protocols): exactly one definitions file is required, "
            f"found {len(definition_paths)}: " + ", ".join(definition_paths)
        )
    else:
        try:
            definitions = _definitions(definition_paths[0], documents[definition_paths[0]])
        except _Invalid as exc:
            problems.append(f"{definition_paths[0]}: field {exc.field}: {exc.message}")
    refs: list[_Ref] = []
    by_programme: dict[str, list[_ParsedFile]] = {}
    for path, data in documents.items():
        if path in definition_paths:
            continue
        parsed = _file(path, data, definitions, refs, problems)
        if parsed is not None:
            by_programme.setdefault(parsed.programme, []).append(parsed)
    if not by_programme and not problems:
        problems.append("(protocols): no protocol files found")
    programmes = {name: _versions(files, problems) for name, files in sorted(by_programme.items())}
    _check_codes(programmes, problems)
    _check_refs(programmes, refs, problems)
    if problems or definitions is None:
        raise ProtocolError(problems)
    return ProtocolSet(definitions=definitions, programmes=programmes)


def load_directory(directory: Path) -> ProtocolSet:
    """Load every *.yaml file of `directory` (paths in messages are as given)."""
    if not directory.is_dir():
        raise ProtocolError([f"{directory}: not a directory"])
    paths = sorted(directory.glob("*.yaml"))
    return build_protocols({str(p): p.read_text(encoding="utf-8") for p in paths})
