"""Contraceptive eligibility: WHO MEC as data (content/contraception), loaded with validation,
and a pure engine that rates every method for one woman on one day.

Pure: no database, no clock, no I/O beyond loading. `today` is the woman's local date. The
table rates methods for a woman who is not pregnant; the caller does not assess a pregnancy.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from backend.care.offsets import Offset
from backend.conditions import NUMBER_COMPARATORS, AllOf, AnyOf, Not, compare
from backend.contraception.reading import (
    DEFAULT_LOCALE,
    LOCALES,
    Source,
    Text,
    localize,
)
from backend.months import add_months

CONTENT_DIR = Path(__file__).resolve().parents[2] / "content" / "contraception"

OFFERED = "offered"
TALK_TO_DOCTOR = "talk_to_doctor"
NOT_OFFERED = "not_offered"
OFFERS = (OFFERED, TALK_TO_DOCTOR, NOT_OFFERED)  # least to most restrictive
SCALES = ("mec", "sterilization", "lam")
SCALE_VALUES: Mapping[str, tuple[int | str, ...]] = {
    "mec": (1, 2, 3, 4),
    "sterilization": ("A", "C", "D", "S"),
}
GROUPS = (
    "combined_hormonal",
    "progestogen_only",
    "intrauterine",
    "barrier",
    "lam",
    "emergency",
    "sterilization",
)
IF_UNKNOWN = ("ask", "no_match", "assume_worst")
COMPARATORS = NUMBER_COMPARATORS
FILE_KINDS = ("methods", "eligibility_table", "services", "iud")

# The facts the engine derives from WomanFacts and today (see derive_facts); the table file must
# declare each one with a title and what an unknown value means.
NUMBER_FACTS = (
    "age_years",
    "parity",
    "days_postpartum",
    "weeks_postpartum",
    "months_postpartum",
    "days_since_abortion",
    "weeks_since_abortion",
    "months_since_abortion",
    "abortion_ga_weeks",
    "cigarettes_per_day",
    "bmi",
    "systolic_mmhg",
    "diastolic_mmhg",
)
BOOLEAN_FACTS = (
    "breastfeeding",
    "fully_breastfeeding",
    "menses_returned",
    "other_vte_risk_factors",
    "caesarean",
    "abortion_induced",
    "smoker",
)
FACTS = NUMBER_FACTS + BOOLEAN_FACTS

Category = int | str


# --- conditions over facts: a small declarative vocabulary, evaluated in three values ---


@dataclass(frozen=True)
class Compare:
    """A number fact against comparisons (all must hold), or a test that it is (not) known."""

    fact: str
    tests: tuple[tuple[str, float], ...] = ()
    known: bool | None = None


@dataclass(frozen=True)
class Is:
    """A yes/no fact, a recorded flag or a named predicate has this value."""

    name: str
    value: bool
    kind: str  # fact | flag | predicate


Expr = Compare | Is | AllOf["Expr"] | AnyOf["Expr"] | Not["Expr"]


# --- the content, once loaded ---


@dataclass(frozen=True)
class FactDefinition:
    """A fact rows may test, what the app calls it when asking, and what unknown means."""

    name: str
    title: Text
    if_unknown: str


@dataclass(frozen=True)
class FlagDefinition:
    """A condition recorded by her or her doctor (true when on record, never unknown)."""

    name: str
    title: Text
    note: str | None = None


@dataclass(frozen=True)
class Predicate:
    """A named condition (other_vte_risk) that rows test like a fact."""

    name: str
    title: Text
    when: Expr
    source: Source
    verified: bool
    note: str | None = None


@dataclass(frozen=True)
class ScaleCategory:
    """One category of a scale: what the app may do with it, and the sentence that says why."""

    value: Category
    offer: str
    meaning: Text
    explanation: Text


@dataclass(frozen=True)
class Scale:
    """A category scale (WHO MEC 1-4, sterilization A/C/S/D), least to most restrictive."""

    code: str
    title: Text
    unrestricted: Category
    categories: tuple[ScaleCategory, ...]

    def rank(self, value: Category) -> int:
        """Position in the order of restriction (higher is more restrictive)."""
        return next(i for i, c in enumerate(self.categories) if c.value == value)

    def category(self, value: Category) -> ScaleCategory:
        """The category entry for a value."""
        return self.categories[self.rank(value)]


@dataclass(frozen=True)
class Method:
    """A contraceptive method the engine rates."""

    code: str
    name: Text
    group: str
    scale: str
    follows: str | None = None
    for_partner: bool = False


@dataclass(frozen=True)
class EmergencyLimit:
    """How long after unprotected sex an emergency method still works."""

    method: str
    time_limit_hours: int
    text: Text
    source: Source
    verified: bool
    note: str | None = None


@dataclass(frozen=True)
class LamRequirement:
    """One of LAM's conditions: a yes/no fact that must have this value."""

    fact: str
    value: bool
    failed: Text


