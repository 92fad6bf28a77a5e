"""content/contraception/*.yaml: the provenance and texts of the MEC files, and iud.yaml."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    AfterValidator,
    BaseModel,
    Field,
    StrictBool,
    StrictInt,
    field_validator,
    model_validator,
)

from backend.content.common import (
    Code,
    NonNegative,
    OffsetText,
    Strict,
    at,
    offset_of,
)

MEC_SOURCE_ID = r"^([a-z][a-z0-9-]*:)?([SCL]\d+|M[+!]?|EXT)$"


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


# --- content/contraception/methods.yaml ---

Offer = Literal["offered", "talk_to_doctor", "not_offered"]  # least to most restrictive
OFFERS: tuple[Offer, ...] = get_args(Offer)
BooleanFact = Literal[
    "breastfeeding",
    "fully_breastfeeding",
    "menses_returned",
    "other_vte_risk_factors",
    "caesarean",
    "abortion_induced",
    "smoker",
]
Group = Literal[
    "combined_hormonal",
    "progestogen_only",
    "intrauterine",
    "barrier",
    "lam",
    "emergency",
    "sterilization",
]


def placeholders(text: BaseModel, allowed: tuple[str, ...], where: str) -> None:
    """Refuse a {placeholder} the text's reader will not fill (a typo would show as is)."""
    for locale in ("zh_CN", "en"):
        used = set(re.findall(r"{([^{}]*)}", getattr(text, locale))) - set(allowed)
        if used:
            names = ", ".join("{" + f + "}" for f in allowed) or "none"
            raise at(
                f"{where}.{locale}",
                f"unknown placeholder {{{sorted(used)[0]}}}; allowed: {names}",
            )


class FreeText(Strict):
    """A text in both languages that may hold {placeholders} (checked by its owner)."""

    zh_CN: Annotated[str, Field(min_length=1)]
    en: Annotated[str, Field(min_length=1)]


class ScaleCategory(Strict):
    offer: Offer
    meaning: MecText
    explanation: FreeText  # {condition}: the deciding condition's title

    @model_validator(mode="after")
    def _fields(self) -> ScaleCategory:
        placeholders(self.explanation, ("condition",), "explanation")
        return self


class MecCategory(ScaleCategory):
    category: Literal[1, 2, 3, 4]

    @model_validator(mode="after")
    def _offer(self) -> MecCategory:
        if self.category == 4 and self.offer != "not_offered":
            raise at("offer", "category 4 is never offered: use not_offered")
        if self.category == 3 and self.offer == "offered":
            raise at("offer", "category 3 is offered only as talk_to_doctor")
        return self


class SterilizationCategory(ScaleCategory):
    category: Literal["A", "C", "D", "S"]


def _scale(values: tuple[object, ...], unrestricted: object, categories: list[Any]) -> None:
    """Each category once, least restrictive first, never offered more freely than a lower one."""
    if sorted(map(str, (c.category for c in categories))) != sorted(map(str, values)):
        raise at("categories", f"must list each of {', '.join(map(str, values))} exactly once")
    ranks = [OFFERS.index(c.offer) for c in categories]
    if ranks != sorted(ranks):
        raise at("categories", "a more restrictive category cannot be offered more freely")
    if categories[0].category != unrestricted:
        raise at("unrestricted", "must be the first (least restrictive) category")


class MecScale(Strict):
    title: MecText
    unrestricted: Literal[1, 2, 3, 4]
    categories: list[MecCategory] = Field(min_length=1)

    @model_validator(mode="after")
    def _ordered(self) -> MecScale:
        _scale((1, 2, 3, 4), self.unrestricted, self.categories)
        return self


class SterilizationScale(Strict):
    title: MecText
    unrestricted: Literal["A", "C", "D", "S"]
    categories: list[SterilizationCategory] = Field(min_length=1)

    @model_validator(mode="after")
    def _ordered(self) -> SterilizationScale:
        _scale(("A", "C", "D", "S"), self.unrestricted, self.categories)
        return self


