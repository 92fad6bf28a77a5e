"""Fixtures: one app per database (SQLite always, PostgreSQL when reachable), one rolled-back
transaction per test, and a small HTTP client that speaks JSON and bearer tokens."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event

from backend import content, create_app
from backend.db import Base, Session, engine_of, make_engine
from backend.model_registry import load_all

PG_ADMIN_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def _postgres_reachable() -> bool:
    try:
        engine = make_engine(PG_ADMIN_URL)
        with engine.connect():
            pass
        engine.dispose()
        return True
    except Exception:
        return False


def _database_params() -> list[Any]:
    """The databases of this session: TEST_DATABASES=sqlite, =postgresql or both (the default;
    `make test` runs one session per database side by side)."""
    chosen = os.environ.get("TEST_DATABASES", "sqlite,postgresql").split(",")
    params: list[Any] = ["sqlite"] if "sqlite" in chosen else []
    if "postgresql" not in chosen:
        return params
    if _postgres_reachable():
        params.append("postgresql")
    elif os.environ.get("CI") == "true":
        raise pytest.UsageError(f"CI=true but PostgreSQL is unreachable at {PG_ADMIN_URL}")
    return params


DATABASES = _database_params()


@contextlib.contextmanager
def new_database(kind: str, directory: Path) -> Iterator[str]:
    """A fresh, empty database: a SQLite file, or a new PostgreSQL database dropped after."""
    if kind == "sqlite":
        yield f"sqlite:///{directory / f'{uuid.uuid4().hex[:8]}.sqlite3'}"
        return
    name = f"mch_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.engine.make_url(PG_ADMIN_URL).set(database=name)
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session", autouse=True)
def _content() -> None:
    """The content files validated as create_app does, for the tests of the pure engines."""
    content.activate(content.load_all())


@pytest.fixture(scope="session", params=DATABASES)
def database_kind(request: pytest.FixtureRequest) -> str:
    """'sqlite' or 'postgresql': every database test runs on each."""
    return str(request.param)


@pytest.fixture(scope="session")
def database_url(database_kind: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The run's database for the app fixture."""
    with new_database(database_kind, tmp_path_factory.mktemp("db")) as url:
        yield url


@pytest.fixture(scope="session")
def app(database_url: str) -> Iterator[Flask]:
    """The app on this run's database, its schema created from the models."""
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": database_url,
            "TESTING_SESSION_BOUND": True,
            "SECRET_KEY": "test-secret",
            "LOGIN_MAX_FAILURES_PER_ADDRESS": 1000,
            # Cheap argon2id in tests only: the suite creates hundreds of accounts.
            "PASSWORD_HASH_TIME_COST": 1,
            "PASSWORD_HASH_MEMORY_KIB": 1024,
            "PASSWORD_HASH_PARALLELISM": 1,
        }
    )
    load_all()
    Base.metadata.create_all(engine_of(app))
    yield app
    engine_of(app).dispose()


@pytest.fixture
def db(app: Flask) -> Iterator[sa.orm.Session]:
    """A session inside a transaction rolled back after the test; code under test may commit."""
    connection = engine_of(app).connect()
    outer = connection.begin()
    Session.remove()
    Session.configure(bind=connection, join_transaction_mode="create_savepoint")
    # No app context is pushed here: each test request must get its own (and its own `g`).
    yield Session()
    Session.remove()
    outer.rollback()
    connection.close()


class Api:
    """A JSON client for /api/v1 with an optional bearer token and language."""

    def __init__(self, client: FlaskClient, token: str | None = None, lang: str = "zh-CN"):
        self.client = client
        self.token = token
        self.lang = lang

    def call(
        self, method: str, path: str, json: Any = None, headers: dict | None = None, **kw: Any
    ):
        url = path if path.startswith("/") else f"/api/v1/{path}"
        h = {"Accept-Language": self.lang}
        if self.token:
            h["Authorization"] = f"Bearer {self.token}"
        h.update(headers or {})
        return self.client.open(url, method=method, json=json, headers=h, **kw)

    def get(self, path: str, **kw: Any):
        return self.call("GET", path, **kw)

    def post(self, path: str, json: Any = None, **kw: Any):
        return self.call("POST", path, json=json, **kw)

    def patch(self, path: str, json: Any = None, **kw: Any):
        return self.call("PATCH", path, json=json, **kw)

    def put(self, path: str, json: Any = None, **kw: Any):
        return self.call("PUT", path, json=json, **kw)

    def delete(self, path: str, **kw: Any):
        return self.call("DELETE", path, **kw)


