"""content/contraception/who_mec_2015.yaml and services.yaml: the WHO MEC table and the free
services, as typed models.

The models hold the shape of each file and the checks within it (every fact the engine derives
declared once, names not reused, advice only where a row rates the method, provenance). A
`when:` is kept as written and read by backend/contraception/expressions.py against the facts,
flags and predicates the table declares; a row's categories are read there against the scales
of methods.yaml (both need what another file or the file's own header declares).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, get_args

from pydantic import Field, StrictBool, model_validator

from backend.conditions import MEMORY_IDS
from backend.content.common import Code, Strict, at
from backend.content.mec import BooleanFact, MecProvenance, MecSourceRef, MecText

NumberFact = Literal[
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
]
# The facts the engine derives from what it knows of her and today (eligibility.derive_facts).
NUMBER_FACTS: tuple[str, ...] = get_args(NumberFact)
BOOLEAN_FACTS: tuple[str, ...] = get_args(BooleanFact)
FACTS = NUMBER_FACTS + BOOLEAN_FACTS
Fact = NumberFact | BooleanFact
# A condition over facts, flags and predicates: {fact: value or comparisons, any_of: [...],
# all_of: [...], not: {...}}; several keys must all hold.
Expression = Annotated[dict[str, Any], Field(min_length=1)]
Version = Annotated[str, Field(min_length=1, pattern=r"\S", examples=["2015.1"])]


class FactSpec(Strict):
    title: MecText
    if_unknown: Literal["ask", "no_match", "assume_worst"]
    note: str | None = None


class FlagSpec(Strict):
    title: MecText
    note: Annotated[str, Field(min_length=1)] | None = None


class PredicateSpec(MecProvenance):
    """A named condition rows test like a fact (`other_vte_risk: true`)."""

    title: MecText
    when: Expression


class ConditionSpec(MecProvenance):
    """One row: a test over facts and a category per method it restricts (1-4, A/C/D/S, a
    split '2/3' or {initiation, continuation})."""

    code: Code
    title: MecText
    when: Expression
    categories: Annotated[dict[str, Any], Field(min_length=1)]
    advice: dict[str, MecText] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _advice_rated(self) -> ConditionSpec:
        for method in self.advice:
            if method not in self.categories:
                message = "advice is only for a method this row gives a category"
                raise at(f"advice.{method}", message)
        return self


class TableFile(Strict):
    """content/contraception/who_mec_2015.yaml: the facts and flags rows may test, named
    predicates, and the condition rows."""

    kind: Literal["eligibility_table"]
    table: Code
    version: Version
    edition: Annotated[str, Field(min_length=1)]
    source: MecSourceRef
    note: str | None = None
    facts: dict[Fact, FactSpec]
    flags: dict[Code, FlagSpec]
    predicates: dict[Code, PredicateSpec] = Field(default_factory=dict)
    conditions: list[ConditionSpec] = Field(min_length=1)

    @model_validator(mode="after")
    def _names(self) -> TableFile:
        missing = [f for f in FACTS if f not in self.facts]
        if missing:
            raise at("facts", f"must declare every fact the engine derives; missing: {missing}")
        for name in self.flags:
            if name in FACTS:
                raise at(f"flags.{name}", "is already a fact; a flag needs its own name")
        for name in self.predicates:
            if name in FACTS or name in self.flags:
                raise at(f"predicates.{name}", "is already a fact or flag")
        seen: set[str] = set()
        for index, row in enumerate(self.conditions):
            if row.code in seen:
                raise at(f"conditions.{index}.code", "used twice in this file")
            seen.add(row.code)
        return self


class ServiceSpec(Strict):
    """A free service, offered with some methods or in a situation (`when`); its source is the
    file's unless it names its own."""

    code: Code
    name: MecText
    where: MecText
    methods: list[Code] | None = Field(default=None, min_length=1)
    when: Expression | None = None
    source: MecSourceRef | None = None
    verified: StrictBool
    note: Annotated[str, Field(min_length=1)] | None = None
    verified_by: object = None
    verified_on: object = None
    verified_in: object = None

    @model_validator(mode="after")
    def _methods_or_when(self) -> ServiceSpec:
        if (self.methods is None) == (self.when is None):
            raise at("methods", "give either `methods` or `when`, exactly one")
        return self


class ServicesFile(Strict):
    """content/contraception/services.yaml: free services by method or by her situation."""

    kind: Literal["services"]
    version: Version
    source: MecSourceRef
    note: str | None = None
    services: list[ServiceSpec] = Field(min_length=1)

    @model_validator(mode="after")
    def _honest(self) -> ServicesFile:
        """Codes once; memory is never verified and doubt is explained (with the file's source
        where a service names none)."""
        seen: set[str] = set()
        for index, service in enumerate(self.services):
            if service.code in seen:
                raise at(f"services.{index}.code", "used twice in this file")
            seen.add(service.code)
            ids = (service.source or self.source).ids
            if service.verified and any(MEMORY_IDS.search(i) for i in ids):
                raise at(
                    f"services.{index}.verified",
                    f"cannot be true: the source ids {ids} include memory",
                )
            if not service.verified and service.note is None:
                raise at(
                    f"services.{index}.note", "required when verified is false: say what to check"
                )
        return self
