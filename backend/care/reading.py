"""The small typed readers left of the protocol YAML reader (care items are models of the content
layer now): the WHO MEC expressions (contraception/expressions.py) still read with them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


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


def read_bool(value: Any, name: str) -> bool:
    """A real YAML boolean, not a string that looks like one."""
    if not isinstance(value, bool):
        raise Invalid(name, "must be true or false")
    return value


def read_number(value: Any, name: str) -> float:
    """An int or float (booleans are ints in Python and are refused)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise Invalid(name, f"must be a number, not {value!r}")
    return float(value)
