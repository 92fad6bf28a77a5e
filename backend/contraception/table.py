"""The WHO MEC content as types: methods, the rating scales, condition rows and their cells, the
facts and flags rows may test, services and the IUD rules (built by contraception/loading.py,
read by the engine in contraception/eligibility.py)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from backend.care.offsets import Offset
from backend.conditions import NUMBER_COMPARATORS, AllOf, AnyOf, Not, Source, Text

# The facts the engine derives (eligibility.derive_facts): the table file declares each one.

LOCALES = ("zh_CN", "en")
DEFAULT_LOCALE = "zh_CN"
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


def localize(text: Text | None, locale: str) -> str | None:
    """The text in `locale`, falling back to zh_CN (the product's first language)."""
    if text is None:
        return None
    return text.get(locale) or text[DEFAULT_LOCALE]
