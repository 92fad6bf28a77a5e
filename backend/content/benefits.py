"""content/benefits/*.yaml: leave and subsidy rule tables, one version of one table a file.

Each rule is one of a closed set of kinds (the `kind:` key chooses its model), with the fields
that kind needs. Checks that need the calculator (the published subsidy examples) or every file
(the version chain, the rules an open question affects) are run by backend/benefits/loading.py.
"""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, StrictInt, model_validator

from backend.content.common import Code, OffsetText, Strict, at, offset_of
from backend.content.mec import MecProvenance, MecSourceRef, MecText

RULE_ID = r"^[A-Z][A-Z0-9_-]*$"
RuleId = Annotated[str, Field(pattern=RULE_ID, examples=["NAT-MAT-BASE"])]
Positive = Annotated[StrictInt, Field(ge=1)]
Whole = Annotated[StrictInt, Field(ge=0)]
Holder = Literal["mother", "father", "each_parent"]
Counting = Literal["calendar", "working", "unspecified"]
Case = Literal[
    "multiple_birth",
    "child_order_not_listed",
    "caesarean_without_certificate",
    "leave_running_at_change",
    "always",
]
Version = Annotated[str, Field(min_length=1, pattern=r"\S", examples=["2021"])]


def _an_age(value: str) -> str:
    if offset_of(value).approx_days <= 0:
        raise ValueError("must be an age such as 3y")
    return value


Age = Annotated[OffsetText, AfterValidator(_an_age)]


class Rule(MecProvenance):
    """What every rule has: a stable id, a title and its provenance."""

    id: RuleId
    title: MecText


class LeaveRule(Rule):
    holder: Holder
    counting: Counting


class Maternity(LeaveRule):
    kind: Literal["maternity"]
    days: Positive
    days_before_birth_allowed: Positive | None = None

    @model_validator(mode="after")
    def _before_within(self) -> Maternity:
        if (self.days_before_birth_allowed or 0) > self.days:
            raise at("days_before_birth_allowed", "cannot exceed days")
        return self


class DifficultBirth(LeaveRule):
    kind: Literal["difficult_birth"]
    days: Positive


class ExtraBaby(LeaveRule):
    kind: Literal["extra_baby"]
    days: Positive


class Extension(LeaveRule):
    kind: Literal["extension"]
    days: Positive
    child_orders: list[Positive] = Field(min_length=1)


class Paternity(LeaveRule):
    kind: Literal["paternity"]
    days: Positive


class Parental(LeaveRule):
    kind: Literal["parental"]
    days_per_year: Positive
    until_child_age: Age


class Nursing(LeaveRule):
    kind: Literal["nursing"]
    hours_per_working_day: Whole
    extra_hours_per_extra_baby: Whole
    until_child_age: Age


class GaWeeks(Strict):
    at_least: Whole
    below: Positive | None = None

    @model_validator(mode="after")
    def _ordered(self) -> GaWeeks:
        if self.below is not None and self.below <= self.at_least:
            raise at("below", "must be above at_least")
        return self


class PregnancyLoss(LeaveRule):
    kind: Literal["pregnancy_loss"]
    ga_weeks: GaWeeks
    days: Positive | None = None
    unsettled: MecText | None = None

    @model_validator(mode="after")
    def _days_or_unsettled(self) -> PregnancyLoss:
        if (self.days is None) == (self.unsettled is None):
            raise at("days", "give the days, or days: null with the `unsettled` text")
        return self


AnyLeaveRule = Annotated[
    Maternity
    | DifficultBirth
    | ExtraBaby
    | Extension
    | Paternity
    | Parental
    | Nursing
    | PregnancyLoss,
    Field(discriminator="kind"),
]


def _whole_months(value: str) -> str:
    offset = offset_of(value)
    if offset.days or offset.months <= 0:
        raise ValueError("must be whole months or years, such as 3y")
    return value


class SubsidyExample(Strict):
    """A published example the pro-rating rule must reproduce (checked when loading)."""

    born_on: dt.date
    months: Whole
    yuan: Whole


