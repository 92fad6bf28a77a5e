"""Read a protocol item's `when:` (and the step tests of anchors and results) into the condition
language of backend.conditions, checked against the subject kind and definitions.yaml."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from backend.care.protocols import (
    INTERPRETATIONS,
    RISK_COLOURS,
    SEXES,
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
    MotherAgeAtEddAtLeast,
    Preterm,
    ResultOf,
    RiskColourIn,
    SexIs,
    StepTest,
)
from backend.care.reading import (
    Invalid,
    check_keys,
    read_bool,
    read_choice,
    read_code,
    read_codes,
    read_date,
    read_mapping,
    read_offset,
)
from backend.conditions import COMPARATORS, AllOf, AnyOf, Not


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
# --- conditions ---


def step_test(value: Any, name: str) -> StepTest:
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
        test = field_test(data, comparators[0], name)
    elif comparators:
        raise Invalid(f"{name}.{comparators[0]}", "needs a field to compare")
    return StepTest(steps=steps, interpretations=interpretations, test=test)


def field_test(data: Mapping[str, Any], op: str, name: str) -> FieldTest:
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


def condition(value: Any, name: str, kind: str, ctx: FileCtx, code: str) -> Condition:
    """A `when:` mapping; several keys in one mapping must all hold."""
    data = read_mapping(value, name)
    if not data:
        raise Invalid(name, "must hold at least one condition")
    terms = [one_condition(key, data[key], f"{name}.{key}", kind, ctx, code) for key in data]
    return terms[0] if len(terms) == 1 else AllOf(terms=tuple(terms), raw=dict(data))


def condition_list(
    value: Any, name: str, kind: str, ctx: FileCtx, code: str
) -> tuple[Condition, ...]:
    """The terms of any_of / all_of."""
    if not isinstance(value, list) or not value:
        raise Invalid(name, "must be a non-empty list of conditions")
    return tuple(condition(v, f"{name}[{i}]", kind, ctx, code) for i, v in enumerate(value))


def one_condition(key: str, value: Any, name: str, kind: str, ctx: FileCtx, code: str) -> Condition:
    """One word of the condition vocabulary, checked against the subject kind."""
    raw = {key: value}
    if key in CONDITION_KINDS and kind not in CONDITION_KINDS[key]:
        allowed = ", ".join(sorted(CONDITION_KINDS[key]))
        raise Invalid(name, f"never holds for a {kind}; it applies to: {allowed}")
    if key == "any_of":
        return AnyOf(terms=condition_list(value, name, kind, ctx, code), raw=raw)
    if key == "all_of":
        return AllOf(terms=condition_list(value, name, kind, ctx, code), raw=raw)
    if key == "not":
        return Not(term=condition(value, name, kind, ctx, code), raw=raw)
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
        return flag_condition(value, name, ctx, raw)
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
        test = step_test(value, name)
        refer_step_test(test, name, ctx, code)
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


def flag_condition(value: Any, name: str, ctx: FileCtx, raw: Any) -> Condition:
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


def refer_step_test(test: StepTest, name: str, ctx: FileCtx, code: str) -> None:
    """Remember the steps (and fields) a test names, to check once every file is read."""
    for step in test.steps:
        if step == code:
            raise Invalid(f"{name}.step", "a step cannot depend on its own result")
        ctx.refs.append(Ref(ctx.path, code, f"{name}.step", "step", step))
        if test.test is not None:
            ctx.refs.append(Ref(ctx.path, code, f"{name}.field", "field", step, test.test))
