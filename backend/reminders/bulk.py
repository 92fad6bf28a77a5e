"""Set-based statements the dispatcher and the planner share: `IN` over one array parameter,
and many rows inserted in one statement (PostgreSQL: unnest of one binary array per column)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from sqlalchemy import JSON, any_, bindparam
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def is_postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def in_(session: Session, column: Any, values: Iterable[Any]) -> Any:
    """`column IN values`; on PostgreSQL one array parameter (= ANY), not one per value."""
    values = list(values)
    if is_postgresql(session):
        return column == any_(bindparam(None, values, type_=postgresql.ARRAY(column.type)))
    return column.in_(values)


def insert_rows(
    session: Session,
    model: Any,
    rows: list[dict[str, Any]],
    *,
    unique: str | None = None,
    returning: str | None = None,
) -> list[Any]:
    """Insert `rows` in one statement: on PostgreSQL one array parameter per column through
    unnest (no per-row placeholders to build or parse; a missing "id" is made by the server);
    elsewhere a multi-row INSERT (a missing "id" from the column's Python default). With
    `unique`, rows that would break that unique column are skipped; `returning` names the
    column whose inserted values are returned."""
    if not rows:
        return []
    table = model.__table__
    columns = list(rows[0])
    if is_postgresql(session):
        dialect = session.get_bind().dialect
        casts: list[str] = []
        params: dict[str, Any] = {}
        for n, name in enumerate(columns):
            column = table.c[name]
            values = [row[name] for row in rows]
            if column.type._type_affinity is JSON:
                values = [json.dumps(v, ensure_ascii=False) for v in values]
                sql_type = "json"
            else:
                sql_type = column.type.compile(dialect=dialect)
            params[f"c{n}"] = values
            casts.append(f"CAST(%(c{n})b AS {sql_type}[])")
        quoted = ", ".join(f'"{c}"' for c in columns)
        selected = "*"
        if "id" in table.c and "id" not in columns:  # new ids made by the server, not Python
            quoted, selected = f'"id", {quoted}', "gen_random_uuid(), *"
        arrays = ", ".join(casts)
        sql = f"INSERT INTO {table.name} ({quoted}) SELECT {selected} FROM unnest({arrays})"
        if unique:
            sql += f" ON CONFLICT ({unique}) DO NOTHING"
        if returning:
            sql += f" RETURNING {returning}"
        # %(name)b: psycopg sends the arrays in binary, without per-element text escaping.
        result = session.connection().exec_driver_sql(sql, params)
        return [row[0] for row in result] if returning else []
    stmt: Any = sqlite.insert(model)
    if unique:
        stmt = stmt.on_conflict_do_nothing(index_elements=[unique])
    if returning:
        return list(session.scalars(stmt.returning(table.c[returning]), rows))
    session.execute(stmt, rows)
    return []
