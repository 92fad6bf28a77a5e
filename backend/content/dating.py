"""content/dating/*.yaml: Naegele, redating bands and plausibility bounds."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import (
    Field,
    StrictBool,
    StrictInt,
    field_validator,
    model_validator,
)

from backend.content.common import (
    NonNegative,
    Strict,
)


class Citing(Strict):
    name: str | None = None
    reference: str
    citations: dict[str, str] = Field(default_factory=dict)
    note: str | None = None


class CycleLength(Strict):
    reference_days: Annotated[StrictInt, Field(gt=0)]
    min_days: Annotated[StrictInt, Field(gt=0)]
    max_days: Annotated[StrictInt, Field(gt=0)]


class Naegele(Strict):
    """content/dating/naegele.yaml: the due date from the last period."""

    id: Literal["naegele"]
    title: str
    source: Citing
    edd_after_lmp_days: Annotated[StrictInt, Field(gt=0)]
    cycle_length: CycleLength
    max_ongoing_weeks: Annotated[StrictInt, Field(gt=0)]


class GestationalAge(Strict):
    weeks: NonNegative
    days: Annotated[StrictInt, Field(ge=0, le=6)] = 0

    @property
    def total_days(self) -> int:
        return self.weeks * 7 + self.days


class RedatingBand(Strict):
    from_: GestationalAge = Field(alias="from")
    to: GestationalAge | None
    method: str
    redate_if_discrepancy_over_days: NonNegative
    caution: str | None = None


class Redating(Strict):
    """content/dating/acog-co700.yaml: when an ultrasound moves the due date."""

    id: str
    title: str
    source: Citing
    tags: list[str] = Field(default_factory=list)
    keep_fixed_after_redating: StrictBool
    bands: list[RedatingBand] = Field(min_length=1)

    @field_validator("bands")
    @classmethod
    def _no_gaps(cls, bands: list[RedatingBand]) -> list[RedatingBand]:
        expected = 0
        for band in bands:
            if band.from_.total_days != expected:
                raise ValueError(f"the bands leave a gap at {expected} days")
            if band.to is not None and band.to.total_days < band.from_.total_days:
                raise ValueError(f"a band ends before it starts ({expected} days)")
            expected = (band.to.total_days if band.to else 0) + 1
        if bands[-1].to is not None:
            raise ValueError("the last band must be open-ended (to: null)")
        return bands


class Range(Strict):
    min: NonNegative
    max: NonNegative

    @model_validator(mode="after")
    def _ordered(self) -> Range:
        if self.min > self.max:
            raise ValueError("min must not be above max")
        return self


class BirthBounds(Strict):
    ga_weeks: Range
    weight_g: Range
    length_cm: Range
    babies: Range


class EndBounds(Strict):
    ga_weeks: Range
    # A loss at this gestational age or later is a birth for the mother (产, postpartum care).
    birth_from_ga_weeks: Annotated[StrictInt, Field(gt=0)]


class UltrasoundBounds(Strict):
    ga_weeks: Range


class HistoryBounds(Strict):
    gravidity: Range
    parity: Range


class ChildBounds(Strict):
    max_age_years: Annotated[StrictInt, Field(gt=0)]
    mother_entry_is_birth_below_years: NonNegative


class PlanBounds(Strict):
    max_ahead_years: Annotated[StrictInt, Field(gt=0)]


class Plausibility(Strict):
    """content/dating/plausibility.yaml: the values a pregnancy, birth or child may have."""

    id: Literal["plausibility"]
    source: Citing
    birth: BirthBounds
    end: EndBounds
    ultrasound: UltrasoundBounds
    history: HistoryBounds
    plan: PlanBounds
    child: ChildBounds
