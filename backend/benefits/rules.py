"""Family benefit rule tables (content/benefits) as types: leave rules, subsidy rules, versions.

Time-versioned: the version in force at a birth is chosen by its date.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from backend.care.offsets import Offset
from backend.conditions import Source, Text

CONTENT_DIR = Path(__file__).resolve().parents[2] / "content" / "benefits"

FILE_KINDS = ("leave_rules", "subsidy_rules")
JURISDICTIONS = ("national", "zhejiang")  # applied in this order: national first
HOLDERS = ("mother", "father", "each_parent")
COUNTINGS = ("calendar", "working", "unspecified")
# The mother's leave for a birth, in the order its parts follow each other from the birth.
MATERNITY_KINDS = ("maternity", "difficult_birth", "extra_baby", "extension")
LEAVE_KINDS = (*MATERNITY_KINDS, "paternity", "parental", "nursing", "pregnancy_loss")
SUBSIDY_KINDS = ("childcare_subsidy", "childcare_prorata", "childcare_application")
# Cases the calculator can recognise; the files say which are open and what to tell people.
CASES = (
    "multiple_birth",
    "child_order_not_listed",
    "caesarean_without_certificate",
    "leave_running_at_change",
    "always",
)
SETTLED = "settled"
CONDITIONAL = "conditional"
UNSETTLED = "unsettled"
NOTE = "note"
QUESTION_STATUSES = (CONDITIONAL, UNSETTLED, NOTE)
MONTH_FIRSTS = ("birth_month", "month_after_birth")
MONTH_LASTS = ("month_before_third_birthday", "month_of_third_birthday")
RULE_ID = re.compile(r"^[A-Z][A-Z0-9_-]*$")


# --- the rules, once loaded ---


@dataclass(frozen=True)
class LeaveRule:
    """One rule of a leave table; which fields are set depends on `kind`."""

    id: str
    kind: str
    holder: str
    title: Text
    counting: str
    source: Source
    verified: bool
    days: int | None = None
    days_before_birth_allowed: int | None = None
    child_orders: tuple[int, ...] = ()
    days_per_year: int | None = None
    until_child_age: Offset | None = None
    ga_weeks_at_least: int | None = None
    ga_weeks_below: int | None = None
    hours_per_working_day: int | None = None
    extra_hours_per_extra_baby: int | None = None
    unsettled: Text | None = None
    note: str | None = None


@dataclass(frozen=True)
class SubsidyExample:
    """A published example the pro-rating rule must reproduce (checked when loading)."""

    born_on: dt.date
    months: int
    yuan: int


@dataclass(frozen=True)
class SubsidyRule:
    """One rule of the subsidy table: the amount, the pro-rating, or where to apply."""

    id: str
    kind: str
    title: Text
    source: Source
    verified: bool
    yuan_per_year: int | None = None
    until_child_age: Offset | None = None
    born_on_or_after: dt.date | None = None
    first_month: str | None = None
    last_month: str | None = None
    examples: tuple[SubsidyExample, ...] = ()
    apply: Text | None = None
    note: str | None = None


@dataclass(frozen=True)
class OpenQuestion:
    """A case the reference leaves open: which rules it touches and what to tell people."""

    case: str
    affects: tuple[str, ...]
    status: str
    text: Text
    source: Source
    title: Text | None = None  # names the part it adds when the birth has none of `affects`


@dataclass(frozen=True)
class RuleVersion:
    """One version of a rule table, in force for births from `effective_from` to `effective_to`."""

    kind: str
    table: str
    jurisdiction: str
    version: str
    effective_from: dt.date
    effective_to: dt.date | None
    title: Text
    source: Source
    verified: bool
    path: str
    rules: tuple[LeaveRule | SubsidyRule, ...]
    open_questions: tuple[OpenQuestion, ...] = ()
    note: str | None = None

    def in_force(self, day: dt.date) -> bool:
        """True when this version applies on `day`."""
        return self.effective_from <= day and (
            self.effective_to is None or day <= self.effective_to
        )

    def of_kind(self, kind: str) -> tuple[Any, ...]:
        """The rules of one kind, in file order."""
        return tuple(r for r in self.rules if r.kind == kind)


@dataclass(frozen=True)
class BenefitRules:
    """Every rule table, each with its versions in date order."""

    tables: Mapping[str, tuple[RuleVersion, ...]]

    def version_on(self, table: str, day: dt.date) -> RuleVersion | None:
        """The version of `table` in force on `day`, if any."""
        return next((v for v in self.tables.get(table, ()) if v.in_force(day)), None)

    def of_kind(self, kind: str) -> tuple[RuleVersion, ...]:
        """Every version of every table of a file kind, national tables first."""
        versions = [v for vs in self.tables.values() for v in vs if v.kind == kind]
        return tuple(sorted(versions, key=lambda v: (JURISDICTIONS.index(v.jurisdiction), v.table)))
