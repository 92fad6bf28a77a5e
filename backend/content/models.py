"""Typed models of the content files that have no domain loader of their own (pydantic v2).

Each model is the whole shape of one file kind: unknown keys are refused (a misspelt key is an
error, not a silent default), numbers keep their type, bounds are ordered. The domain code reads
the validated values; the JSON Schema of each kind (`flask --app backend content schema`) comes
from the same model, so an editor can check a file before committing it.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    RootModel,
    StrictBool,
    StrictInt,
    field_validator,
    model_validator,
)

Code = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]
NonNegative = Annotated[StrictInt, Field(ge=0)]
Number = StrictInt | float


class Strict(BaseModel):
    """Unknown keys refused; values are not coerced from another type (a "3" is not 3)."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class Localized(Strict):
    """A text in every supported language (zh_CN first)."""

    zh_CN: Annotated[str, Field(min_length=1)]
    en: Annotated[str, Field(min_length=1)]


# --- content/measurements.yaml ---


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


# --- content/life_stages.yaml ---


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


# --- content/dating/*.yaml ---


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


# --- content/reminders.yaml ---


class ReminderOffset(Strict):
    from_: Literal["opens_on", "due_on"] = Field(alias="from")
    days: StrictInt


Occurrence = Literal["before", "due", "nudge_1", "nudge_2", "escalation"]


class AfterLoss(Strict):
    codes: list[Code]
    offsets: dict[Occurrence, ReminderOffset | None]


class StepRules(Strict):
    defaults: dict[Occurrence, ReminderOffset]
    family_only: StrictBool = True
    overrides: dict[Code, dict[Occurrence, ReminderOffset | None]] = Field(default_factory=dict)
    after_loss: AfterLoss | None = None


class QuietHours(Strict):
    model_config = ConfigDict(extra="forbid", strict=False, frozen=True)  # "21:00" is a time

    start: dt.time
    end: dt.time


class Delivery(Strict):
    max_attempts: Annotated[StrictInt, Field(gt=0)]
    backoff_seconds: Annotated[float, Field(gt=0)]
    backoff_max_seconds: Annotated[float, Field(gt=0)]
    jitter: Annotated[float, Field(ge=0, lt=1)]
    lease_seconds: Annotated[StrictInt, Field(gt=0)]
    batch_size: Annotated[StrictInt, Field(gt=0)]
    drain_seconds: Annotated[float, Field(gt=0)]
    webhook_concurrency: Annotated[StrictInt, Field(gt=0)]


class RegimenReminders(Strict):
    horizon_days: Annotated[StrictInt, Field(gt=0)]


class ReminderRules(Strict):
    """content/reminders.yaml: when families are reminded, and how delivery retries."""

    model_config = ConfigDict(extra="forbid", strict=False, frozen=True)  # "09:00" is a time

    version: StrictInt
    source: str
    steps: StepRules
    send_time: dt.time
    quiet_hours: QuietHours
    effect_window_days: Annotated[StrictInt, Field(gt=0)]
    delivery: Delivery
    regimens: RegimenReminders
    miniprogram_templates: dict[str, str] = Field(default_factory=dict)


# --- content/indicators/education.yaml ---


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


class IndicatorDefinitions(RootModel[dict[str, IndicatorDefinitionFile]]):
    """Every content/indicators/*.yaml but _policy.yaml, by file name."""

    model_config = ConfigDict(frozen=True)


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


# --- clinical provenance, shared by the clinical files ---

SOURCE_ID = r"^([a-z][a-z0-9-]*:)?(C\d+|M!?|EXT)$"


def at(field: str, message: str) -> ValueError:
    """An error of a whole-item check, reported against one of its fields."""
    return ValueError(f"@{field}@ {message}")


class SourceRef(Strict):
    """Reference ids (C<n>, M, M!, EXT, or doc:C<n>) and a readable title."""

    ids: list[Annotated[str, Field(pattern=SOURCE_ID)]] = Field(min_length=1)
    title: Annotated[str, Field(min_length=1)]

    @field_validator("ids", mode="before")
    @classmethod
    def _one_or_many(cls, value: object) -> object:
        return value if isinstance(value, list) else [value]


