"""content/life_stages.yaml."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import (
    Field,
    StrictInt,
    field_validator,
)

from backend.content.common import (
    NonNegative,
    Strict,
)


class AgeBand(Strict):
    from_: NonNegative = Field(alias="from")
    until: NonNegative | None = None


class LifeStage(Strict):
    colour: Annotated[str, Field(min_length=1)]
    rule: Literal["otherwise", "ongoing_pregnancy", "postpartum", "child_age", "own_age"]
    days_after_delivery: NonNegative | None = None
    child_age_years: AgeBand | None = None
    own_age_years: AgeBand | None = None


STAGE_NAMES = ("marriage", "pregnancy", "birth", "rearing", "education", "care", "enjoyment")


class LifeStages(Strict):
    """content/life_stages.yaml: the seven stages (婚孕产育教保享), in this order."""

    version: StrictInt
    source: str
    stages: dict[str, LifeStage]

    @field_validator("stages")
    @classmethod
    def _all_in_order(cls, stages: dict[str, LifeStage]) -> dict[str, LifeStage]:
        if tuple(stages) != STAGE_NAMES:
            raise ValueError(f"stages must be {', '.join(STAGE_NAMES)}, in that order")
        return stages
