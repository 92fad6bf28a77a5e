"""Results of the pure engines (dataclasses, mappings of texts per locale) as JSON-ready data."""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
from collections.abc import Mapping
from typing import Any


def plain(value: Any, locale: str) -> Any:
    """A result of the pure engines as JSON-ready data, texts in her locale."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name), locale) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        if value and set(value) <= {"zh_CN", "en"}:
            return value.get(locale) or value.get("zh_CN")
        return {str(k): plain(v, locale) for k, v in value.items()}
    if isinstance(value, list | tuple | frozenset | set):
        return [plain(v, locale) for v in value]
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    return value
