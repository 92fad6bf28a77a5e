"""The small typed readers of protocol YAML: each raises Invalid naming the field."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

from backend.care.offsets import Offset, parse_offset
from backend.care.protocols import (
    LOCALES,
)
from backend.conditions import Source, Text

CODE = re.compile(r"^[a-z][a-z0-9_]*$")
SOURCE_ID = re.compile(r"^([a-z][a-z0-9-]*:)?(C\d+|M!?|EXT)$")
ITEM_KEYS = {
    "code",
    "kind",
    "anchor",
    "window",
    "when",
    "age",
    "min_interval",
    "later_of",
    "window_if_fallback",
    "after_end",
    "optional",
    "actor",
    "title",
    "why",
    "parts",
    "results",
    "interpretation",
    "source",
    "verified",
    "note",
}
DEFAULT_KEYS = {"kind", "anchor", "age", "actor", "optional", "after_end", "source"}
NUMERIC = ("number", "integer", "ratio")


class Invalid(Exception):
    """One problem in one field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


# --- small typed readers; each raises Invalid naming the field ---


def read_mapping(value: Any, name: str) -> Mapping[str, Any]:
    """A mapping, or an error that says so (YAML lists and scalars look alike to editors)."""
    if not isinstance(value, Mapping):
        raise Invalid(name, "must be a mapping (key: value lines)")
    return value


# A clinician's sign-off, next to `verified` wherever it may stand (checked by backend.review).
VERIFICATION_KEYS = frozenset({"verified_by", "verified_on", "verified_in"})


def check_keys(data: Mapping[str, Any], allowed: set[str], required: set[str], prefix: str) -> None:
    """Refuse unknown keys (typos would otherwise be ignored) and require the needed ones.

    Wherever `verified` is allowed, so is the sign-off that makes it true (VERIFICATION_KEYS).
    """
    if "verified" in allowed:
        allowed = allowed | VERIFICATION_KEYS
    for key in data:
        if key not in allowed:
            raise Invalid(f"{prefix}{key}", f"unknown field; allowed: {', '.join(sorted(allowed))}")
    for key in sorted(required):
        if key not in data or data[key] is None:
            raise Invalid(f"{prefix}{key}", "required")


def read_string(value: Any, name: str) -> str:
    """Non-empty text."""
    if not isinstance(value, str) or not value.strip():
        raise Invalid(name, "must be non-empty text")
    return value


def read_code(value: Any, name: str) -> str:
    """A stable code: lowercase letters, digits and underscores, as stored in the database."""
    if not isinstance(value, str) or not CODE.match(value):
        raise Invalid(name, f"must be a code of lowercase letters, digits and '_', not {value!r}")
    return value


def read_codes(value: Any, name: str) -> tuple[str, ...]:
    """One code or a list of codes."""
    items = value if isinstance(value, list) else [value]
    if not items:
        raise Invalid(name, "must name at least one step")
    return tuple(read_code(v, name) for v in items)


def read_bool(value: Any, name: str) -> bool:
    """A real YAML boolean, not a string that looks like one."""
    if not isinstance(value, bool):
        raise Invalid(name, "must be true or false")
    return value


def read_date(value: Any, name: str) -> dt.date:
    """A YYYY-MM-DD date (a timestamp is refused: protocols work in whole days)."""
    if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
        raise Invalid(name, f"must be a date written YYYY-MM-DD, not {value!r}")
    return value


def read_number(value: Any, name: str) -> float:
    """An int or float (booleans are ints in Python and are refused)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise Invalid(name, f"must be a number, not {value!r}")
    return float(value)


def read_offset(value: Any, name: str) -> Offset:
    """An offset such as 16w or 3m -1d, with the parser's message on failure."""
    try:
        return parse_offset(value)
    except ValueError as exc:
        raise Invalid(name, str(exc)) from None


def read_choice(value: Any, allowed: tuple[str, ...], name: str) -> str:
    """One of a closed vocabulary."""
    if value not in allowed:
        raise Invalid(name, f"must be one of {', '.join(allowed)}, not {value!r}")
    return str(value)


def read_text(value: Any, name: str) -> Text:
    """Text in every supported locale, so the app can show either language."""
    data = read_mapping(value, name)
    for key in data:
        if key not in LOCALES:
            raise Invalid(f"{name}.{key}", f"unknown locale; use {', '.join(LOCALES)}")
    for locale in LOCALES:
        if not isinstance(data.get(locale), str) or not data[locale].strip():
            raise Invalid(f"{name}.{locale}", "required (text in both zh_CN and en)")
    return {locale: str(data[locale]).strip() for locale in LOCALES}


def read_source(value: Any, name: str) -> Source:
    """Reference ids and a title: every clinical number must say where it comes from."""
    data = read_mapping(value, name)
    check_keys(data, {"ids", "title"}, {"ids", "title"}, f"{name}.")
    ids = data["ids"] if isinstance(data["ids"], list) else [data["ids"]]
    if not ids:
        raise Invalid(f"{name}.ids", "must list at least one reference id")
    for source_id in ids:
        if not isinstance(source_id, str) or not SOURCE_ID.match(source_id):
            raise Invalid(
                f"{name}.ids",
                f"unknown reference id {source_id!r}; use C<n>, M, M!, EXT, or doc:C<n>",
            )
    return Source(ids=tuple(ids), title=read_string(data["title"], f"{name}.title"))


def read_note(value: Any, name: str) -> str | None:
    """An optional non-empty note."""
    return None if value is None else read_string(value, name).strip()
