"""The schedule engine: subject facts + protocols + today → planned care steps, each with a reason.

Pure: no database, no clock, no I/O. `today` is the subject's local date, passed in by the caller.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from backend.care.protocols import (
    KINDS,
    RISK_COLOURS,
    SEXES,
    BirthWeightBelow,
    BornBefore,
    BornOnOrAfter,
    ChoiceIs,
    Condition,
    Done,
    EnrolledFromGa,
    FlagIn,
    GaAtBirthBelow,
    Item,
    MotherAgeAtEddAtLeast,
    NamedAnchor,
    Preterm,
    ProtocolSet,
    ProtocolVersion,
    ResultOf,
    RiskColourIn,
    SexIs,
    StepTest,
    field_test_holds,
    interpret,
)
from backend.conditions import AllOf, AnyOf, Not, Source

UPCOMING = "upcoming"
DUE = "due"
OVERDUE = "overdue"
DONE = "done"
MISSED = "missed"
CANCELLED = "cancelled"
NOT_APPLICABLE = "not_applicable"
STATUSES = (UPCOMING, DUE, OVERDUE, DONE, MISSED, CANCELLED, NOT_APPLICABLE)


@dataclass(frozen=True)
class Completion:
    """A step that was done: when, the interpretation recorded, and the values logged."""

    done_on: dt.date
    interpretation: str | None = None
    values: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SubjectFacts:
    """Everything the engine may know about one woman, pregnancy or child; read-only.

    `anchors` holds the subject's dates by name (lmp, edd, birth, discharge, plan_date,
    marriage_registration, insertion, pregnancy_end, risk_assessment). `completed` maps a step
    code to a Completion (a (done_on, interpretation) tuple is accepted). `ended_on` is set when
    the subject's course ended (a pregnancy by birth or loss): pending steps are then cancelled.
    """

    kind: str
    enrolled_on: dt.date
    anchors: Mapping[str, dt.date] = field(default_factory=dict)
    sex: str | None = None
    ga_at_birth_days: int | None = None
    preterm: bool | None = None
    birth_weight_g: int | None = None
    risk_colours: frozenset[str] = frozenset()
    completed: Mapping[str, Completion] = field(default_factory=dict)
    vaccine_choices: Mapping[str, str] = field(default_factory=dict)
    flags: Mapping[str, Any] = field(default_factory=dict)
    ended_on: dt.date | None = None
    mother_birth_date: dt.date | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, not {self.kind!r}")
        if self.sex is not None and self.sex not in SEXES:
            raise ValueError(f"sex must be one of {SEXES}, not {self.sex!r}")
        colours = frozenset(self.risk_colours)
        if colours - set(RISK_COLOURS):
            raise ValueError(f"unknown risk colours: {sorted(colours - set(RISK_COLOURS))}")
        completed = {
            code: c if isinstance(c, Completion) else Completion(*c)
            for code, c in self.completed.items()
        }
        object.__setattr__(self, "risk_colours", colours)
        object.__setattr__(self, "completed", MappingProxyType(completed))
        for name in ("anchors", "vaccine_choices", "flags"):
            object.__setattr__(self, name, MappingProxyType(dict(getattr(self, name))))


@dataclass(frozen=True)
class Reason:
    """Why a step has its dates and status, in machine-readable form."""

    programme: str
    version: str
    effective_from: dt.date
    anchor: str | None
    anchor_date: dt.date | None
    offsets: Mapping[str, str]
    condition: Any = None
    excluded_by: str | None = None
    adjustments: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly form (dates as ISO strings)."""
        return {
            "programme": self.programme,
            "version": self.version,
            "effective_from": self.effective_from.isoformat(),
            "anchor": self.anchor,
            "anchor_date": self.anchor_date.isoformat() if self.anchor_date else None,
            "offsets": dict(self.offsets),
            "condition": _jsonable(self.condition),
            "excluded_by": self.excluded_by,
            "adjustments": list(self.adjustments),
        }


