"""What every content model shares: strict models, localized text, codes, offsets and the
provenance (source, verified, note) of a clinical item."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    field_validator,
    model_validator,
)

from backend.conditions import Source, Text

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


def offset_of(value: str) -> Any:
    """The backend.care.offsets.Offset of `value` (6m, 1m -1d), or ValueError with its message."""
    # Here, not at the top: backend.care's package imports the content layer (a cycle).
    from backend.care.offsets import parse_offset

    return parse_offset(value)


def _offset(value: str) -> str:
    offset_of(value)
    return value


OffsetText = Annotated[str, AfterValidator(_offset), Field(examples=["6m", "1m -1d", "13w6d"])]


def as_text(spec: BaseModel) -> Text:
    """A validated two-language text as the engines read it (whitespace of folded YAML joined)."""
    return {locale: " ".join(getattr(spec, locale).split()) for locale in ("zh_CN", "en")}


def as_source(spec: Any) -> Source:
    """A validated source reference as the engines read it."""
    return Source(ids=tuple(spec.ids), title=spec.title)
