"""content/contraception/*.yaml: the provenance and texts of the MEC files, and iud.yaml."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
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