class Scales(Strict):
    mec: MecScale
    sterilization: SterilizationScale


class MethodTexts(Strict):
    """The sentences the engine composes ({facts}: what the app does not know yet)."""

    no_condition: MecText
    ask: FreeText
    list_separator: MecText
    partner: MecText

    @model_validator(mode="after")
    def _fields(self) -> MethodTexts:
        placeholders(self.ask, ("facts",), "ask")
        return self


class MethodSpec(Strict):
    code: Code
    name: MecText
    group: Group
    scale: Literal["mec", "sterilization", "lam"]
    follows: Code | None = None  # whose categories apply where this one has none
    for_partner: StrictBool = False


class EmergencySpec(MecProvenance):
    method: Code
    time_limit_hours: Annotated[StrictInt, Field(ge=1)]
    text: MecText


class LamRequirement(Strict):
    fact: BooleanFact
    is_: StrictBool = Field(alias="is")
    failed: MecText


class LamTexts(Strict):
    offered: FreeText  # {stops_on}
    ended: MecText
    not_met: FreeText  # {failed}
    unknown: FreeText  # {facts}
    no_birth: MecText

    @model_validator(mode="after")
    def _fields(self) -> LamTexts:
        for name, allowed in (("offered", "stops_on"), ("not_met", "failed"), ("unknown", "facts")):
            placeholders(getattr(self, name), (allowed,), name)
        return self


class LamSpec(MecProvenance):
    requires: list[LamRequirement] = Field(min_length=1)
    ends_after_birth: OffsetText
    texts: LamTexts

    @model_validator(mode="after")
    def _after_birth(self) -> LamSpec:
        if offset_of(self.ends_after_birth).approx_days <= 0:
            raise at("ends_after_birth", "must be after the birth")
        return self


class MethodsFile(Strict):
    """content/contraception/methods.yaml: the methods rated, the category scales with what each
    category lets the app do, the sentences it composes, emergency time limits and LAM."""

    kind: Literal["methods"]
    version: Annotated[str, Field(min_length=1)]
    source: MecSourceRef
    note: str | None = None
    scales: Scales
    texts: MethodTexts
    methods: list[MethodSpec] = Field(min_length=1)
    emergency: list[EmergencySpec] = Field(min_length=1)
    lam: LamSpec

    @model_validator(mode="after")
    def _methods(self) -> MethodsFile:
        """Codes once, `follows` names a method that follows none on the same scale, one LAM
        method, and every emergency method has its time limit (and only those)."""
        by_code: dict[str, MethodSpec] = {}
        for index, method in enumerate(self.methods):
            if method.code in by_code:
                raise at(f"methods.{index}.code", "used twice in this file")
            by_code[method.code] = method
        for index, method in enumerate(self.methods):
            followed = by_code.get(method.follows or "")
            if method.follows is not None and (
                followed is None or followed.follows is not None or followed.scale != method.scale
            ):
                raise at(
                    f"methods.{index}.follows",
                    f"must name another method of the {method.scale} scale that follows none, "
                    f"not {method.follows!r}",
                )
        if sum(m.scale == "lam" for m in self.methods) != 1:
            raise at("methods", "exactly one method must use the lam scale")
        limited: set[str] = set()
        for index, limit in enumerate(self.emergency):
            limited_method = by_code.get(limit.method)
            if limited_method is None or limited_method.group != "emergency":
                raise at(
                    f"emergency.{index}.method",
                    f"{limit.method!r} is not an emergency method of this file",
                )
            if limit.method in limited:
                raise at(f"emergency.{index}.method", "listed twice")
            limited.add(limit.method)
        for index, method in enumerate(self.methods):
            if method.group == "emergency" and method.code not in limited:
                raise at(
                    f"methods.{index}.group",
                    "an emergency method needs its time limit under `emergency:`",
                )
        return self
