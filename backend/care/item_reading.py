"""Read one protocol item from YAML data into typed values, naming the field of any problem."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from backend.care.protocols import (
    ACTORS,
    AGE_BASES,
    ANCHORS,
    FIELD_TYPES,
    INTERPRETATIONS,
    KINDS,
    SEXES,
    Anchor,
    FieldTest,
    Interval,
    Item,
    NamedAnchor,
    Part,
    ResultField,
    Rule,
    StepAnchor,
    Window,
    parse_ratio,
)
from backend.care.reading import (
    ITEM_KEYS,
    NUMERIC,
    Invalid,
    check_keys,
    read_bool,
    read_choice,
    read_code,
    read_mapping,
    read_note,
    read_number,
    read_offset,
    read_source,
    read_text,
)
from backend.care.when_reading import (
    FileCtx,
    Ref,
    condition,
    field_test,
    refer_step_test,
    step_test,
)
from backend.conditions import COMPARATORS, Source

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
    test = step_test(value, "anchor")
    refer_step_test(test, "anchor", ctx, code)
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
        test = field_test(when, ops[0], f"{name}.when")
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
        when=condition(data["when"], "when", kind, ctx, code)
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
