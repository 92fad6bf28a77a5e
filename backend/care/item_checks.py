"""A validated protocol item (backend/content/protocol_items.py) checked in its context and
turned into the engine's Item.

The model knows an item's own shape; only here are its subject kind's anchors and conditions,
the flags of definitions.yaml, and the steps and choice groups it names known (the last two once
every file is read: they are collected as Refs for care/loading.py). Each problem raises Invalid
naming the field, as the model's errors do.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from backend.care.offsets import parse_offset
from backend.care.protocols import (
    ANCHORS,
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
)
from backend.care.reading import Invalid
from backend.conditions import AllOf, AnyOf, Not, Source, Text
from backend.content.protocol_fields import CareText
from backend.content.protocol_items import ItemSpec, WindowSpec
from backend.content.protocol_when import FieldComparison, StepTestSpec, When, fits


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
    """What an item's checks need from its file and collect for the cross-file checks."""

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


def care_text(spec: CareText) -> Text:
    return {"zh_CN": spec.zh_CN, "en": spec.en}


def check_test_fits(test: FieldTest, spec: ResultField, name: str) -> None:
    """A comparison must make sense for the field's type and values."""
    wrong = fits(test.op, test.value, spec.type, spec.values, spec.name)
    if wrong:
        raise Invalid(name, wrong)


def field_test(spec: FieldComparison) -> FieldTest:
    op = spec.comparators()[0]
    assert spec.field is not None  # the model requires it with a comparator
    return FieldTest(field=spec.field, op=op, value=spec.limit(op))


def step_test(spec: StepTestSpec, name: str, ctx: FileCtx, code: str) -> StepTest:
    """The test, its steps (and field) remembered to check once every file is read."""
    test = StepTest(
        steps=tuple(spec.step),
        interpretations=None if spec.interpretation is None else tuple(spec.interpretation),
        test=field_test(spec) if spec.field is not None else None,
    )
    for step in test.steps:
        if step == code:
            raise Invalid(f"{name}.step", "a step cannot depend on its own result")
        ctx.refs.append(Ref(ctx.path, code, f"{name}.step", "step", step))
        if test.test is not None:
            ctx.refs.append(Ref(ctx.path, code, f"{name}.field", "field", step, test.test))
    return test


def _names(value: str | Sequence[str], kind: str, name: str) -> NamedAnchor:
    names = [value] if isinstance(value, str) else list(value)
    for anchor_name in names:
        if anchor_name not in ANCHORS[kind]:
            allowed = ", ".join(ANCHORS[kind])
            raise Invalid(
                name, f"unknown anchor {anchor_name!r} for a {kind}; use {allowed} or {{step: ...}}"
            )
    return NamedAnchor(names=tuple(names))


def _anchor(spec: ItemSpec, ctx: FileCtx) -> Anchor:
    if isinstance(spec.anchor, StepTestSpec):
        return StepAnchor(step=step_test(spec.anchor, "anchor", ctx, spec.code))
    return _names(spec.anchor, spec.kind, "anchor")


def _window(spec: WindowSpec) -> Window:
    closes = parse_offset(spec.closes)
    due = parse_offset(spec.due) if spec.due is not None else closes
    return Window(opens=parse_offset(spec.opens), due=due, closes=closes)


def condition(spec: When, name: str, kind: str, ctx: FileCtx, code: str) -> Condition:
    """A `when:` mapping; several words in one mapping must all hold."""
    terms = [
        _term(word, value, raw, f"{name}.{word}", kind, ctx, code)
        for word, value, raw in spec.words()
    ]
    return terms[0] if len(terms) == 1 else AllOf(terms=tuple(terms), raw=spec.written())


def _terms(
    specs: list[When], name: str, kind: str, ctx: FileCtx, code: str
) -> tuple[Condition, ...]:
    return tuple(condition(s, f"{name}[{i}]", kind, ctx, code) for i, s in enumerate(specs))