class ChildcareSubsidy(Rule):
    kind: Literal["childcare_subsidy"]
    yuan_per_year: Positive
    until_child_age: Annotated[OffsetText, AfterValidator(_whole_months)]


class ChildcareProrata(Rule):
    kind: Literal["childcare_prorata"]
    born_on_or_after: dt.date
    first_month: Literal["birth_month", "month_after_birth"]
    last_month: Literal["month_before_third_birthday", "month_of_third_birthday"]
    examples: list[SubsidyExample] = Field(min_length=1)


class ChildcareApplication(Rule):
    kind: Literal["childcare_application"]
    apply: MecText


SUBSIDY_KINDS = ("childcare_subsidy", "childcare_prorata", "childcare_application")
AnySubsidyRule = Annotated[
    ChildcareSubsidy | ChildcareProrata | ChildcareApplication, Field(discriminator="kind")
]


class OpenQuestion(Strict):
    """A case the reference leaves open: which rules it touches and what to tell people."""

    case: Case
    affects: list[RuleId] = Field(min_length=1)
    status: Literal["conditional", "unsettled", "note"]
    text: MecText
    source: MecSourceRef
    title: MecText | None = None  # names the part it adds when the birth has none of `affects`


class RuleFile(MecProvenance):
    """What every benefits file has: which table and version it is, and when it is in force."""

    table: Code
    jurisdiction: Literal["national", "zhejiang"]
    version: Version
    effective_from: dt.date
    effective_to: dt.date | None = None
    title: MecText
    open_questions: list[OpenQuestion] = Field(default_factory=list)

    @model_validator(mode="after")
    def _dates_and_ids(self) -> RuleFile:
        if self.effective_to is not None and self.effective_to < self.effective_from:
            raise at("effective_to", "is before effective_from")
        seen: set[str] = set()
        for index, rule in enumerate(self.rules):  # type: ignore[attr-defined]
            if rule.id in seen:
                raise at(f"rules.{index}.id", "used twice in this file")
            seen.add(rule.id)
        return self


class LeaveRulesFile(RuleFile):
    """A leave table (content/benefits/*.yaml with kind: leave_rules)."""

    kind: Literal["leave_rules"]
    rules: list[AnyLeaveRule] = Field(min_length=1)

    @model_validator(mode="after")
    def _bands_and_cases(self) -> LeaveRulesFile:
        """Loss bands cover every week; extensions say what happens to an unlisted child."""
        bands = sorted(
            (r for r in self.rules if isinstance(r, PregnancyLoss)),
            key=lambda r: r.ga_weeks.at_least,
        )
        if bands:
            edges = [(r.ga_weeks.at_least, r.ga_weeks.below) for r in bands]
            if edges[0][0] != 0 or edges[-1][1] is not None:
                raise at(
                    "rules",
                    "pregnancy_loss bands must start at 0 weeks and the last must be open-ended",
                )
            for (_, below), (at_least, _) in itertools.pairwise(edges):
                if below != at_least:
                    raise at(
                        "rules",
                        "pregnancy_loss bands must meet without gap or overlap "
                        f"({below} vs {at_least} weeks)",
                    )
        if any(isinstance(r, Extension) for r in self.rules) and not any(
            q.case == "child_order_not_listed" for q in self.open_questions
        ):
            raise at(
                "open_questions",
                "a table with extension rules must say what happens to a child order it does "
                "not list (case child_order_not_listed)",
            )
        return self


class SubsidyRulesFile(RuleFile):
    """The subsidy table (kind: subsidy_rules): one rule of each subsidy kind."""

    kind: Literal["subsidy_rules"]
    rules: list[AnySubsidyRule] = Field(min_length=1)

    @model_validator(mode="after")
    def _one_of_each(self) -> SubsidyRulesFile:
        for kind in SUBSIDY_KINDS:
            if sum(r.kind == kind for r in self.rules) != 1:
                raise at("rules", f"needs exactly one rule of kind {kind}")
        return self


BenefitRulesFile = Annotated[LeaveRulesFile | SubsidyRulesFile, Field(discriminator="kind")]
