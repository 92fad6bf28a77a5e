"""content/regimens/folic_acid.yaml."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import (
    Field,
    StrictBool,
    StrictInt,
    model_validator,
)

from backend.content.common import (
    Code,
    Localized,
    NonNegative,
    Provenance,
    SourceRef,
    Strict,
    at,
)


class RiskFactorSpec(Strict):
    label: Localized


class TierSpec(Provenance):
    code: Code
    risk_factors: list[str]
    dose: Localized
    lead_days: NonNegative
    ask_doctor: StrictBool


class GestationalAgeExact(Strict):
    weeks: NonNegative
    days: Annotated[StrictInt, Field(ge=0, le=6)]


class StopRule(Provenance):
    at_ga: GestationalAgeExact


class FolicAcidFile(Strict):
    """content/regimens/folic_acid.yaml: dose tiers by risk factor, when to start and stop."""

    kind: Literal["folic_acid"]
    version: Annotated[str, Field(min_length=1)]
    title: Localized
    source: SourceRef
    note: Annotated[str, Field(min_length=1)] | None = None
    risk_factors: dict[Code, RiskFactorSpec]
    tiers: list[TierSpec] = Field(min_length=1)
    start: Provenance
    stop: StopRule

    @model_validator(mode="after")
    def _tiers(self) -> FolicAcidFile:
        """One default tier first, unique codes, and every risk factor in exactly one tier."""
        first = self.tiers[0]
        if first.risk_factors:
            raise at(
                "tiers.0.risk_factors",
                "must be empty: the first tier applies to women without any risk factor",
            )
        if first.ask_doctor:
            raise at("tiers.0.ask_doctor", "must be false: the default tier is self-care")
        seen: set[str] = set()
        owner: dict[str, str] = {}
        for rank, tier in enumerate(self.tiers):
            if tier.code in seen:
                raise at(f"tiers.{rank}.code", f"{tier.code!r} is used twice")
            seen.add(tier.code)
            if tier.lead_days < first.lead_days:
                # A woman at higher risk never starts later than everyone else (clinical audit).
                raise at(
                    f"tiers.{rank}.lead_days",
                    f"must be at least the default tier's {first.lead_days}: a higher-risk tier "
                    "never starts later",
                )
            if rank and not tier.risk_factors:
                raise at(
                    f"tiers.{rank}.risk_factors",
                    "must name at least one risk factor (only the first tier has none)",
                )
            for code in tier.risk_factors:
                if code not in self.risk_factors:
                    raise at(
                        f"tiers.{rank}.risk_factors",
                        f"{code!r} is not declared under risk_factors; known: "
                        f"{', '.join(self.risk_factors)}",
                    )
                if code in owner:
                    raise at(
                        f"tiers.{rank}.risk_factors", f"{code!r} is already in tier {owner[code]!r}"
                    )
                owner[code] = tier.code
        for code in self.risk_factors:
            if code not in owner:
                raise at(f"risk_factors.{code}", "is in no tier")
        return self