@dataclass(frozen=True)
class LamRule:
    """LAM works while every requirement holds and until the baby reaches `ends_after_birth`."""

    requires: tuple[LamRequirement, ...]
    ends_after_birth: Offset
    texts: Mapping[str, Text]
    source: Source
    verified: bool
    note: str | None = None


@dataclass(frozen=True)
class Cell:
    """A method's category under one condition: initiation and continuation (equal unless split)."""

    initiation: Category
    continuation: Category

    @property
    def text(self) -> str:
        """As written in the file: '2' or '2/3'."""
        if self.initiation == self.continuation:
            return str(self.initiation)
        return f"{self.initiation}/{self.continuation}"


@dataclass(frozen=True)
class ConditionRow:
    """One condition of the table: when it holds, and the category it gives each method."""

    code: str
    title: Text
    when: Expr
    cells: Mapping[str, Cell]
    source: Source
    verified: bool
    path: str
    advice: Mapping[str, Text] = field(default_factory=dict)
    note: str | None = None


@dataclass(frozen=True)
class Service:
    """A free service: shown with its methods, or to her when its condition holds."""

    code: str
    name: Text
    where: Text
    source: Source
    verified: bool
    methods: tuple[str, ...] = ()
    when: Expr | None = None
    note: str | None = None


@dataclass(frozen=True)
class FollowupCheck:
    """A first-year IUD check: a window of offsets from the insertion day."""

    code: str
    opens: Offset
    closes: Offset


@dataclass(frozen=True)
class IudRules:
    """IUD follow-up checks (first year, then yearly) and the removal around menopause."""

    protocol: str
    checks: tuple[FollowupCheck, ...]
    yearly_code: str
    yearly_from_years: int
    yearly_window: Offset
    followup_title: Text
    followup_source: Source
    followup_verified: bool
    followup_note: str | None
    removal_code: str
    removal_min_age_years: int
    removal_prompt_after: Offset
    removal_within: Offset
    removal_title: Text
    removal_why: Text
    removal_source: Source
    removal_verified: bool
    removal_note: str | None
    path: str


@dataclass(frozen=True)
class EligibilityTable:
    """Everything the engine reads: methods, scales, facts, conditions, services, IUD rules."""

    edition: str
    version: str
    source: Source
    scales: Mapping[str, Scale]
    methods: tuple[Method, ...]
    texts: Mapping[str, Text]
    emergency: Mapping[str, EmergencyLimit]
    lam: LamRule
    facts: Mapping[str, FactDefinition]
    flags: Mapping[str, FlagDefinition]
    predicates: Mapping[str, Predicate]
    conditions: tuple[ConditionRow, ...]
    services: tuple[Service, ...]
    iud: IudRules

    def method(self, code: str) -> Method:
        """The method with this code."""
        return next(m for m in self.methods if m.code == code)

    def condition(self, code: str) -> ConditionRow:
        """The condition row with this code."""
        return next(c for c in self.conditions if c.code == code)


# --- the engine ---


@dataclass(frozen=True)
class WomanFacts:
    """What the engine may know about one woman; None means not known.

    `last_birth_on` is the latest birth (a loss at 28 weeks or later is recorded as a birth);
    `abortion_on` the latest abortion or pregnancy loss before 28 weeks, with its gestational
    age in completed weeks. `recorded` holds the table's flags on record (migraine_with_aura,
    vte_history...); `current_methods` the methods she already uses, rated for continuation.
    """

    born_on: dt.date | None = None
    parity: int | None = None
    last_birth_on: dt.date | None = None
    caesarean: bool | None = None
    breastfeeding: bool | None = None
    fully_breastfeeding: bool | None = None
    menses_returned: bool | None = None
    other_vte_risk_factors: bool | None = None
    abortion_on: dt.date | None = None
    abortion_ga_weeks: int | None = None
    abortion_induced: bool | None = None
    smoker: bool | None = None
    cigarettes_per_day: int | None = None
    bmi: float | None = None
    systolic_mmhg: int | None = None
    diastolic_mmhg: int | None = None
    recorded: frozenset[str] = frozenset()
    current_methods: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        for name in ("parity", "abortion_ga_weeks", "cigarettes_per_day"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or value < 0):
                raise ValueError(f"{name} must be a whole number of 0 or more, not {value!r}")
        for name in ("bmi", "systolic_mmhg", "diastolic_mmhg"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or value <= 0):
                raise ValueError(f"{name} must be a positive number, not {value!r}")
        if self.parity == 0 and self.last_birth_on is not None:
            raise ValueError("parity 0 contradicts a recorded birth")
        object.__setattr__(self, "recorded", frozenset(self.recorded))
        object.__setattr__(self, "current_methods", frozenset(self.current_methods))


