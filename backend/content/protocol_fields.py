"""The field types of a care protocol file: codes, vocabularies, offsets, two-language texts,
notes and source references (content/protocols/*.yaml), with the messages editors know."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated, Any, Literal

from pydantic import (
    BeforeValidator,
    Field,
)
from pydantic_core import PydanticUndefined

from backend.content.common import Strict, at, offset_of

CODE = re.compile(r"^[a-z][a-z0-9_]*$")
SOURCE_ID = re.compile(r"^([a-z][a-z0-9-]*:)?(C\d+|M!?|EXT)$")
KINDS = ("woman", "pregnancy", "child")
SEXES = ("female", "male")
RISK_COLOURS = ("green", "yellow", "orange", "red", "purple")
INTERPRETATIONS = ("normal", "abnormal", "critical")
FIELD_TYPES = ("number", "integer", "enum", "text", "ratio", "boolean")
NUMERIC = ("number", "integer", "ratio")
# The words of `when:` (in the order the error of an unknown word lists them).
CONDITIONS = (
    "any_of",
    "all_of",
    "not",
    "risk_colour_in",
    "preterm",
    "ga_at_birth_below",
    "enrolled_from_ga",
    "mother_age_at_edd_at_least",
    "birth_weight_below_g",
    "sex",
    "born_on_or_after",
    "born_before",
    "flag",
    "choice",
    "done",
    "result_of",
)


def _code(value: Any) -> Any:
    if not isinstance(value, str) or not CODE.match(value):
        raise ValueError(f"must be a code of lowercase letters, digits and '_', not {value!r}")
    return value


CodeText = Annotated[str, Field(pattern=CODE.pattern)]
StepCode = Annotated[str, BeforeValidator(_code), Field(pattern=CODE.pattern)]
Interpretation = Literal["normal", "abnormal", "critical"]
Colour = Literal["green", "yellow", "orange", "red", "purple"]
Sex = Literal["female", "male"]


def one_of(allowed: tuple[str, ...], *, many: bool = False, empty: str = "") -> Callable[..., Any]:
    """A word of a closed vocabulary (or one word or a list of them), named in the message."""

    def check(value: Any) -> Any:
        found = (value if isinstance(value, list) else [value]) if many else [value]
        if many and not found and empty:
            raise ValueError(empty)
        for word in found:
            if word not in allowed:
                raise ValueError(f"must be one of {', '.join(allowed)}, not {word!r}")
        return found if many else value

    return check


def optional(check: Callable[[Any], Any], written: Any = None) -> BeforeValidator:
    """`check` unless the value is absent (`written`: what the file may hold, for the schema)."""
    return BeforeValidator(
        lambda v: v if v is None else check(v),
        json_schema_input_type=PydanticUndefined if written is None else written | None,
    )


def _offset(value: Any) -> Any:
    offset_of(value)
    return value


OffsetText = Annotated[str, BeforeValidator(_offset), Field(examples=["6m", "1m -1d", "13w6d"])]


LOCALES = ("zh_CN", "en")


def text_of(value: Any) -> Any:
    """Text in both languages: an unknown locale and a missing one named (stripped)."""
    if not isinstance(value, dict):
        raise ValueError("must be a mapping (key: value lines)")
    for key in value:
        if key not in LOCALES:
            raise at(str(key), f"unknown locale; use {', '.join(LOCALES)}")
    for locale in LOCALES:
        if not isinstance(value.get(locale), str) or not value[locale].strip():
            raise at(locale, "required (text in both zh_CN and en)")
    return {locale: str(value[locale]).strip() for locale in LOCALES}


def _note(value: Any) -> Any:
    if value is not None and (not isinstance(value, str) or not value.strip()):
        raise ValueError("must be non-empty text")
    return value.strip() if isinstance(value, str) else value


Note = Annotated[str | None, BeforeValidator(_note)]


class CareText(Strict):
    zh_CN: str
    en: str


Text = Annotated[CareText, BeforeValidator(text_of)]


SourceId = Annotated[str, Field(pattern=SOURCE_ID.pattern)]


def _ids(value: Any) -> Any:
    ids = value if isinstance(value, list) else [value]
    if not ids:
        raise ValueError("must list at least one reference id")
    for source_id in ids:
        if not isinstance(source_id, str) or not SOURCE_ID.match(source_id):
            raise ValueError(
                f"unknown reference id {source_id!r}; use C<n>, M, M!, EXT, or doc:C<n>"
            )
    return ids


class CareSourceRef(Strict):
    """Reference ids of the clinical references (C<n>, M, M!, EXT, or doc:C<n>) and a title."""

    ids: Annotated[
        list[SourceId], BeforeValidator(_ids, json_schema_input_type=SourceId | list[SourceId])
    ]
    title: Annotated[str, Field(min_length=1, pattern=r"\S")]


class Signed(Strict):
    """A clinician's sign-off next to `verified` (checked by backend.review)."""

    verified_by: Any = None
    verified_on: Any = None
    verified_in: Any = None