class Provenance(Strict):
    """Where a rule comes from and whether every number is confirmed; the sign-off keys
    (verified_by, verified_on, verified_in) are checked by backend.review."""

    source: SourceRef
    verified: StrictBool
    note: Annotated[str, Field(min_length=1)] | None = None
    verified_by: object = None
    verified_on: object = None
    verified_in: object = None

    @model_validator(mode="after")
    def _honest(self) -> Provenance:
        memory = [i for i in self.source.ids if i.split(":")[-1].startswith("M")]
        if self.verified and memory:
            raise at("verified", f"cannot be true: the source ids {memory} are memory")
        if not self.verified and self.note is None:
            raise at("note", "required when verified is false: say what to check")
        return self


# --- content/regimens/folic_acid.yaml ---


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


# --- content/contraception/iud.yaml (the other contraception files: contraception/loading.py) ---

MEC_SOURCE_ID = r"^([a-z][a-z0-9-]*:)?([SCL]\d+|M[+!]?|EXT)$"


def _offset(value: str) -> str:
    """An offset such as 6m or 1m -1d (backend.care.offsets), with the parser's message."""
    # Here, not at the top: backend.care's package imports the content layer (a cycle).
    from backend.care.offsets import parse_offset

    parse_offset(value)
    return value


OffsetText = Annotated[str, AfterValidator(_offset), Field(examples=["6m", "1m -1d", "13w6d"])]


def _no_placeholder(value: str) -> str:
    found = re.findall(r"{([^{}]*)}", value)
    if found:
        raise ValueError(f"unknown placeholder {{{sorted(found)[0]}}}; allowed: none")
    return value


PlainText = Annotated[str, Field(min_length=1), AfterValidator(_no_placeholder)]


class MecText(Strict):
    """A text in both languages, without {placeholders}."""

    zh_CN: PlainText
    en: PlainText


class MecSourceRef(Strict):
    """Reference ids of contraception-and-leave.md (S1, C3, L2, M, M+, M!, EXT, or file:id)."""

    ids: list[Annotated[str, Field(pattern=MEC_SOURCE_ID)]] = Field(min_length=1)
    title: Annotated[str, Field(min_length=1)]

    @field_validator("ids", mode="before")
    @classmethod
    def _one_or_many(cls, value: object) -> object:
        return value if isinstance(value, list) else [value]


class MecProvenance(Strict):
    """Source, verified and note of an entry: memory is never verified, doubt is explained."""

    source: MecSourceRef
    verified: StrictBool
    note: Annotated[str, Field(min_length=1)] | None = None
    verified_by: object = None
    verified_on: object = None
    verified_in: object = None

    @model_validator(mode="after")
    def _honest(self) -> MecProvenance:
        memory = [i for i in self.source.ids if re.search(r"(^|:)M[+!]?$", i)]
        if self.verified and memory:
            raise at("verified", f"cannot be true: the source ids {self.source.ids} include memory")
        if not self.verified and self.note is None:
            raise at("note", "required when verified is false: say what to check")
        return self


class IudCheck(Strict):
    code: Code
    opens: OffsetText
    closes: OffsetText


def _yearly_code(value: str) -> str:
    if "{years}" not in value or not re.fullmatch(
        r"[a-z][a-z0-9_]*", value.replace("{years}", "2")
    ):
        raise ValueError("must be a code containing {years}")
    return value


class IudYearly(Strict):
    code: Annotated[str, AfterValidator(_yearly_code)]
    from_years: Annotated[StrictInt, Field(ge=1)]
    window: OffsetText


class IudFollowup(MecProvenance):
    checks: list[IudCheck]
    yearly: IudYearly
    title: MecText


class IudRemoval(MecProvenance):
    code: Code
    min_age_years: NonNegative
    prompt_after: OffsetText
    remove_within: OffsetText
    title: MecText
    why: MecText


class IudFile(Strict):
    """content/contraception/iud.yaml: follow-up checks after an insertion, removal after the
    menopause (the windows are checked against each other by contraception/loading.py)."""

    kind: Literal["iud"]
    version: Annotated[str, Field(min_length=1)]
    protocol: Code
    source: MecSourceRef
    note: str | None = None
    followup: IudFollowup
    removal: IudRemoval
