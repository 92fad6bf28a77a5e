"""A unit of work that only reads (a GET) costs its statements and nothing else on PostgreSQL:
no pool pre-ping, no BEGIN, no COMMIT (backend/db.py). A statement that writes or locks in such
a unit opens a real transaction first, so it is still committed or rolled back as one."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from flask import Flask
from sqlalchemy import func, select, text

from backend import create_app
from backend.auth.models import User
from backend.db import Base, Session, engine_of, prepare_to_write, write_intent
from backend.model_registry import load_all
from tests.conftest import new_database
from tests.live import PASSWORD

IDLE, INTRANS = 0, 2  # libpq's PQtransactionStatus


@contextmanager
def _real_app(database_kind: str, tmp_path) -> Iterator[Flask]:  # type: ignore[no-untyped-def]
    """The app on its own database, its session on the engine (as served, not test-bound)."""
    with new_database(database_kind, tmp_path) as url:
        app = create_app(
            {
                "DATABASE_URL": url,
                "SECRET_KEY": "test-secret",
                "PASSWORD_HASH_TIME_COST": 1,
                "PASSWORD_HASH_MEMORY_KIB": 1024,
                "PASSWORD_HASH_PARALLELISM": 1,
            }
        )
        load_all()
        Base.metadata.create_all(engine_of(app))
        try:
            yield app
        finally:
            Session.remove()
            engine_of(app).dispose()


@pytest.fixture
def pg_app(database_kind, tmp_path) -> Iterator[Flask]:
    if database_kind != "postgresql":
        pytest.skip("PostgreSQL's autocommit reader (SQLite reads in a deferred BEGIN)")
    with _real_app(database_kind, tmp_path) as app:
        yield app


def _status(session) -> int:  # type: ignore[no-untyped-def]
    return int(session.connection().connection.dbapi_connection.info.transaction_status)


def _statements(app: Flask) -> list[str]:
    seen: list[str] = []
    from sqlalchemy import event

    event.listen(engine_of(app), "before_cursor_execute", lambda *a: seen.append(a[2]))
    return seen


def _users(app: Flask, phone: str) -> int:
    with engine_of(app).connect() as conn:
        return int(conn.scalar(select(func.count()).where(User.phone == phone)) or 0)


def test_a_read_sends_no_transaction_and_no_ping(pg_app):
    with pg_app.app_context(), write_intent(False):
        session = Session()
        assert session.scalar(text("SELECT 1")) == 1
        assert _status(session) == IDLE  # autocommit: nothing opened, nothing to COMMIT
        session.commit()
    assert engine_of(pg_app).pool._pre_ping is False  # type: ignore[attr-defined]


def test_a_write_in_a_read_unit_is_one_transaction_rolled_back_as_one(pg_app):
    with pg_app.app_context(), write_intent(False):
        session = Session()
        session.scalar(select(func.count()).select_from(User))
        session.add(User(role="citizen", phone="13900000001"))
        session.add(User(role="citizen", phone="13900000002"))
        session.flush()
        assert _status(session) == INTRANS
        session.rollback()
        Session.remove()
    assert _users(pg_app, "13900000001") == 0 and _users(pg_app, "13900000002") == 0


def test_a_write_in_a_read_unit_is_committed(pg_app):
    with pg_app.app_context(), write_intent(False):
        session = Session()
        session.add(User(role="citizen", phone="13900000003"))
        session.commit()
        Session.remove()
    assert _users(pg_app, "13900000003") == 1


def test_prepare_to_write_moves_the_unit_onto_a_transaction(pg_app):
    with pg_app.app_context(), write_intent(False):
        session = Session()
        session.scalar(select(func.count()).select_from(User))
        prepare_to_write(session)
        session.add(User(id=uuid.uuid4(), role="citizen", phone="13900000004"))
        session.flush()
        assert _status(session) == INTRANS
        session.rollback()
        Session.remove()
    assert _users(pg_app, "13900000004") == 0


def test_a_locking_read_opens_a_transaction(pg_app):
    with pg_app.app_context(), write_intent(False):
        session = Session()
        session.execute(select(User.id).with_for_update())
        assert _status(session) == INTRANS
        session.rollback()
        Session.remove()


def test_get_me_costs_its_reads_only(pg_app):
    client = pg_app.test_client()
    account = {"phone": "13900000005", "password": PASSWORD}
    assert client.post("/api/v1/auth/register", json=account).status_code == 201
    token = client.post("/api/v1/auth/token", json=account).json["access_token"]
    seen = _statements(pg_app)
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    assert seen and all(s.lstrip().upper().startswith("SELECT") for s in seen), seen


def test_only_a_unit_with_nothing_to_commit_skips_its_commit(pg_app):
    """The request's commit is skipped only when it would do nothing (backend.db.only_reads):
    a write, by the ORM or by a statement, still commits."""
    from sqlalchemy import insert

    from backend.db import only_reads

    with pg_app.app_context(), write_intent(False):
        session = Session()
        session.scalar(select(func.count()).select_from(User))
        assert only_reads(session)
        session.add(User(role="citizen", phone="13900000006"))
        assert not only_reads(session)  # an ORM change not yet flushed
        session.flush()
        assert not only_reads(session)  # flushed: the reader began a transaction
        session.rollback()
        session.execute(insert(User).values(id=uuid.uuid4(), role="citizen", phone="1390000007"))
        assert not only_reads(session)  # a Core write
        session.rollback()
        Session.remove()
    with pg_app.app_context(), write_intent(True):
        assert not only_reads(Session())  # a unit that declared its writes


def test_sqlite_reads_still_end_with_their_commit(database_kind, tmp_path):
    from backend.db import only_reads

    if database_kind != "sqlite":
        pytest.skip("SQLite's read transaction")
    with _real_app(database_kind, tmp_path) as app, app.app_context(), write_intent(False):
        session = Session()
        session.scalar(select(func.count()).select_from(User))
        assert not only_reads(session)


def test_json_columns_read_what_the_standard_library_wrote(app, db):
    """orjson reads JSON columns (backend.db.read_json); what it refuses and json.dumps writes,
    an integer beyond a double, still reads back, exactly."""
    from backend.reminders.models import Notification

    user = User(role="citizen", phone="13900000009")
    db.add(user)
    db.flush()
    huge = 10**400
    note = Notification(
        user_id=user.id, kind="lesson_new", title="t", body="b", locale="zh_CN", data={"n": huge}
    )
    db.add(note)
    db.commit()
    db.expire_all()
    assert db.get(Notification, note.id).data == {"n": huge}