@dataclass(frozen=True)
class PlannedStep:
    """One step of one subject's schedule: its window, status, texts and reason.

    Dates are None only for a not_applicable step whose anchor is unknown, or a done step whose
    window can no longer be computed; the texts are returned unrendered in every locale.
    """

    code: str
    programme: str
    version: str
    kind: str
    status: str
    opens_on: dt.date | None
    due_on: dt.date | None
    closes_on: dt.date | None
    title: Mapping[str, str]
    why: Mapping[str, str]
    title_key: str
    why_key: str
    source: Source
    verified: bool
    optional: bool
    actor: str
    reason: Reason
    closed_before_enrolment: bool = False
    done_on: dt.date | None = None
    interpretation: str | None = None
    item: Item | None = field(default=None, compare=False, repr=False)


def _jsonable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


@dataclass
class _Window:
    """The window one version gives one item for this subject, before status."""

    version: ProtocolVersion
    item: Item
    anchor: str
    anchor_date: dt.date
    opens: dt.date
    due: dt.date
    closes: dt.date
    adjustments: list[str]


class _Planner:
    """Plans one subject; holds the facts and protocols so helpers stay small."""

    def __init__(self, facts: SubjectFacts, protocols: ProtocolSet, today: dt.date) -> None:
        self.facts = facts
        self.protocols = protocols
        self.today = today
        self.term = dt.timedelta(days=protocols.definitions.term_gestation.days)

    # --- dates ---

    def named_date(self, name: str) -> dt.date | None:
        """A subject date; GA counts from the EDD when one is recorded (it may be corrected)."""
        anchors = self.facts.anchors
        if name == "lmp":
            edd = anchors.get("edd")
            return edd - self.term if edd is not None else anchors.get("lmp")
        if name == "edd":
            lmp = anchors.get("lmp")
            return anchors.get("edd") or (lmp + self.term if lmp is not None else None)
        if name == "enrolment":
            return self.facts.enrolled_on
        return anchors.get(name)

    def is_preterm(self) -> bool | None:
        """Preterm by gestational age at birth when known, else as recorded."""
        if self.facts.ga_at_birth_days is not None:
            return self.facts.ga_at_birth_days < self.protocols.definitions.preterm_below.days
        return self.facts.preterm

    def interpretation(self, code: str, completion: Completion) -> str | None:
        """The recorded interpretation, else the one the item's rules give for the values."""
        if completion.interpretation is not None:
            return completion.interpretation
        try:
            item = self.protocols.item(code, on=completion.done_on)
        except KeyError:
            return None
        return interpret(item, completion.values)

    def latest(self, test: StepTest) -> tuple[str, Completion] | None:
        """The most recent result among the test's steps (with the tested field, if any)."""
        found: tuple[dt.date, int, str, Completion] | None = None
        for index, code in enumerate(test.steps):
            completion = self.facts.completed.get(code)
            if completion is None:
                continue
            if test.test is not None and completion.values.get(test.test.field) is None:
                continue
            if found is None or (completion.done_on, index) >= found[:2]:
                found = (completion.done_on, index, code, completion)
        return None if found is None else (found[2], found[3])

    def step_result(self, test: StepTest) -> dt.date | None:
        """The date of the latest result when it meets the test, else None."""
        found = self.latest(test)
        if found is None:
            return None
        code, completion = found
        if test.interpretations is not None:
            if self.interpretation(code, completion) not in test.interpretations:
                return None
        elif test.test is not None:
            spec = self.protocols.item(code, on=completion.done_on).result_field(test.test.field)
            if not field_test_holds(test.test, spec, completion.values.get(test.test.field)):
                return None
        return completion.done_on

    def anchor(self, item: Item) -> tuple[str, dt.date, list[str]] | None:
        """The anchor's label and date for this subject (corrected for prematurity if asked)."""
        if not isinstance(item.anchor, NamedAnchor):
            day = self.step_result(item.anchor.step)
            return None if day is None else ("step:" + "|".join(item.anchor.step.steps), day, [])
        for name in item.anchor.names:
            day = self.named_date(name)
            if day is None:
                continue
            adjustments: list[str] = []
            if item.age == "corrected" and self.is_preterm():
                ga = self.facts.ga_at_birth_days
                if ga is None:
                    adjustments.append("anchor:corrected_age_needs_ga_at_birth")
                else:
                    shift = self.term.days - ga
                    day += dt.timedelta(days=shift)
                    adjustments.append(f"anchor:corrected_age:+{shift}d")
            return name, day, adjustments
        return None

    def window(
        self, code: str, versions: tuple[ProtocolVersion, ...], *, pending: bool = True
    ) -> _Window | str:
        """The window under the version in force when the step falls due, or why there is none.

        A step falls due when its window opens. The programme's first version is taken to apply
        to every earlier date; a later version governs a step that opens while it is in force,
        or opened before it but is still open then: its opening then moves to the version's
        first day, with the usual time to be on time after it (a catch-up, as when a vaccine
        joins the programme). A step not done yet whose window is still open when a later
        version changes it (the 2025 DTaP ages, DT becoming DTaP) follows that later version;
        if the later version gives it no window, it keeps the earlier one.
        """
        why_not = "anchor"
        earlier: _Window | None = None
        for index, version in enumerate(versions):
            item = version.items.get(code)
            if item is None:
                continue
            anchored = self.anchor(item)
            if anchored is None:
                why_not = "anchor"
                continue
            label, day, adjustments = anchored
            window = item.window
            fallback = item.window_if_fallback
            if fallback is not None and isinstance(item.anchor, NamedAnchor):
                fallback = fallback if label != item.anchor.names[0] else None
            if fallback is not None:
                window = fallback  # the first date is not known yet
                adjustments.append(f"window:fallback:{label}")
            opens = window.opens.apply(day)
            due = window.due.apply(day)
            closes = window.closes.apply(day)
            for alternative, alt_window in item.later_of:
                alt_day = next(
                    (d for d in map(self.named_date, alternative.names) if d is not None), None
                )
                if alt_day is not None and alt_window.opens.apply(alt_day) > opens:
                    opens = alt_window.opens.apply(alt_day)
                    due = alt_window.due.apply(alt_day)
                    closes = alt_window.closes.apply(alt_day)
                    label, day = "|".join(alternative.names), alt_day
                    adjustments.append(f"window:later_of:{label}")
            start = max(opens, version.effective_from) if index > 0 else opens
            if version.effective_to is not None and start > version.effective_to:
                why_not = "version"
                continue
            if start > closes:
                why_not = "version"
                continue
            if start != opens:
                # A catch-up keeps the usual time to be on time, counted from the new opening.
                due = min(closes, max(due, start + (due - opens)))
                adjustments.append(f"opens:version_effective_from:{version.effective_from}")
            found = _Window(version, item, label, day, start, due, closes, adjustments)
            if (
                pending
                and version.effective_to is not None
                and closes > version.effective_to
                and self.today > version.effective_to
                and _changed_later(code, item, versions[index + 1 :])
            ):
                earlier = earlier or found  # still open at the change: the new rule applies
                continue
            return found
        if earlier is not None:
            return earlier
        return why_not

    # --- conditions ---

    def holds(self, cond: Condition, version: ProtocolVersion) -> tuple[bool, list[dt.date]]:
        """Whether a condition holds, with the dates of the results it relied on."""
        if isinstance(cond, AllOf):
            dates: list[dt.date] = []
            for term in cond.terms:
                ok, found = self.holds(term, version)
                if not ok:
                    return False, []
                dates += found
            return True, dates
        if isinstance(cond, AnyOf):
            for term in cond.terms:
                ok, found = self.holds(term, version)
                if ok:
                    return True, found
            return False, []
        if isinstance(cond, Not):
            return not self.holds(cond.term, version)[0], []
        if isinstance(cond, ResultOf):
            day = self.step_result(cond.step)
            return (day is not None), ([day] if day is not None else [])
        return self.fact_holds(cond, version), []

    def fact_holds(self, cond: Condition, version: ProtocolVersion) -> bool:
        """Conditions on plain facts; an unknown fact never satisfies a condition."""
        facts = self.facts
        birth = facts.anchors.get("birth")
        if isinstance(cond, RiskColourIn):
            return bool(facts.risk_colours & set(cond.colours))
        if isinstance(cond, Preterm):
            preterm = self.is_preterm()
            return preterm is not None and preterm == cond.value
        if isinstance(cond, GaAtBirthBelow):
            return facts.ga_at_birth_days is not None and facts.ga_at_birth_days < cond.days
        if isinstance(cond, EnrolledFromGa):
            lmp = self.named_date("lmp")
            return lmp is not None and (facts.enrolled_on - lmp).days >= cond.days
        if isinstance(cond, MotherAgeAtEddAtLeast):
            edd, born = self.named_date("edd"), facts.mother_birth_date
            if edd is None or born is None:
                return False
            age = edd.year - born.year - ((edd.month, edd.day) < (born.month, born.day))
            return age >= cond.years
        if isinstance(cond, BirthWeightBelow):
            return facts.birth_weight_g is not None and facts.birth_weight_g < cond.grams
        if isinstance(cond, SexIs):
            return facts.sex == cond.sex
        if isinstance(cond, BornOnOrAfter):
            return birth is not None and birth >= cond.date
        if isinstance(cond, BornBefore):
            return birth is not None and birth < cond.date
        if isinstance(cond, FlagIn):
            return cond.name in facts.flags and facts.flags[cond.name] in cond.values
        if isinstance(cond, ChoiceIs):
            group = version.choices.get(cond.group)
            default = group.default if group is not None else None
            return facts.vaccine_choices.get(cond.group, default) == cond.option
        if isinstance(cond, Done):
            return cond.step in facts.completed
        raise TypeError(f"unknown condition {cond!r}")  # pragma: no cover - loader forbids it

    # --- steps ---

    def plan_code(self, code: str, versions: tuple[ProtocolVersion, ...]) -> PlannedStep:
        """One step for this subject: done, not applicable, or dated with a status."""
        completion = self.facts.completed.get(code)
        window = self.window(code, versions, pending=completion is None)
        if completion is not None:
            return self.done_step(code, versions, window, completion)
        if isinstance(window, str):
            return self.excluded_step(code, versions, window)
        item, version = window.item, window.version
        triggers: list[dt.date] = []
        if item.when is not None:
            ok, triggers = self.holds(item.when, version)
            if not ok:
                return self.make(window, NOT_APPLICABLE, excluded_by="condition")
        if triggers and max(triggers) > window.opens:
            window.opens = max(triggers)
            window.adjustments.append(f"opens:after_result:{window.opens}")
        for interval in item.intervals:
            previous = self.facts.completed.get(interval.after)
            if previous is None:
                continue
            earliest = interval.at_least.apply(previous.done_on)
            if earliest > window.opens:
                window.opens = earliest
                window.adjustments.append(
                    f"opens:min_interval:{interval.after}+{interval.at_least}"
                )
        window.due = max(window.due, window.opens)
        if window.closes < window.due:
            window.closes = window.due
            window.adjustments.append("closes:moved_to_due")
        return self.make(window, self.status(item, window))

    def status(self, item: Item, window: _Window) -> str:
        """upcoming < opens ≤ due ≤ due_on < overdue ≤ closes < missed; ends cancel the rest."""
        ended = self.facts.ended_on
        if ended is not None and not item.after_end:
            if ended < self.facts.enrolled_on:
                # Recorded after it ended (a mother who joined after the birth): its steps
                # before the end were never hers to miss, so none is planned.
                return CANCELLED
            return MISSED if window.closes < ended else CANCELLED
        if self.today < window.opens:
            return UPCOMING
        if self.today <= window.due:
            return DUE
        if self.today <= window.closes:
            return OVERDUE
        return MISSED

    def make(
        self,
        window: _Window,
        status: str,
        *,
        excluded_by: str | None = None,
        completion: Completion | None = None,
    ) -> PlannedStep:
        """Assemble a PlannedStep from a computed window."""
        item, version = window.item, window.version
        reason = Reason(
            programme=item.programme,
            version=version.version,
            effective_from=version.effective_from,
            anchor=window.anchor,
            anchor_date=window.anchor_date,
            offsets=item.window.as_text(),
            condition=_raw(item.when),
            excluded_by=excluded_by,
            adjustments=tuple(window.adjustments),
        )
        return PlannedStep(
            code=item.code,
            programme=item.programme,
            version=version.version,
            kind=item.kind,
            status=status,
            opens_on=window.opens,
            due_on=window.due,
            closes_on=window.closes,
            title=item.title,
            why=item.why,
            title_key=item.title_key,
            why_key=item.why_key,
            source=item.source,
            verified=item.verified,
            optional=item.optional,
            actor=item.actor,
            reason=reason,
            closed_before_enrolment=status == MISSED and window.closes < self.facts.enrolled_on,
            done_on=completion.done_on if completion else None,
            interpretation=self.interpretation(item.code, completion) if completion else None,
            item=item,
        )

    def undated(
        self,
        version: ProtocolVersion,
        item: Item,
        status: str,
        excluded_by: str | None,
        completion: Completion | None,
    ) -> PlannedStep:
        """A step without a computable window (anchor unknown, or no version in force)."""
        reason = Reason(
            programme=item.programme,
            version=version.version,
            effective_from=version.effective_from,
            anchor=None,
            anchor_date=None,
            offsets=item.window.as_text(),
            condition=_raw(item.when),
            excluded_by=excluded_by,
        )
        return PlannedStep(
            code=item.code,
            programme=item.programme,
            version=version.version,
            kind=item.kind,
            status=status,
            opens_on=None,
            due_on=None,
            closes_on=None,
            title=item.title,
            why=item.why,
            title_key=item.title_key,
            why_key=item.why_key,
            source=item.source,
            verified=item.verified,
            optional=item.optional,
            actor=item.actor,
            reason=reason,
            done_on=completion.done_on if completion else None,
            interpretation=self.interpretation(item.code, completion) if completion else None,
            item=item,
        )

    def done_step(
        self,
        code: str,
        versions: tuple[ProtocolVersion, ...],
        window: _Window | str,
        completion: Completion,
    ) -> PlannedStep:
        """Done steps are reported as done, whatever the conditions say now."""
        if not isinstance(window, str):
            return self.make(window, DONE, completion=completion)
        holding = [v for v in versions if code in v.items]
        version = next(
            (v for v in reversed(holding) if v.effective_from <= completion.done_on), holding[0]
        )
        return self.undated(version, version.items[code], DONE, None, completion)

    def excluded_step(
        self, code: str, versions: tuple[ProtocolVersion, ...], why_not: str
    ) -> PlannedStep:
        """A not_applicable step: its anchor is unknown or no version gives it a window."""
        version = [v for v in versions if code in v.items][-1]
        return self.undated(version, version.items[code], NOT_APPLICABLE, why_not, None)


