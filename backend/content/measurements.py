"""content/measurements.yaml."""

from __future__ import annotations

from typing import Literal

from pydantic import (
    Field,
    StrictBool,
    StrictInt,
    model_validator,
)

from backend.content.common import (
    Code,
    Localized,
    Number,
    Strict,
)


class Bounds(Strict):
    """Plausibility bounds of one value: refuse what nobody can have (a typo), not a diagnosis."""

    type: Literal["number", "integer"]
    min: Number
    max: Number
    unit: str | None = None
    required: StrictBool = True

    @model_validator(mode="after")
    def _ordered(self) -> Bounds:
        if self.min >= self.max:
            raise ValueError("min must be below max")
        return self


class MeasurementKind(Strict):
    title: Localized
    fields: dict[Code, Bounds] = Field(min_length=1)


class Measurements(Strict):
    """content/measurements.yaml: home measurements and the plausible range of recorded facts."""

    version: StrictInt
    verified: StrictBool
    source: str
    kinds: dict[Code, MeasurementKind] = Field(min_length=1)
    # Plausibility bounds of the facts a woman records for her contraception advice.
    facts: dict[Code, Bounds] = Field(default_factory=dict)