def _completed_years(start: dt.date, today: dt.date) -> int:
    """Whole years from `start` to `today` (an age)."""
    return today.year - start.year - ((today.month, today.day) < (start.month, start.day))


def _completed_months(start: dt.date, today: dt.date) -> int:
    """Whole calendar months from `start` to `today`."""
    months = (today.year - start.year) * 12 + today.month - start.month
    return months - 1 if add_months(start, months) > today else months


def derive_facts(facts: WomanFacts, today: dt.date) -> dict[str, Any]:
    """The table's facts for this woman today (None where unknown); ValueError on future dates."""
    values: dict[str, Any] = dict.fromkeys(FACTS)
    for name, day in (
        ("born_on", facts.born_on),
        ("last_birth_on", facts.last_birth_on),
        ("abortion_on", facts.abortion_on),
    ):
        if day is not None and day > today:
            raise ValueError(f"{name} {day} is after today {today}")
    if facts.born_on is not None:
        values["age_years"] = _completed_years(facts.born_on, today)
    values["parity"] = (
        facts.parity if facts.parity is not None else (1 if facts.last_birth_on else None)
    )
    if facts.last_birth_on is not None:
        days = (today - facts.last_birth_on).days
        values["days_postpartum"] = days
        values["weeks_postpartum"] = days // 7
        values["months_postpartum"] = _completed_months(facts.last_birth_on, today)
        values["caesarean"] = facts.caesarean
    if facts.abortion_on is not None:
        days = (today - facts.abortion_on).days
        values["days_since_abortion"] = days
        values["weeks_since_abortion"] = days // 7
        values["months_since_abortion"] = _completed_months(facts.abortion_on, today)
        values["abortion_ga_weeks"] = facts.abortion_ga_weeks
        values["abortion_induced"] = facts.abortion_induced
    values["breastfeeding"] = facts.breastfeeding
    # Not breastfeeding at all settles the LAM question too.
    values["fully_breastfeeding"] = (
        False if facts.breastfeeding is False else facts.fully_breastfeeding
    )
    values["menses_returned"] = facts.menses_returned
    values["other_vte_risk_factors"] = facts.other_vte_risk_factors
    smoker = facts.smoker
    if smoker is None and facts.cigarettes_per_day is not None:
        smoker = facts.cigarettes_per_day > 0
    values["smoker"] = smoker
    values["cigarettes_per_day"] = facts.cigarettes_per_day
    values["bmi"] = facts.bmi
    values["systolic_mmhg"] = facts.systolic_mmhg
    values["diastolic_mmhg"] = facts.diastolic_mmhg
    return values


Truth = tuple[bool | None, frozenset[str]]  # (holds, facts that would settle it when None)

_NO: Truth = (False, frozenset())
_YES: Truth = (True, frozenset())