@pytest.fixture
def client(app: Flask, db: sa.orm.Session) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def anon(client: FlaskClient) -> Api:
    return Api(client)


_phones = iter(range(10_000_000, 99_999_999))


def new_phone() -> str:
    return f"139{next(_phones):08d}"


PASSWORD = "Str0ng-passw0rd!"


@pytest.fixture
def make_citizen(client: FlaskClient):
    """Sign up and log in a citizen through the API; returns (Api, user_id, phone)."""

    def make(name: str = "测试", lang: str = "zh-CN") -> tuple[Api, str, str]:
        phone = new_phone()
        api = Api(client, lang=lang)
        r = api.post("auth/register", {"phone": phone, "password": PASSWORD, "name": name})
        assert r.status_code == 201, r.json
        r = api.post("auth/token", {"phone": phone, "password": PASSWORD})
        assert r.status_code == 200, r.json
        api.token = r.json["access_token"]
        return api, r.json["user_id"], phone

    return make


@pytest.fixture
def citizen(make_citizen) -> Api:
    return make_citizen()[0]


@pytest.fixture
def make_staff(client: FlaskClient, db: sa.orm.Session):
    """Create staff (and their institution when not given) with the services; return an Api."""
    from backend.auth import service
    from backend.auth.models import Role

    def make(
        role: Role, institution_id: uuid.UUID | None = None, name: str = "医生"
    ) -> tuple[Api, Any]:
        if institution_id is None and role in (Role.DOCTOR, Role.EDUCATOR):
            inst = service.create_institution(
                db,
                data={
                    "name": f"社区卫生服务中心 {uuid.uuid4().hex[:4]}",
                    "kind": "community_health_centre",
                    "district_code": "330302",
                },
            )
            institution_id = inst.id
        phone = new_phone()
        user = service.create_user(
            db, role=role, phone=phone, password=PASSWORD, name=name, institution_id=institution_id
        )
        db.commit()
        api = Api(client)
        r = api.post("auth/token", {"phone": phone, "password": PASSWORD})
        assert r.status_code == 200, r.json
        api.token = r.json["access_token"]
        return api, user

    return make


@pytest.fixture
def doctor_of(make_staff, db: sa.orm.Session):
    """A doctor at an institution where the given citizen registered (建册)."""
    from backend.auth.models import Registration, Role

    def make(citizen_id: str) -> tuple[Api, Any]:
        api, doctor = make_staff(Role.DOCTOR)
        db.add(Registration(user_id=uuid.UUID(citizen_id), institution_id=doctor.institution_id))
        db.commit()
        return api, doctor

    return make


@pytest.fixture
def count_queries(app: Flask):
    """Context manager counting the SQL statements the app sends."""

    @contextlib.contextmanager
    def counter() -> Iterator[list[str]]:
        statements: list[str] = []

        def before(conn, cursor, statement, params, context, executemany):
            if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE")):
                statements.append(statement)

        engine = engine_of(app)
        event.listen(engine, "before_cursor_execute", before)
        try:
            yield statements
        finally:
            event.remove(engine, "before_cursor_execute", before)

    return counter


SHANGHAI = ZoneInfo("Asia/Shanghai")
# The instant most API tests stand at: a Monday noon in Shanghai, mid-month, mid-year.
NOON = dt.datetime(2026, 6, 15, 12, 0, tzinfo=SHANGHAI)
TODAY = NOON.date()


@pytest.fixture
def frozen_clock():
    """Pin backend.clock.now(); call with an aware datetime. Released after the test."""
    from backend import clock

    yield clock.freeze
    clock.freeze(None)


@pytest.fixture
def at_noon(frozen_clock):
    """Stand at NOON (use with `pytestmark = pytest.mark.usefixtures("at_noon")`); returns the
    freezer, to move on from there."""
    frozen_clock(NOON)
    return frozen_clock


@pytest.fixture
def mum(make_citizen):
    """A citizen, 林晓; returns (api, user_id), her phone on `api.phone`."""
    api, user_id, phone = make_citizen("林晓")
    api.phone = phone
    return api, user_id
