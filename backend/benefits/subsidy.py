"""The national childcare subsidy (育儿补贴) by month of age, from the rules in force (pure)."""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, field
from decimal import Decimal

from backend.benefits.rules import (
    MONTH_FIRSTS,
    MONTH_LASTS,
    BenefitRules,
    RuleVersion,
)
from backend.contraception.reading import (
    Source,
    Text,
)
from backend.months import MONTHS_PER_YEAR, add_months, month_start, months_between

# --- the childcare subsidy ---


@dataclass(frozen=True)
class SubsidyInstalment:
    """The subsidy for one year of the child's age: its months (first days) and amount."""

    year_of_age: int
    first_month: dt.date
    last_month: dt.date
    months: int
    yuan: Decimal
    state: str | None = None  # past | current | future, when today is given


@dataclass(frozen=True)
class ChildcareSubsidy:
    """The childcare subsidy for one child: eligible months, amounts per year, where to apply."""

    born_on: dt.date
    status: str  # eligible | not_eligible
    months: int
    yuan_per_year: int | None
    total_yuan: Decimal
    first_month: dt.date | None
    last_month: dt.date | None
    instalments: tuple[SubsidyInstalment, ...]
    apply: Text | None
    rule_ids: tuple[str, ...]
    sources: tuple[Source, ...]
    verified: bool
    notes: tuple[str, ...] = ()
    accrued_months: int | None = None
    accrued_yuan: Decimal | None = None
    versions: tuple[tuple[str, str], ...] = field(default_factory=tuple)


def childcare_subsidy(
    birth_date: dt.date, rules: BenefitRules, today: dt.date | None = None
) -> ChildcareSubsidy:
    """Months and amounts of the national childcare subsidy for one child, by year of age."""
    months: list[dt.date] = []
    yuan_per_month: dict[dt.date, Decimal] = {}
    used: list[RuleVersion] = []
    apply_text: Text | None = None
    rule_ids: list[str] = []
    sources: list[Source] = []
    notes: list[str] = []
    verified = True
    per_year: int | None = None
    birth_month = month_start(birth_date)
    first_of_life: dt.date | None = None  # the child's first subsidised month, before any cut-off
    for version in rules.of_kind("subsidy_rules"):
        (amount,) = version.of_kind("childcare_subsidy")
        (prorata,) = version.of_kind("childcare_prorata")
        (application,) = version.of_kind("childcare_application")
        if birth_date < prorata.born_on_or_after:
            continue
        age_limit = amount.until_child_age.apply(birth_date)
        first = add_months(birth_month, 1 if prorata.first_month == MONTH_FIRSTS[1] else 0)
        first_of_life = first if first_of_life is None else min(first_of_life, first)
        last = month_start(age_limit)
        if prorata.last_month == MONTH_LASTS[0]:
            last = add_months(last, -1)
        start = max(first, month_start(version.effective_from))
        end = min(last, month_start(version.effective_to)) if version.effective_to else last
        month = start
        found = False
        while month <= end:
            months.append(month)
            yuan_per_month[month] = Decimal(amount.yuan_per_year) / MONTHS_PER_YEAR
            month = add_months(month, 1)
            found = True
        if not found:
            continue
        used.append(version)
        per_year = amount.yuan_per_year
        apply_text = application.apply
        for rule in (amount, prorata, application):
            rule_ids.append(rule.id)
            sources.append(rule.source)
            verified = verified and rule.verified
            if rule.note:
                notes.append(rule.note)
    if not months:
        return ChildcareSubsidy(
            born_on=birth_date,
            status="not_eligible",
            months=0,
            yuan_per_year=None,
            total_yuan=Decimal(0),
            first_month=None,
            last_month=None,
            instalments=(),
            apply=None,
            rule_ids=(),
            sources=(),
            verified=True,
        )
    months.sort()
    assert first_of_life is not None
    origin = first_of_life
    instalments: list[SubsidyInstalment] = []
    for year, group in itertools.groupby(
        months, key=lambda m: months_between(origin, m) // MONTHS_PER_YEAR + 1
    ):
        chunk = list(group)
        state = None
        if today is not None:
            now = month_start(today)
            state = "past" if chunk[-1] < now else "future" if chunk[0] > now else "current"
        instalments.append(
            SubsidyInstalment(
                year_of_age=year,
                first_month=chunk[0],
                last_month=chunk[-1],
                months=len(chunk),
                yuan=_yuan(sum((yuan_per_month[m] for m in chunk), Decimal(0))),
                state=state,
            )
        )
    accrued_months = accrued_yuan = None
    if today is not None:
        done = [m for m in months if m <= month_start(today)]
        accrued_months = len(done)
        accrued_yuan = _yuan(sum((yuan_per_month[m] for m in done), Decimal(0)))
    return ChildcareSubsidy(
        born_on=birth_date,
        status="eligible",
        months=len(months),
        yuan_per_year=per_year,
        total_yuan=_yuan(sum(yuan_per_month.values(), Decimal(0))),
        first_month=months[0],
        last_month=months[-1],
        instalments=tuple(instalments),
        apply=apply_text,
        rule_ids=tuple(rule_ids),
        sources=tuple(sources),
        verified=verified,
        notes=tuple(notes),
        accrued_months=accrued_months,
        accrued_yuan=accrued_yuan,
        versions=tuple((v.table, v.version) for v in used),
    )


def _yuan(amount: Decimal) -> Decimal:
    """Yuan to the fen, as payments are made."""
    return amount.quantize(Decimal("0.01"))