class _Evaluator:
    """Evaluates conditions for one woman in three values: holds, does not, or may."""

    def __init__(
        self, table: EligibilityTable, values: Mapping[str, Any], recorded: frozenset[str]
    ):
        self.table = table
        self.values = values
        self.recorded = recorded
        self._predicates: dict[str, Truth] = {}

    def unknown(self, fact: str) -> Truth:
        """An unknown fact: the row may apply (ask) or does not (no_match), per the table."""
        if self.table.facts[fact].if_unknown in ("ask", "assume_worst"):
            return None, frozenset({fact})
        return _NO

    def __call__(self, expr: Expr) -> Truth:
        if isinstance(expr, Is):
            if expr.kind == "flag":
                return (expr.name in self.recorded) == expr.value, frozenset()
            if expr.kind == "predicate":
                if expr.name not in self._predicates:
                    self._predicates[expr.name] = self(self.table.predicates[expr.name].when)
                holds, missing = self._predicates[expr.name]
                return (None, missing) if holds is None else ((holds == expr.value), frozenset())
            value = self.values[expr.name]
            return (
                self.unknown(expr.name) if value is None else ((value == expr.value), frozenset())
            )
        if isinstance(expr, Compare):
            value = self.values[expr.fact]
            if expr.known is not None and (value is not None) != expr.known:
                return _NO
            if value is None:
                return self.unknown(expr.fact) if expr.tests else _YES
            return all(_compare(op, value, limit) for op, limit in expr.tests), frozenset()
        if isinstance(expr, AllOf):
            results = [self(term) for term in expr.terms]
            if any(holds is False for holds, _ in results):
                return _NO
            missing = frozenset().union(*(m for holds, m in results if holds is None))
            return (True, frozenset()) if not missing else (None, missing)
        if isinstance(expr, AnyOf):
            results = [self(term) for term in expr.terms]
            if any(holds is True for holds, _ in results):
                return _YES
            missing = frozenset().union(*(m for holds, m in results if holds is None))
            return (False, frozenset()) if not missing else (None, missing)
        holds, missing = self(expr.term)
        return (None, missing) if holds is None else (not holds, frozenset())


def _compare(op: str, value: float, limit: float) -> bool:
    return compare(op, value, limit)


@dataclass(frozen=True)
class ConditionMatch:
    """A condition that holds (or may hold) for her, with the category it gives one method."""

    code: str
    title: str
    category: Category
    phase: str  # initiation | continuation
    verified: bool
    source: Source
    missing_facts: tuple[str, ...] = ()


@dataclass(frozen=True)
class ServiceOffer:
    """A free service in her language."""

    code: str
    name: str
    where: str
    verified: bool
    source: Source


@dataclass(frozen=True)
class MethodAdvice:
    """One method for her today: category, what the app may offer, and the full reasoning.

    `reasons` lists every condition that holds and rates this method (the doctor's view);
    `deciding_condition` is the most restrictive of them (ties: the first in the table).
    `possible` lists conditions that may hold but need `missing_facts` to tell; when one of them
    could restrict the method further, an `offered` method is shown only as `talk_to_doctor`.
    """

    method: str
    name: str
    group: str
    scale: str
    category: Category | None
    offer: str
    explanation: str
    deciding_condition: str | None
    reasons: tuple[ConditionMatch, ...]
    possible: tuple[ConditionMatch, ...]
    missing_facts: tuple[str, ...]
    advice: tuple[str, ...]
    free_services: tuple[ServiceOffer, ...]
    verified: bool
    stops_on: dt.date | None = None
    time_limit_hours: int | None = None
    time_limit: str | None = None
    for_partner: bool = False


@dataclass(frozen=True)
class Assessment:
    """Every method for her today, the free services of her situation, and what to ask her."""

    methods: tuple[MethodAdvice, ...]
    services: tuple[ServiceOffer, ...]
    missing_facts: tuple[str, ...]
    questions: tuple[str, ...]
    edition: str
    locale: str

    def method(self, code: str) -> MethodAdvice:
        """The advice for one method."""
        return next(m for m in self.methods if m.method == code)

    def offered(self) -> tuple[MethodAdvice, ...]:
        """Methods shown as options (with or without 'talk to your doctor')."""
        return tuple(m for m in self.methods if m.offer != NOT_OFFERED)


def _service(service: Service, locale: str) -> ServiceOffer:
    return ServiceOffer(
        code=service.code,
        name=localize(service.name, locale) or "",
        where=localize(service.where, locale) or "",
        verified=service.verified,
        source=service.source,
    )


