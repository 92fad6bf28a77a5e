"""content/protocols/*.yaml: the header of a care protocol file and definitions.yaml, typed.

A protocol file's header (programme, version, dates, title, source, extends/removes, defaults,
choice groups) and the definitions file are models here; each item of `items:` is an ItemSpec
(content/protocol_items.py), the file's `defaults:` merged in before it is checked. What needs the
subject kind, definitions.yaml or the other items is checked by backend/care/item_checks.py.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Discriminator, Field, StrictBool, Tag, model_validator

from backend.content.common import Strict, at, offset_of
from backend.content.protocol_fields import CareSourceRef, Note, StepCode, Text
from backend.content.protocol_items import Anchor, ItemSpec


def _quoted(example: str) -> Any:
    def check(value: Any) -> Any:
        if not isinstance(value, str) or not value.strip():
            raise ValueError(f'must be text in quotes, such as "{example}"')
        return value.strip()

    return check


ProtocolCode = StepCode
Version = Annotated[str, BeforeValidator(_quoted("2021.1")), Field(examples=["2021.1"])]


class ChoiceGroupSpec(Strict):
    """Alternative products chosen per subject (JE-L or JE-I), with the default."""

    options: list[Annotated[str, Field(min_length=1, pattern=r"\S")]]
    default: str
    note: Note = None

    @model_validator(mode="after")
    def _options(self) -> ChoiceGroupSpec:
        if len(self.options) < 2 or len(set(self.options)) != len(self.options):
            raise at("options", "must list two or more distinct options")
        if self.default not in self.options:
            raise at("default", f"must be one of {', '.join(self.options)}, not {self.default!r}")
        return self


class Defaults(Strict):
    """Keys every item of the file has unless it says otherwise (`source`: the items' source)."""

    kind: Literal["woman", "pregnancy", "child"] | None = None
    anchor: Anchor | None = None
    age: Literal["chronological", "corrected"] | None = None
    actor: Literal["family", "staff"] | None = None
    optional: StrictBool | None = None
    after_end: StrictBool | None = None
    source: CareSourceRef | None = None


DEFAULT_KEYS = ("kind", "anchor", "age", "actor", "optional", "after_end")


class ProtocolFile(Strict):
    """One version of one programme's schedule; an item without `source` has the defaults' or
    the file's."""

    programme: ProtocolCode
    version: Version
    effective_from: Annotated[dt.date, BeforeValidator(lambda v: _date(v))]
    effective_to: Annotated[dt.date | None, BeforeValidator(lambda v: _date(v, True))] = None
    title: Text
    source: CareSourceRef
    note: Note = None
    extends: Annotated[str | None, BeforeValidator(_extends)] = None
    removes: Annotated[list[ProtocolCode] | None, BeforeValidator(_one_or_many)] = None
    defaults: Defaults = Field(default_factory=Defaults)
    choices: dict[str, ChoiceGroupSpec] = Field(default_factory=dict)
    items: list[ItemSpec]

    @model_validator(mode="before")
    @classmethod
    def _defaults(cls, data: Any) -> Any:
        """Each item gets the file's `defaults:` (but `source`) unless it says otherwise."""
        if not isinstance(data, dict) or not isinstance(data.get("items"), list):
            return data
        given = data.get("defaults")
        defaults = (
            {k: given[k] for k in DEFAULT_KEYS if given.get(k) is not None}
            if isinstance(given, dict)
            else {}
        )
        items = [{**defaults, **i} if isinstance(i, dict) else i for i in data["items"]]
        return {**data, "items": items}

    def source_of(self, item: ItemSpec) -> Any:
        """The item's source, else the defaults', else the file's."""
        return item.source or self.defaults.source or self.source

    @model_validator(mode="after")
    def _header(self) -> ProtocolFile:
        if self.effective_to is not None and self.effective_to < self.effective_from:
            raise at("effective_to", "is before effective_from")
        if self.removes and self.extends is None:
            raise at("removes", "only a file that extends another version can remove items")
        if not self.items and self.extends is None:
            raise at("items", "must be a non-empty list")
        return self


def _date(value: Any, optional: bool = False) -> Any:
    """A YYYY-MM-DD date (a timestamp is refused: protocols work in whole days)."""
    if value is None and optional:
        return None
    if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
        raise ValueError(f"must be a date written YYYY-MM-DD, not {value!r}")
    return value


def _extends(value: Any) -> Any:
    if value is not None and (not isinstance(value, str) or not value.strip()):
        raise ValueError('must be the version text of an earlier file, such as "2021"')
    return value.strip() if isinstance(value, str) else value


def _one_or_many(value: Any) -> Any:
    if value is None:
        return None
    found = value if isinstance(value, list) else [value]
    if not found:
        raise ValueError("must name at least one step")
    return found


def _gestation(value: Any) -> Any:
    offset = offset_of(value)
    if offset.months or offset.days <= 0:
        raise ValueError("must be a gestational age in weeks and days, such as 40w")
    return value


class GestationDefinition(Strict):
    value: Annotated[str, BeforeValidator(_gestation)]
    source: CareSourceRef
    verified: StrictBool
    note: Note = None

    @model_validator(mode="after")
    def _explained(self) -> GestationDefinition:
        if not self.verified and self.note is None:
            raise at("note", "required when verified is false")
        return self


class FlagSpec(Strict):
    values: Annotated[list[Any], Field(min_length=1)]
    title: Text | None = None
    note: Note = None


class DefinitionsBody(Strict):
    term_gestation: GestationDefinition
    preterm_below: GestationDefinition
    flags: dict[ProtocolCode, FlagSpec]


class DefinitionsFile(Strict):
    """content/protocols/definitions.yaml: term, the preterm limit, the flags conditions test."""

    version: Annotated[str, BeforeValidator(_quoted("2026.1"))]
    note: str | None = None
    definitions: DefinitionsBody


def _which(value: Any) -> str:
    return "definitions" if isinstance(value, dict) and "definitions" in value else "protocol"


ProtocolsFile = Annotated[
    Annotated[ProtocolFile, Tag("protocol")] | Annotated[DefinitionsFile, Tag("definitions")],
    Discriminator(_which),
]