def _term(
    word: str, value: Any, written: Any, name: str, kind: str, ctx: FileCtx, code: str
) -> Condition:
    """One word of the condition vocabulary, checked against the subject kind."""
    raw = {word: written}
    if word in CONDITION_KINDS and kind not in CONDITION_KINDS[word]:
        allowed = ", ".join(sorted(CONDITION_KINDS[word]))
        raise Invalid(name, f"never holds for a {kind}; it applies to: {allowed}")
    simple: dict[str, Callable[[], Condition]] = {
        "risk_colour_in": lambda: RiskColourIn(colours=tuple(value), raw=raw),
        "preterm": lambda: Preterm(value=value, raw=raw),
        "ga_at_birth_below": lambda: GaAtBirthBelow(days=parse_offset(value).days, raw=raw),
        "enrolled_from_ga": lambda: EnrolledFromGa(days=parse_offset(value).days, raw=raw),
        "mother_age_at_edd_at_least": lambda: MotherAgeAtEddAtLeast(years=value, raw=raw),
        "birth_weight_below_g": lambda: BirthWeightBelow(grams=value, raw=raw),
        "sex": lambda: SexIs(sex=value, raw=raw),
        "born_on_or_after": lambda: BornOnOrAfter(date=value, raw=raw),
        "born_before": lambda: BornBefore(date=value, raw=raw),
    }
    if word in simple:
        return simple[word]()
    if word == "any_of":
        return AnyOf(terms=_terms(value, name, kind, ctx, code), raw=raw)
    if word == "all_of":
        return AllOf(terms=_terms(value, name, kind, ctx, code), raw=raw)
    if word == "not":
        return Not(term=condition(value, name, kind, ctx, code), raw=raw)
    if word == "flag":
        return _flag(value, name, ctx, raw)
    if word == "choice":
        group, option = next(iter(value.items()))
        ctx.refs.append(Ref(ctx.path, code, name, "choice", str(group), str(option)))
        return ChoiceIs(group=str(group), option=str(option), raw=raw)
    if word == "done":
        ctx.refs.append(Ref(ctx.path, code, name, "step", value))
        return Done(step=value, raw=raw)
    return ResultOf(step=step_test(value, name, ctx, code), raw=raw)  # result_of


def _flag(value: Mapping[str, Any], name: str, ctx: FileCtx, raw: Any) -> Condition:
    """A subject flag, checked against the flags declared in definitions.yaml."""
    flag, wanted = next(iter(value.items()))
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


def _signoff(spec: ItemSpec) -> dict[str, str] | None:
    """Who signed the item off, when, and against which page (checked by backend.review)."""
    signed_in = spec.verified_in
    if not spec.verified or spec.verified_by is None or not isinstance(signed_in, Mapping):
        return None
    return {
        "verified_by": str(spec.verified_by),
        "verified_on": str(spec.verified_on),
        "verified_in": f"{signed_in.get('document', '')}, p. {signed_in.get('page', '')}",
    }


def _intervals(spec: ItemSpec, ctx: FileCtx) -> tuple[Interval, ...]:
    listed = isinstance(spec.min_interval, list)
    found = []
    for i, interval in enumerate(spec.intervals()):
        name = f"min_interval[{i}]" if listed else "min_interval"
        ctx.refs.append(Ref(ctx.path, spec.code, f"{name}.after", "interval", interval.after))
        found.append(Interval(after=interval.after, at_least=parse_offset(interval.at_least)))
    return tuple(found)


def _results(spec: ItemSpec) -> tuple[ResultField, ...]:
    return tuple(
        ResultField(
            name=f.name,
            type=f.type,
            label=care_text(f.label) if f.label else None,
            unit=f.unit,
            min=f.min,
            max=f.max,
            values=tuple(f.values or ()),
            per_side=f.per_side,
            required=f.required,
        )
        for f in spec.results or ()
    )


def build_item(spec: ItemSpec, source: Source, ctx: FileCtx) -> Item:
    """The engine's Item of a validated item; Invalid if its context refuses it."""
    anchor = _anchor(spec, ctx)
    when = condition(spec.when, "when", spec.kind, ctx, spec.code) if spec.when else None
    later_of = tuple(
        (_names(entry.anchor, spec.kind, f"later_of[{i}].anchor"), _window(entry.window))
        for i, entry in enumerate(spec.later_of or ())
    )
    return Item(
        code=spec.code,
        programme=ctx.programme,
        kind=spec.kind,
        anchor=anchor,
        window=_window(spec.window),
        title=care_text(spec.title),
        why=care_text(spec.why),
        source=source,
        verified=spec.verified,
        signoff=_signoff(spec),
        path=ctx.path,
        when=when,
        age=spec.age,
        window_if_fallback=_window(spec.window_if_fallback) if spec.window_if_fallback else None,
        later_of=later_of,
        intervals=_intervals(spec, ctx),
        after_end=spec.after_end,
        optional=spec.optional,
        actor=spec.actor,
        parts=tuple(
            Part(
                code=p.code,
                title=care_text(p.title),
                required=p.required,
                sexes=tuple(p.sexes),
                note=p.note,
                verified=p.verified,
            )
            for p in spec.parts or ()
        ),
        results=_results(spec),
        interpretation=tuple(
            Rule(test=field_test(r.when), then=r.then, note=r.note, verified=r.verified)
            for r in spec.interpretation or ()
        ),
        note=spec.note,
    )
