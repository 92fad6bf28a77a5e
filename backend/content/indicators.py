"""content/indicators/: education.yaml (the part the education domain reads), every
definition's common keys, the shared policy (_policy.yaml); and surveillance/categories.yaml."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
)

from backend.content.common import (
    Code,
    Localized,
    NonNegative,
    Strict,
)


class DenominatorAges(BaseModel):
    """The denominator's age band (both ends included, on the period's last day)."""

    model_config = ConfigDict(extra="allow", strict=True, frozen=True)

    age_from: NonNegative
    age_to: NonNegative


class EducationRecords(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True, frozen=True)

    denominator: DenominatorAges


class IndicatorTarget(BaseModel):
    model_config = ConfigDict(extra="allow", strict=False, frozen=True)

    value: Annotated[float, Field(gt=0)]


class EducationIndicator(BaseModel):
    """content/indicators/education.yaml, the part education reads: who counts (women of
    childbearing age) and the target. The whole definition (titles, texts, period rule,
    breakdowns) is validated by the indicators domain (backend/indicators/definitions.py)."""

    model_config = ConfigDict(extra="allow", strict=True, frozen=True)

    code: str
    per: Annotated[StrictInt, Field(gt=0)]
    records: EducationRecords
    target: IndicatorTarget
    source: str
    verified: StrictBool

    @property
    def childbearing_age(self) -> tuple[int, int]:
        band = self.records.denominator
        return band.age_from, band.age_to

    @property
    def target_rate(self) -> float:
        return self.target.value / self.per


class IndicatorDefinitionFile(BaseModel):
    """One content/indicators/<code>.yaml: the keys every definition has. The rest (records
    that count, period rule, breakdowns) is checked against the populations the engine knows
    by the indicators domain (backend/indicators/definitions.py) at start-up."""

    model_config = ConfigDict(extra="allow", strict=True, frozen=True)

    code: Code
    records: dict[str, Any]
    period: str
    source: Annotated[str, Field(min_length=1)]
    group: str
    basis: Literal["statutory", "consent"]
    verified: StrictBool


class IndicatorDistrict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    code: Annotated[str, Field(pattern=r"^\d{6}$")]
    name: Localized


class IndicatorSnapshots(Strict):
    settle_days: NonNegative
    months: Annotated[StrictInt, Field(ge=1)]


class IndicatorPolicy(BaseModel):
    """content/indicators/_policy.yaml: small cells, the interval, the city's districts, the
    snapshots of closed periods."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    version: StrictInt
    verified: StrictBool
    min_cell: NonNegative
    confidence_z: Annotated[float, Field(gt=0)]
    city: IndicatorDistrict
    districts: Annotated[list[IndicatorDistrict], Field(min_length=1)]
    snapshots: IndicatorSnapshots


class BirthDefectCategoriesFile(BaseModel):
    """content/surveillance/categories.yaml: the shape; the ICD-10 prefixes are expanded and
    checked by the surveillance domain (backend/surveillance/content.py) at start-up."""

    model_config = ConfigDict(extra="allow", strict=True, frozen=True)

    version: StrictInt
    source: Annotated[str, Field(min_length=1)]
    verified: StrictBool
    other: dict[str, Any]
    categories: Annotated[list[dict[str, Any]], Field(min_length=1)]
