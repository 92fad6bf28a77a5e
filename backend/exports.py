"""Her data export (个人信息导出), gathered from every domain that holds some.

A domain registers a section at start-up with `register(app, name, rows)`, where `rows(session,
user)` returns her ORM rows (or ready values) and `dump` turns one into JSON-ready data (by default
its columns, secrets left out). Access (which serves `GET /me/export`) then needs to know no other
domain's tables. `stream` writes the document section by section and row by row, so an export of
any size is never held in memory nor cut off.
"""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from flask import Flask
from sqlalchemy import inspect
from sqlalchemy.orm import Session

from backend.paging import AnySelect

Rows = Callable[[Session, Any], Iterable[Any]]
Dump = Callable[[Any], Any]
SKIP = {"password_hash", "national_id_cipher", "national_id_hash", "token_hash"}


@dataclass(frozen=True)
class Section:
    """One key of her export: a list of rows, or (`one`) the single value `rows` yields."""

    rows: Rows
    dump: Dump
    one: bool = False


def register(
    app: Flask, name: str, rows: Rows, *, dump: Dump | None = None, one: bool = False
) -> None:
    """Add a section to her export."""
    app.extensions.setdefault("export_sections", {})[name] = Section(rows, dump or as_dict, one)


def owned(stmt: AnySelect, owner: Any) -> Rows:
    """Her rows of `stmt` (ordered, joined as needed): those whose `owner` column is her id,
    read in batches."""
    return lambda session, user: session.scalars(
        stmt.where(owner == user.id).execution_options(yield_per=500)
    )


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


def stream(app: Flask, session: Session, user: Any) -> Iterator[str]:
    """Her export as one JSON object, in pieces: every section in name order, row by row."""
    encode = app.json.dumps
    yield "{"
    for index, (name, section) in enumerate(sorted(app.extensions["export_sections"].items())):
        yield ("," if index else "") + encode(name) + ":"
        rows = iter(section.rows(session, user))
        if section.one:
            yield encode(section.dump(next(rows, None)))
            continue
        yield "["
        for n, row in enumerate(rows):
            yield ("," if n else "") + encode(section.dump(row))
        yield "]"
    yield "}"