def _changed_later(code: str, item: Item, later: tuple[ProtocolVersion, ...]) -> bool:
    """Whether a later version changes this item (its window or what it is), not just repeats it."""
    changed = (v.items[code] for v in later if code in v.items)
    return any(c.window != item.window or c.title != item.title for c in changed)


def _raw(cond: Condition | None) -> Any:
    return None if cond is None else cond.raw


def _order(step: PlannedStep) -> tuple[dt.date, dt.date, dt.date, str, str]:
    far = dt.date.max
    return (
        step.opens_on or far,
        step.due_on or far,
        step.closes_on or far,
        step.programme,
        step.code,
    )


def plan(
    facts: SubjectFacts,
    protocols: ProtocolSet,
    today: dt.date,
    *,
    include_not_applicable: bool = False,
) -> list[PlannedStep]:
    """Every step of the protocols for this subject as of `today`, ordered by date then code.

    Steps that do not apply (a condition excludes them, the anchor is not known yet, or no
    programme version covers them) are left out unless `include_not_applicable` is set, in
    which case they come back with status not_applicable and `reason.excluded_by` saying why.
    Done steps are always returned. Twins are simply two child subjects.
    """
    planner = _Planner(facts, protocols, today)
    steps: list[PlannedStep] = []
    for name in sorted(protocols.programmes):
        versions = protocols.programmes[name]
        codes: dict[str, Item] = {}
        for version in versions:
            for code, item in version.items.items():
                codes.setdefault(code, item)
        for code, item in codes.items():
            if item.kind != facts.kind:
                continue
            step = planner.plan_code(code, versions)
            if step.status == NOT_APPLICABLE and not include_not_applicable:
                continue
            steps.append(step)
    steps.sort(key=_order)
    return steps
