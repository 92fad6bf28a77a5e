"""content/indicators/education.yaml, the part the education domain reads."""

from __future__ import annotations

from typing import Annotated

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
)

from backend.content.common import (
    NonNegative,
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
