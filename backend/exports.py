"""Her data export (个人信息导出), gathered from every domain that holds some.

A domain registers a section at start-up with `register(app, name, rows)`, where `rows(session,
user)` returns her ORM rows; the export turns each row's columns into JSON. Access (which serves
`GET /me/export`) then needs to know no other domain's tables.
"""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask
from sqlalchemy import inspect
from sqlalchemy.orm import Session

Rows = Callable[[Session, Any], Iterable[Any]]
SKIP = {"password_hash", "national_id_cipher", "national_id_hash", "token_hash"}


def register(app: Flask, name: str, rows: Rows) -> None:
    """Add a section to her export."""
    app.extensions.setdefault("export_sections", {})[name] = rows


def _json(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, dt.date | dt.datetime | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    return value


def as_dict(row: Any) -> dict[str, Any]:
    """A row's columns as JSON-ready values (secrets left out)."""
    return {
        attr.key: _json(getattr(row, attr.key))
        for attr in inspect(row).mapper.column_attrs
        if attr.key not in SKIP and not isinstance(getattr(row, attr.key), bytes)
    }


def sections(app: Flask, session: Session, user: Any) -> dict[str, list[dict[str, Any]]]:
    """Every registered section of her export."""
    return {
        name: [as_dict(row) for row in rows(session, user)]
        for name, rows in sorted(app.extensions.get("export_sections", {}).items())
    }