class _Assessor:
    """Rates each method for one woman; holds the evaluated rows so helpers stay small."""

    def __init__(
        self, facts: WomanFacts, table: EligibilityTable, today: dt.date, locale: str
    ) -> None:
        unknown_flags = facts.recorded - set(table.flags)
        if unknown_flags:
            raise ValueError(f"unknown recorded conditions: {sorted(unknown_flags)}")
        unknown_methods = facts.current_methods - {m.code for m in table.methods}
        if unknown_methods:
            raise ValueError(f"unknown current methods: {sorted(unknown_methods)}")
        self.facts = facts
        self.table = table
        self.today = today
        self.locale = locale if locale in LOCALES else DEFAULT_LOCALE
        self.values = derive_facts(facts, today)
        self.evaluate = _Evaluator(table, self.values, facts.recorded)
        self.rows = [(row, self.evaluate(row.when)) for row in table.conditions]

    def text(self, text: Text | None) -> str:
        """A text in her locale."""
        return localize(text, self.locale) or ""

    def sentences(self, *parts: str) -> str:
        """Sentences joined as her language writes them (Chinese puts no space between)."""
        return ("" if self.locale.startswith("zh") else " ").join(p for p in parts if p)

    def fact_list(self, names: Iterable[str]) -> str:
        """Fact titles joined in her language, in the table's order, each once."""
        titles: dict[str, None] = {}
        for name in self.table.facts:
            if name in names:
                titles.setdefault(self.text(self.table.facts[name].title), None)
        return self.text(self.table.texts["list_separator"]).join(titles)

    def advise(self, method: Method) -> MethodAdvice:
        """The advice for one method."""
        if method.scale == "lam":
            return self.lam(method)
        scale = self.table.scales[method.scale]
        phase = "continuation" if method.code in self.facts.current_methods else "initiation"
        reasons: list[ConditionMatch] = []
        possible: list[ConditionMatch] = []
        advice: list[str] = []
        for row, (holds, missing) in self.rows:
            cell = row.cells.get(method.code)
            if cell is None and method.follows is not None:
                cell = row.cells.get(method.follows)
            if cell is None or holds is False:
                continue
            match = ConditionMatch(
                code=row.code,
                title=self.text(row.title),
                category=cell.continuation if phase == "continuation" else cell.initiation,
                phase=phase,
                verified=row.verified,
                source=row.source,
                missing_facts=tuple(sorted(missing)),
            )
            if holds:
                reasons.append(match)
                if method.code in row.advice:
                    advice.append(self.text(row.advice[method.code]))
            else:
                possible.append(match)
        # A row that may hold only for want of an `assume_worst` fact (breastfeeding after a
        # birth) sets a floor: the method is rated as strictly as that row until she answers.
        worst = {f for f, d in self.table.facts.items() if d.if_unknown == "assume_worst"}
        floors = [p for p in possible if p.missing_facts and set(p.missing_facts) <= worst]
        deciding = None
        for match in (*reasons, *floors):
            if deciding is None or scale.rank(match.category) > scale.rank(deciding.category):
                deciding = match
        category = deciding.category if deciding else scale.unrestricted
        offer = scale.category(category).offer
        condition = deciding.title if deciding else self.text(self.table.texts["no_condition"])
        explanation = self.text(scale.category(category).explanation).format(condition=condition)
        # A condition that may hold and would be offered less freely: ask before offering.
        pending = [
            p
            for p in possible
            if OFFERS.index(scale.category(p.category).offer) > OFFERS.index(offer)
        ]
        missing_facts: set[str] = set()
        for match in (*pending, *floors):
            missing_facts.update(match.missing_facts)
        if pending and offer == OFFERED:
            offer = TALK_TO_DOCTOR
        if missing_facts:
            explanation = self.sentences(
                explanation,
                self.text(self.table.texts["ask"]).format(facts=self.fact_list(missing_facts)),
            )
        if method.for_partner:
            explanation = self.sentences(self.text(self.table.texts["partner"]), explanation)
        limit = self.table.emergency.get(method.code)
        services: tuple[ServiceOffer, ...] = ()
        if offer != NOT_OFFERED:
            services = tuple(
                _service(s, self.locale) for s in self.table.services if method.code in s.methods
            )
        return MethodAdvice(
            method=method.code,
            name=self.text(method.name),
            group=method.group,
            scale=method.scale,
            category=category,
            offer=offer,
            explanation=explanation,
            deciding_condition=deciding.code if deciding else None,
            reasons=tuple(reasons),
            possible=tuple(possible),
            missing_facts=tuple(f for f in self.table.facts if f in missing_facts),
            advice=tuple(advice),
            free_services=services,
            # Signed off only when every rule that rates it was (issue 9); with no rule at all
            # nothing a clinician signed stands behind the rating, so it is not verified either.
            verified=bool(reasons) and all(r.verified for r in (*reasons, *floors)),
            time_limit_hours=limit.time_limit_hours if limit else None,
            time_limit=self.text(limit.text) if limit else None,
            for_partner=method.for_partner,
        )

    def lam(self, method: Method) -> MethodAdvice:
        """LAM: offered only while its three conditions hold, with the day it stops."""
        rule = self.table.lam
        texts = rule.texts
        stops_on = None
        missing: list[str] = []
        if self.facts.last_birth_on is None:
            offer, explanation = NOT_OFFERED, self.text(texts["no_birth"])
        else:
            stops_on = rule.ends_after_birth.apply(self.facts.last_birth_on)
            failed = []
            for requirement in rule.requires:
                value = self.values[requirement.fact]
                if value is None:
                    missing.append(requirement.fact)
                elif value != requirement.value:
                    failed.append(self.text(requirement.failed))
            if self.today >= stops_on:
                offer, explanation = NOT_OFFERED, self.text(texts["ended"])
                missing = []
            elif failed:
                separator = self.text(self.table.texts["list_separator"])
                offer = NOT_OFFERED
                explanation = self.text(texts["not_met"]).format(failed=separator.join(failed))
                missing = []
            elif missing:
                offer = NOT_OFFERED
                explanation = self.text(texts["unknown"]).format(facts=self.fact_list(missing))
            else:
                offer = OFFERED
                explanation = self.text(texts["offered"]).format(stops_on=stops_on.isoformat())
        return MethodAdvice(
            method=method.code,
            name=self.text(method.name),
            group=method.group,
            scale=method.scale,
            category=None,
            offer=offer,
            explanation=explanation,
            deciding_condition=None,
            reasons=(),
            possible=(),
            missing_facts=tuple(f for f in self.table.facts if f in missing),
            advice=(),
            free_services=(),
            verified=rule.verified,
            stops_on=stops_on,
            for_partner=method.for_partner,
        )

    def services(self) -> tuple[ServiceOffer, ...]:
        """Free services of her situation (post-abortion care), whatever the method."""
        return tuple(
            _service(s, self.locale)
            for s in self.table.services
            if s.when is not None and self.evaluate(s.when)[0] is True
        )


