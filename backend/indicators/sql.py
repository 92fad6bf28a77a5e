"""Date helpers that read the same on SQLite and PostgreSQL (compiled per dialect)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Date, Integer, String
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement


class local_date(FunctionElement[Any]):
    """The local calendar date of a UTC instant, at a fixed offset in minutes.

    Asia/Shanghai has kept +08:00 without daylight saving since 1991, so a fixed offset is
    exact for the city's dates.
    """

    type = Date()
    inherit_cache = True

    def __init__(self, instant: Any, offset_minutes: int) -> None:
        self.offset_minutes = int(offset_minutes)
        super().__init__(instant)


@compiles(local_date, "sqlite")
def _local_date_sqlite(element: local_date, compiler: Any, **kw: Any) -> str:
    return f"date({compiler.process(element.clauses, **kw)}, '{element.offset_minutes:+d} minutes')"


@compiles(local_date, "postgresql")
def _local_date_pg(element: local_date, compiler: Any, **kw: Any) -> str:
    arg = compiler.process(element.clauses, **kw)
    return f"CAST(({arg} AT TIME ZONE 'UTC') + INTERVAL '{element.offset_minutes} minutes' AS DATE)"


class month_of(FunctionElement[Any]):
    """'YYYY-MM' of a date."""

    type = String()
    inherit_cache = True


@compiles(month_of, "sqlite")
def _month_sqlite(element: month_of, compiler: Any, **kw: Any) -> str:
    return f"strftime('%Y-%m', {compiler.process(element.clauses, **kw)})"


@compiles(month_of, "postgresql")
def _month_pg(element: month_of, compiler: Any, **kw: Any) -> str:
    return f"to_char({compiler.process(element.clauses, **kw)}, 'YYYY-MM')"


class days_between(FunctionElement[Any]):
    """later − earlier, in whole days, for two dates."""

    type = Integer()
    inherit_cache = True


@compiles(days_between, "sqlite")
def _days_sqlite(element: days_between, compiler: Any, **kw: Any) -> str:
    later, earlier = list(element.clauses)
    return (
        f"CAST(julianday({compiler.process(later, **kw)}) - "
        f"julianday({compiler.process(earlier, **kw)}) AS INTEGER)"
    )


@compiles(days_between, "postgresql")
def _days_pg(element: days_between, compiler: Any, **kw: Any) -> str:
    later, earlier = list(element.clauses)
    return f"({compiler.process(later, **kw)} - {compiler.process(earlier, **kw)})"
