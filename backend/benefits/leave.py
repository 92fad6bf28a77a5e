"""Leave after a birth or loss by the rule version in force at the birth (pure).

Where the reference leaves a case open, the result says so with the reference's words (status
`unsettled`) instead of a number.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from backend.benefits.rules import (
    CONDITIONAL,
    MATERNITY_KINDS,
    NOTE,
    SETTLED,
    UNSETTLED,
    BenefitRules,
    LeaveRule,
    OpenQuestion,
    RuleVersion,
)
from backend.conditions import Source, Text

# --- leave ---


@dataclass(frozen=True)
class BirthFacts:
    """A birth or loss on record, or a planned birth (date and child order only).

    `child_order` is the order of this birth among the children counted by the rules (1 for a
    first child; twins born first are child order 1 with babies=2). A loss sets `loss_ga_weeks`
    (completed weeks); `difficult_birth` is None when no doctor has said either way.
    """

    date: dt.date
    child_order: int | None = None
    babies: int = 1
    difficult_birth: bool | None = None
    caesarean: bool = False
    loss_ga_weeks: int | None = None

    def __post_init__(self) -> None:
        if self.babies < 1:
            raise ValueError(f"babies must be at least 1, not {self.babies}")
        if self.child_order is not None and self.child_order < 1:
            raise ValueError(f"child_order must be at least 1, not {self.child_order}")
        if self.loss_ga_weeks is not None and self.loss_ga_weeks < 0:
            raise ValueError(f"loss_ga_weeks must be 0 or more, not {self.loss_ga_weeks}")
        if self.loss_ga_weeks is None and self.child_order is None:
            raise ValueError("a birth needs its child_order")

    @classmethod
    def planned(cls, birth_date: dt.date, child_order: int) -> BirthFacts:
        """A planned or past birth known only by its date and child order."""
        return cls(date=birth_date, child_order=child_order)


@dataclass(frozen=True)
class LeaveComponent:
    """One part of the leave: days (or hours a day), dates when counted in calendar days.

    `status` is settled (counted), conditional (counted only if a fact is certified: days shown,
    not in the total) or unsettled (the law is unclear: no days, the reference's words instead).
    `per` is "once" for leave granted once for the event and "year" for leave granted each year.
    """

    rule_id: str
    kind: str
    holder: str
    title: Text
    days: int | None
    counting: str
    starts_on: dt.date | None
    ends_on: dt.date | None
    status: str
    table: str
    version: str
    source: Source
    verified: bool
    per: str = "once"
    hours_per_working_day: int | None = None
    open_questions: tuple[Text, ...] = ()
    note: str | None = None


@dataclass(frozen=True)
class LeaveEntitlement:
    """The leave for one birth or loss: its parts, the mother's total and what is unsettled."""

    event: str  # birth | loss
    date: dt.date
    components: tuple[LeaveComponent, ...]
    maternity_days: int | None
    maternity_starts_on: dt.date | None
    maternity_ends_on: dt.date | None
    status: str  # settled | unsettled
    open_questions: tuple[OpenQuestion, ...]
    versions: tuple[tuple[str, str], ...]  # (table, version) used

    def component(self, rule_id: str) -> LeaveComponent:
        """The part that comes from one rule."""
        return next(c for c in self.components if c.rule_id == rule_id)

    def of_kind(self, kind: str) -> tuple[LeaveComponent, ...]:
        """The parts of one kind."""
        return tuple(c for c in self.components if c.kind == kind)


def _component(
    rule: LeaveRule, version: RuleVersion, *, days: int | None, status: str = SETTLED, **more: Any
) -> LeaveComponent:
    return LeaveComponent(
        rule_id=rule.id,
        kind=rule.kind,
        holder=rule.holder,
        title=rule.title,
        days=days,
        counting=rule.counting,
        starts_on=more.pop("starts_on", None),
        ends_on=more.pop("ends_on", None),
        status=status,
        table=version.table,
        version=version.version,
        source=rule.source,
        verified=rule.verified,
        note=rule.note,
        **more,
    )


def _cases(birth: BirthFacts, version: RuleVersion) -> set[str]:
    """The open cases this birth raises under one version."""
    cases = {"always"}
    if birth.babies >= 2:
        cases.add("multiple_birth")
    if birth.caesarean and birth.difficult_birth is None:
        cases.add("caesarean_without_certificate")
    extensions = version.of_kind("extension")
    if extensions and not any(birth.child_order in r.child_orders for r in extensions):
        cases.add("child_order_not_listed")
    return cases


def _birth_components(birth: BirthFacts, version: RuleVersion) -> list[LeaveComponent]:
    """The parts one version grants for a birth (before open questions are applied)."""
    parts: list[LeaveComponent] = []
    for rule in version.rules:
        assert isinstance(rule, LeaveRule)
        granted = (
            rule.kind in ("maternity", "paternity")
            or (rule.kind == "difficult_birth" and birth.difficult_birth is True)
            or (rule.kind == "extension" and birth.child_order in rule.child_orders)
        )
        if granted:
            parts.append(_component(rule, version, days=rule.days))
        elif rule.kind == "extra_baby" and birth.babies >= 2:
            parts.append(_component(rule, version, days=(rule.days or 0) * (birth.babies - 1)))
        elif rule.kind == "nursing":
            assert rule.until_child_age is not None
            parts.append(
                _component(
                    rule,
                    version,
                    days=None,
                    starts_on=birth.date,
                    ends_on=rule.until_child_age.apply(birth.date) - dt.timedelta(days=1),
                    hours_per_working_day=(rule.hours_per_working_day or 0)
                    + (rule.extra_hours_per_extra_baby or 0) * (birth.babies - 1),
                )
            )
    return parts


def _parental(birth: BirthFacts, rules: BenefitRules) -> list[LeaveComponent]:
    """Parental leave of every version in force while the child is under the age limit."""
    parts: list[LeaveComponent] = []
    for version in rules.of_kind("leave_rules"):
        for rule in version.of_kind("parental"):
            assert rule.until_child_age is not None
            last = rule.until_child_age.apply(birth.date) - dt.timedelta(days=1)
            starts = max(birth.date, version.effective_from)
            ends = min(last, version.effective_to) if version.effective_to else last
            if starts > ends:
                continue
            parts.append(
                _component(
                    rule,
                    version,
                    days=rule.days_per_year,
                    per="year",
                    starts_on=starts,
                    ends_on=ends,
                )
            )
    return parts


def _apply(
    question: OpenQuestion,
    parts: list[LeaveComponent],
    rules_by_id: Mapping[str, tuple[LeaveRule, RuleVersion]],
) -> bool:
    """Mark the parts a question touches (adding the conditional or unsettled ones it implies)."""
    touched = False
    for rule_id in question.affects:
        index = next((i for i, p in enumerate(parts) if p.rule_id == rule_id), None)
        if index is not None:
            part = parts[index]
            parts[index] = replace(
                part,
                status=part.status if question.status == NOTE else question.status,
                days=None if question.status == UNSETTLED else part.days,
                starts_on=None if question.status == UNSETTLED else part.starts_on,
                ends_on=None if question.status == UNSETTLED else part.ends_on,
                open_questions=(*part.open_questions, question.text),
            )
            touched = True
        elif question.status != NOTE and rule_id in rules_by_id:
            if question.case == "child_order_not_listed" and any(
                p.status == UNSETTLED and p.kind == "extension" for p in parts
            ):
                continue  # one unsettled extension is enough, whichever rule it names
            rule, version = rules_by_id[rule_id]
            if question.case == "multiple_birth" and rule.kind == "extension":
                continue  # only extensions this birth gets are unsettled by twins
            part = _component(
                rule,
                version,
                days=None if question.status == UNSETTLED else rule.days,
                status=question.status,
                open_questions=(question.text,),
            )
            parts.append(replace(part, title=question.title) if question.title else part)
            touched = True
    return touched


def _date_maternity(
    parts: list[LeaveComponent], start: dt.date
) -> tuple[int | None, dt.date | None]:
    """Give the mother's settled calendar-day parts consecutive dates from the birth."""
    maternity = [p for p in parts if p.kind in MATERNITY_KINDS and p.status != CONDITIONAL]
    if any(p.status == UNSETTLED for p in maternity):
        return None, None
    order = {kind: i for i, kind in enumerate(MATERNITY_KINDS)}
    day = start
    for part in sorted(maternity, key=lambda p: order[p.kind]):
        if part.counting != "calendar" or part.days is None:
            return sum(p.days or 0 for p in maternity), None
        index = parts.index(part)
        ends = day + dt.timedelta(days=part.days - 1)
        parts[index] = replace(part, starts_on=day, ends_on=ends)
        day = ends + dt.timedelta(days=1)
    total = sum(p.days or 0 for p in maternity)
    return total, (day - dt.timedelta(days=1)) if total else None


def leave_for(birth: BirthFacts, rules: BenefitRules) -> LeaveEntitlement:
    """The leave for one birth or loss under the rules in force on its date."""
    if birth.loss_ga_weeks is not None:
        return _loss_leave(birth, rules)
    chosen = [v for v in rules.of_kind("leave_rules") if v.in_force(birth.date)]
    parts: list[LeaveComponent] = []
    for version in chosen:
        parts += _birth_components(birth, version)
    parts += _parental(birth, rules)
    rules_by_id = {r.id: (r, v) for v in chosen for r in v.rules if isinstance(r, LeaveRule)}
    asked: list[OpenQuestion] = []
    for version in chosen:
        cases = _cases(birth, version)
        for question in version.open_questions:
            if question.case in cases and _apply(question, parts, rules_by_id):
                asked.append(question)
    for version in rules.of_kind("leave_rules"):
        # A later version whose own questions concern leave already running when it started,
        # and parental leave of later versions (already in `parts`) with their notes.
        if version in chosen or version.effective_from <= birth.date:
            continue
        _, ends = _date_maternity(list(parts), birth.date)
        for question in version.open_questions:
            # Unknown when the leave ends (already unsettled): not flagged again.
            running = (
                question.case == "leave_running_at_change"
                and ends is not None
                and ends >= version.effective_from
            )
            if (running or question.case == "always") and _apply(
                question,
                parts,
                rules_by_id
                | {r.id: (r, version) for r in version.rules if isinstance(r, LeaveRule)},
            ):
                asked.append(question)
    total, ends = _date_maternity(parts, birth.date)
    if not any(p.kind in MATERNITY_KINDS for p in parts):
        total = None  # no rule table covers this date
    used = dict.fromkeys(
        [(v.table, v.version) for v in chosen] + [(p.table, p.version) for p in parts]
    )
    return LeaveEntitlement(
        event="birth",
        date=birth.date,
        components=tuple(parts),
        maternity_days=total,
        maternity_starts_on=birth.date if ends is not None else None,
        maternity_ends_on=ends,
        status=UNSETTLED if total is None else SETTLED,
        open_questions=tuple(asked),
        versions=tuple(used),
    )


def _loss_leave(birth: BirthFacts, rules: BenefitRules) -> LeaveEntitlement:
    """Leave after a miscarriage, abortion or stillbirth: one band by gestational age."""
    weeks = birth.loss_ga_weeks
    assert weeks is not None
    chosen = [v for v in rules.of_kind("leave_rules") if v.in_force(birth.date)]
    parts: list[LeaveComponent] = []
    for version in chosen:
        for rule in version.of_kind("pregnancy_loss"):
            if rule.ga_weeks_at_least <= weeks and (
                rule.ga_weeks_below is None or weeks < rule.ga_weeks_below
            ):
                if rule.days is None:
                    parts.append(
                        _component(
                            rule,
                            version,
                            days=None,
                            status=UNSETTLED,
                            open_questions=(rule.unsettled,) if rule.unsettled else (),
                        )
                    )
                    continue
                ends = (
                    birth.date + dt.timedelta(days=rule.days - 1)
                    if rule.counting == "calendar"
                    else None
                )
                parts.append(
                    _component(rule, version, days=rule.days, starts_on=birth.date, ends_on=ends)
                )
    unsettled = any(p.status == UNSETTLED for p in parts) or not parts
    settled = [p for p in parts if p.status == SETTLED]
    questions = tuple(
        OpenQuestion(
            case="pregnancy_loss",
            affects=(p.rule_id,),
            status=UNSETTLED,
            text=p.open_questions[0],
            source=p.source,
        )
        for p in parts
        if p.status == UNSETTLED and p.open_questions
    )
    total = sum(p.days or 0 for p in settled) if not unsettled else None
    ends_on = max((p.ends_on for p in settled if p.ends_on), default=None)
    return LeaveEntitlement(
        event="loss",
        date=birth.date,
        components=tuple(parts),
        maternity_days=total,
        maternity_starts_on=birth.date if total is not None else None,
        maternity_ends_on=ends_on if total is not None else None,
        status=UNSETTLED if unsettled else SETTLED,
        open_questions=questions,
        versions=tuple((v.table, v.version) for v in chosen),
    )