def assess(
    facts: WomanFacts, table: EligibilityTable, today: dt.date, locale: str = DEFAULT_LOCALE
) -> Assessment:
    """Every method with its category, the deciding condition, what may be offered, and why."""
    assessor = _Assessor(facts, table, today, locale)
    methods = tuple(assessor.advise(method) for method in table.methods)
    missing = {f for m in methods for f in m.missing_facts}
    ordered = tuple(f for f in table.facts if f in missing)
    questions: dict[str, None] = {}
    for name in ordered:
        questions.setdefault(assessor.text(table.facts[name].title), None)
    return Assessment(
        methods=methods,
        services=assessor.services(),
        missing_facts=ordered,
        questions=tuple(questions),
        edition=table.edition,
        locale=assessor.locale,
    )


# --- IUD dates ---


@dataclass(frozen=True)
class DatedWindow:
    """A dated step from the IUD rules: opens, closes (both included), texts and provenance."""

    code: str
    opens_on: dt.date
    closes_on: dt.date
    title: Text
    source: Source
    verified: bool
    why: Text | None = None
    note: str | None = None


def iud_followups(
    inserted_on: dt.date, rules: IudRules, through: dt.date | None = None
) -> tuple[DatedWindow, ...]:
    """The checks after an insertion: the first-year ones, then yearly ones opening by `through`."""
    windows = [
        DatedWindow(
            code=check.code,
            opens_on=check.opens.apply(inserted_on),
            closes_on=check.closes.apply(inserted_on),
            title=rules.followup_title,
            source=rules.followup_source,
            verified=rules.followup_verified,
            note=rules.followup_note,
        )
        for check in rules.checks
    ]
    if through is None:
        return tuple(windows)
    years = rules.yearly_from_years
    while True:
        opens = Offset(months=12 * years)
        opens_on = opens.apply(inserted_on)
        if opens_on > through:
            break
        closes = Offset(
            months=opens.months + rules.yearly_window.months, days=rules.yearly_window.days
        )
        windows.append(
            DatedWindow(
                code=rules.yearly_code.replace("{years}", str(years)),
                opens_on=opens_on,
                closes_on=closes.apply(inserted_on),
                title=rules.followup_title,
                source=rules.followup_source,
                verified=rules.followup_verified,
                note=rules.followup_note,
            )
        )
        years += 1
    return tuple(windows)


def iud_removal(
    age_years: int, last_menstrual_period: dt.date, rules: IudRules
) -> DatedWindow | None:
    """The removal window after the last period for a woman old enough; None if she is younger."""
    if age_years < rules.removal_min_age_years:
        return None
    return DatedWindow(
        code=rules.removal_code,
        opens_on=rules.removal_prompt_after.apply(last_menstrual_period),
        closes_on=rules.removal_within.apply(last_menstrual_period),
        title=rules.removal_title,
        source=rules.removal_source,
        verified=rules.removal_verified,
        why=rules.removal_why,
        note=rules.removal_note,
    )
