"""One page of a list: the total, and the rows of page `page` (1-based) of `page_size`.

Every list route pages the same way (`backend.api.PageArgsSchema`, `backend.api.page`); the
services call these helpers so the count and the window are written once.
"""

from __future__ import annotations

from typing import Any, TypeAlias, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

T = TypeVar("T")

#: A SELECT of any number of columns of any types (SQLAlchemy 2.1 types Select by its columns).
AnySelect: TypeAlias = Select[*tuple[Any, ...]]


def count(session: Session, stmt: AnySelect) -> int:
    """How many rows `stmt` returns (its ORDER BY dropped: it does not change the count)."""
    return session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0


def window(stmt: AnySelect, *, page: int, page_size: int) -> AnySelect:
    """`stmt` limited to page `page` (give it an ORDER BY that decides every tie)."""
    return stmt.limit(page_size).offset((page - 1) * page_size)


def paginate(
    session: Session, stmt: Select[T], *, page: int, page_size: int
) -> tuple[list[T], int]:
    """One page of the entities `stmt` selects, and their total."""
    total = count(session, stmt)
    return list(session.scalars(window(stmt, page=page, page_size=page_size)).all()), total


def paginate_rows(
    session: Session, stmt: AnySelect, *, page: int, page_size: int
) -> tuple[list[tuple[Any, ...]], int]:
    """One page of the rows (tuples of several columns) `stmt` selects, and their total."""
    total = count(session, stmt)
    rows = session.execute(window(stmt, page=page, page_size=page_size)).all()
    return [tuple(r) for r in rows], total
