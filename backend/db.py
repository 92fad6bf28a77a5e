"""Declarative base, column types shared by every domain, the engine and the session."""

from __future__ import annotations

import datetime as dt
import functools
import json
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Annotated, Any

import orjson
from flask import Flask
from sqlalchemy import (
    JSON,
    Connection,
    DateTime,
    Engine,
    MetaData,
    String,
    TypeDecorator,
    Uuid,
    create_engine,
    event,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, mapped_column, scoped_session, sessionmaker
from sqlalchemy.orm import Session as OrmSession

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> dt.datetime:
    """The current instant, aware and in UTC (backend.clock, so tests can freeze it)."""
    from backend import clock

    return clock.now()


class UTCDateTime(TypeDecorator[dt.datetime]):
    """An instant stored in UTC and always returned timezone-aware (SQLite drops offsets)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime refused: store instants as aware UTC")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        instant: dt.datetime = value
        if instant.tzinfo is None:
            return instant.replace(tzinfo=dt.UTC)
        return instant.astimezone(dt.UTC)


uuid_pk = Annotated[uuid.UUID, mapped_column(primary_key=True, default=uuid.uuid4)]
instant_now = Annotated[dt.datetime, mapped_column(default=utcnow)]
# The usual name; a class that also has a `created_at` column types its next stamp `instant_now`.
created_at = instant_now
str16 = Annotated[str, mapped_column(String(16))]
str32 = Annotated[str, mapped_column(String(32))]
str64 = Annotated[str, mapped_column(String(64))]
str200 = Annotated[str, mapped_column(String(200))]


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {
        dt.datetime: UTCDateTime(),
        uuid.UUID: Uuid(),
        dict[str, Any]: JSON(),
        list[str]: JSON(),
        str: String(),
    }


# PostgreSQL: the engine of each unit of work that only reads (a GET), in autocommit mode, so a
# read costs its statements and no BEGIN/COMMIT round trips (one statement under READ
# COMMITTED sees one snapshot either way). A statement that may write or lock opens a real
# transaction first (`_begin_before_writing`), so a read that writes stays atomic.
_READERS: dict[Engine | Connection, Engine] = {}


class UnitOfWorkSession(OrmSession):
    """A session that reads through the autocommit engine while its unit of work only reads."""

    def get_bind(self, *args: Any, **kwargs: Any) -> Any:
        bind = super().get_bind(*args, **kwargs)
        if not _WRITES.get():
            return _READERS.get(bind, bind)
        return bind


Session = scoped_session(sessionmaker(class_=UnitOfWorkSession, expire_on_commit=False))

# SQLite: may this unit of work write? A deferred transaction that reads and then writes
# cannot wait for the lock (SQLITE_BUSY at once, whatever the busy timeout), so a unit of work
# that may write takes the write lock up front (BEGIN IMMEDIATE) and the busy timeout works.
# True by default (jobs, CLI); a request with a safe method reads under a deferred BEGIN and
# calls `prepare_to_write` before its first write (an audited read).
_WRITES: ContextVar[bool] = ContextVar("mch_db_writes", default=True)


def set_write_intent(writes: bool) -> None:
    """Declare whether the transactions started from now on, in this context, may write."""
    _WRITES.set(writes)


@contextmanager
def write_intent(writes: bool) -> Iterator[None]:
    """Run a block with the given write intent, then restore the previous one."""
    token = _WRITES.set(writes)
    try:
        yield
    finally:
        _WRITES.reset(token)


def only_reads(session: Any) -> bool:
    """True when committing this unit of work would do nothing: it declared no write, holds no
    change, and runs on PostgreSQL's autocommit reader with no transaction begun (a statement
    that may write begins one). On SQLite the commit ends the read transaction: not skipped."""
    if _WRITES.get() or session.new or session.dirty or session.deleted:
        return False
    if session.get_bind() not in _READERS.values():
        return False
    if not session.in_transaction():
        return True
    dbapi = session.connection().connection.dbapi_connection
    return bool(dbapi.info.transaction_status == 0)  # psycopg's TransactionStatus.IDLE


def begin_reading(session: Any) -> None:
    """Before reads followed by slow work (a password check): when no transaction is open yet,
    the next one begins deferred, so SQLite's write lock is not held during the slow part.
    Call `prepare_to_write` before writing."""
    if not session.in_transaction():
        _WRITES.set(False)


def prepare_to_write(session: Any) -> None:
    """Before the first write of a read-only unit of work: end the read transaction (nothing
    was written, objects stay loaded) so the next one begins IMMEDIATE on SQLite, and on a
    connection in a real transaction (not the autocommit reader) on PostgreSQL."""
    if _WRITES.get():
        return
    bind = session.get_bind()
    _WRITES.set(True)
    if (bind.dialect.name == "sqlite" or bind in _READERS.values()) and session.in_transaction():
        session.commit()


LIKE_ESCAPE = "\\"


def escape_like(text: str) -> str:
    """Make a search text literal inside LIKE: `%` and `_` match themselves (escape="\\")."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def read_json(text: str | bytes) -> Any:
    """A JSON column's value: orjson (a lesson feed decodes ~40 small documents; the standard
    library's decoder was a sixth of the request), else the standard library for what orjson
    refuses and `json.dumps` may have written (an integer beyond a double, NaN)."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


def make_engine(url: str, echo: bool = False, *, busy_timeout: float = 30.0) -> Engine:
    """Create the engine; SQLite gets foreign keys, WAL and a busy timeout (seconds) that
    writers really wait for, since they take the lock up front."""
    kwargs: dict[str, Any] = {"echo": echo, "future": True, "json_deserializer": read_json}
    if url.startswith("sqlite"):
        kwargs["connect_args"] = {"timeout": busy_timeout}
    else:
        # No pre-ping (a `SELECT 1` round trip on every checkout, 12 % of a GET /me): a
        # connection found dead answers 503 once, and SQLAlchemy then invalidates the whole
        # pool (every connection older than the failure), so the next request reconnects;
        # connections idle past a firewall's or server's timeout are replaced before it.
        kwargs["pool_recycle"] = 1800
    engine = create_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            # pysqlite's own transaction handling breaks SAVEPOINT; SQLAlchemy emits BEGIN
            # itself instead (the recipe in SQLAlchemy's SQLite dialect docs).
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            if url not in ("sqlite://", "sqlite:///:memory:"):
                cur.execute("PRAGMA journal_mode=WAL")
            cur.execute(f"PRAGMA busy_timeout={int(busy_timeout * 1000)}")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Any) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE" if _WRITES.get() else "BEGIN")

    elif engine.dialect.name == "postgresql":
        _READERS[engine] = _autocommit_reader(engine, url, kwargs)
    return engine


def _autocommit_reader(engine: Engine, url: str, kwargs: dict[str, Any]) -> Engine:
    """The reads' engine: its own pool of connections opened in autocommit mode. (An
    `engine.execution_options(isolation_level=...)` shares the pool but switches each connection
    to autocommit and back on every checkout, and merges the options on every statement: 70 us
    of a GET's 1.3 ms.) The statement events listened for on `engine` (the query counts of the
    tests and benchmarks) see its statements too; it is disposed of with `engine`."""
    reader = create_engine(url, isolation_level="AUTOCOMMIT", **kwargs)
    for name in ("before_cursor_execute", "after_cursor_execute"):
        event.listen(reader, name, _forwarded(engine, name))
    event.listen(reader, "before_cursor_execute", _begin_before_writing)
    event.listen(engine, "engine_disposed", lambda _engine: reader.dispose())
    return reader


def _forwarded(engine: Engine, name: str) -> Any:
    """A listener calling `engine`'s listeners for the event `name` (read at each call: a
    listener added later counts)."""

    def forward(*args: Any) -> None:
        getattr(engine.dispatch, name)(*args)

    return forward


# A statement that only reads and takes no row lock; anything else opens a transaction first.
_READ_ONLY = re.compile(r"\s*(SELECT|SHOW)\b(?!.*\bFOR\s+(UPDATE|SHARE|NO\s+KEY|KEY))", re.I | re.S)


@functools.lru_cache(maxsize=1024)
def _reads_only(statement: str) -> bool:
    """Whether a statement only reads; remembered, since the same compiled statements come back
    on every request and the pattern scans the whole text (a page's statement is long)."""
    return _READ_ONLY.match(statement) is not None


def _begin_before_writing(
    conn: Any, _cursor: Any, statement: str, _params: Any, _context: Any, _many: bool
) -> None:
    """On the autocommit reader: before a statement that may write or lock, BEGIN, so the
    rest of the unit of work is one transaction that the request commits or rolls back."""
    if _reads_only(statement):
        return
    dbapi = conn.connection.dbapi_connection
    if dbapi.info.transaction_status == 0:  # psycopg's TransactionStatus.IDLE
        dbapi.execute("BEGIN")


def init_app(app: Flask) -> None:
    """Bind the session to the configured database and release it after each request."""
    if "DB_ENGINE" not in app.extensions:
        url = app.config["DATABASE_URL"]
        if url.startswith("sqlite:///") and not url.startswith("sqlite:////:memory"):
            from pathlib import Path

            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        app.extensions["DB_ENGINE"] = make_engine(
            url,
            app.config.get("SQL_ECHO", False),
            busy_timeout=app.config.get("DATABASE_BUSY_TIMEOUT_SECONDS", 30.0),
        )
    engine = app.extensions["DB_ENGINE"]
    if not app.config.get("TESTING_SESSION_BOUND"):
        Session.configure(bind=engine)
    app.teardown_appcontext(lambda _exc: Session.remove())


def engine_of(app: Flask) -> Engine:
    """The app's engine."""
    engine: Engine = app.extensions["DB_ENGINE"]
    return engine
