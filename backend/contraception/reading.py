"""Typed readers for the contraception and benefit YAML files; each names the field it refuses.

Kept apart from backend.care.reading because these files cite a different reference (S#, L#
ids, M+) and validate against other vocabularies; only the offset arithmetic is shared.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

import yaml

# The generic readers are shared with the protocols (re-exported for the loaders here).
from backend.care import reading as care_reading
from backend.care.offsets import Offset, parse_offset
from backend.care.reading import Invalid as Invalid
from backend.care.reading import check_keys as check_keys
from backend.care.reading import read_bool as read_bool
from backend.care.reading import read_choice as read_choice
from backend.care.reading import read_code as read_code
from backend.care.reading import read_mapping as read_mapping
from backend.conditions import Source as Source
from backend.conditions import Text as Text
from backend.content.yamlfile import ContentFileError, load_yaml

LOCALES = ("zh_CN", "en")
DEFAULT_LOCALE = "zh_CN"
CODE = re.compile(r"^[a-z][a-z0-9_]*$")
# Ids of /work/shared/reference/contraception-and-leave.md §0, optionally prefixed with the
# reference file's name; M = memory, M+ = memory partly backed by a secondary source, M! = to check.
SOURCE_ID = re.compile(r"^([a-z][a-z0-9-]*:)?([SCL]\d+|M[+!]?|EXT)$")


class ContentError(ContentFileError):
    """A content file is broken; each problem names the file, the entry and the field."""


# --- YAML with duplicate keys refused (a second `coc:` in a row would silently win) ---


def parse_yaml(text: str) -> Any:
    """Parse one document, refusing duplicate keys; yaml.YAMLError on bad syntax."""
    return load_yaml(text)


def yaml_problem(path: str, exc: yaml.YAMLError) -> str:
    """A one-line syntax-error message naming the file."""
    return f"{path}: YAML syntax error: {' '.join(str(exc).split())}"


# --- small typed readers; each raises Invalid naming the field ---


def read_list(value: Any, name: str, *, empty: bool = False) -> list[Any]:
    """A YAML list (non-empty unless allowed)."""
    if not isinstance(value, list) or (not value and not empty):
        raise Invalid(name, "must be a non-empty list" if not empty else "must be a list")
    return value


def read_string(value: Any, name: str) -> str:
    """Non-empty text."""
    if not isinstance(value, str) or not value.strip():
        raise Invalid(name, "must be non-empty text")
    return value.strip()


def read_int(value: Any, name: str, *, minimum: int = 0) -> int:
    """A whole number at least `minimum` (booleans are ints in Python and are refused)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise Invalid(name, f"must be a whole number of at least {minimum}, not {value!r}")
    return value


def read_number(value: Any, name: str) -> float:
    """An int or float (not a boolean)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise Invalid(name, f"must be a number, not {value!r}")
    return float(value)


def read_date(value: Any, name: str) -> dt.date:
    """A YYYY-MM-DD date (a timestamp is refused: these rules work in whole days)."""
    if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
        raise Invalid(name, f"must be a date written YYYY-MM-DD, not {value!r}")
    return value


def read_offset(value: Any, name: str) -> Offset:
    """An offset such as 6m or 1m -1d, with the parser's message on failure."""
    try:
        return parse_offset(value)
    except ValueError as exc:
        raise Invalid(name, str(exc)) from None


def read_text(value: Any, name: str, *, fields: tuple[str, ...] = ()) -> Text:
    """Text in every supported locale; `fields` are the only {placeholders} it may use."""
    data = read_mapping(value, name)
    for key in data:
        if key not in LOCALES:
            raise Invalid(f"{name}.{key}", f"unknown locale; use {', '.join(LOCALES)}")
    texts: dict[str, str] = {}
    for locale in LOCALES:
        text = data.get(locale)
        if not isinstance(text, str) or not text.strip():
            raise Invalid(f"{name}.{locale}", "required (text in both zh_CN and en)")
        used = set(re.findall(r"{([^{}]*)}", text))
        unknown = used - set(fields)
        if unknown:
            allowed = ", ".join("{" + f + "}" for f in fields) or "none"
            raise Invalid(
                f"{name}.{locale}",
                f"unknown placeholder {{{sorted(unknown)[0]}}}; allowed: {allowed}",
            )
        texts[locale] = " ".join(text.split())
    return texts


def read_note(value: Any, name: str) -> str | None:
    """An optional free-text note."""
    return None if value is None else read_string(value, name)


def read_source(value: Any, name: str) -> Source:
    """Reference ids and a title: every number must say where it comes from."""
    source = care_reading.read_source(
        value,
        name,
        ids=SOURCE_ID,
        hint="{id!r} is not a reference id (S1, C3, L2, M, M+, M!, EXT, "
        "or file:id such as clinical-schedules:C14)",
    )
    return Source(ids=source.ids, title=source.title.strip())


def read_provenance(
    data: Mapping[Any, Any], name: str, fallback: Source | None = None
) -> tuple[Source, bool, str | None]:
    """`source`, `verified` and `note` of an entry: memory is never verified, doubt is explained."""
    prefix = f"{name}." if name else ""
    if data.get("source") is None and fallback is None:
        raise Invalid(f"{prefix}source", "required")
    source = (
        read_source(data["source"], f"{prefix}source")
        if data.get("source") is not None
        else fallback
    )
    assert source is not None
    if "verified" not in data:
        raise Invalid(f"{prefix}verified", "required: true only if every number is confirmed")
    verified = read_bool(data["verified"], f"{prefix}verified")
    note = read_note(data.get("note"), f"{prefix}note")
    if verified and source.from_memory:
        raise Invalid(
            f"{prefix}verified", f"cannot be true: the source ids {list(source.ids)} include memory"
        )
    if not verified and note is None:
        raise Invalid(f"{prefix}note", "required when verified is false: say what to check")
    return source, verified, note


def localize(text: Text | None, locale: str) -> str | None:
    """The text in `locale`, falling back to zh_CN (the product's first language)."""
    if text is None:
        return None
    return text.get(locale) or text[DEFAULT_LOCALE]
