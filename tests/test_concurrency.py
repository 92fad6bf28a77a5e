"""Many clients at once against a real server process, on SQLite (the `make run` set-up) and
PostgreSQL: no answer >= 500, no lost update, no twin from a retried POST.

Before writes took SQLite's lock up front, two doctors reading the same handbook (each read
writes an audit row) got 500 "database is locked" about half the time, and a concurrent
If-Match loser got an HTML 500 from an error handler that read a broken session.
"""

from __future__ import annotations

import itertools
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy.orm import Session as OrmSession

from backend.auth import security
from backend.auth import service as auth_service
from backend.auth.models import Role
from backend.db import Base, make_engine
from backend.model_registry import load_all
from tests.conftest import new_database
from tests.live import PASSWORD, Reply, call, log_in, serve, sign_up

PROBLEM = "application/problem+json"
_phones = itertools.count(int(time.time()) % 10_000_000)


def _phone() -> str:
    return f"137{next(_phones) % 100_000_000:08d}"


@pytest.fixture(scope="module")
def live(database_kind, tmp_path_factory):
    """A committed database with a doctor, and a server process on it (one per module and
    database: the tests make their own people); yields (base, doctor token, institution)."""
    with new_database(database_kind, tmp_path_factory.mktemp("live")) as url:
        engine = make_engine(url)
        load_all()
        Base.metadata.create_all(engine)
        security.configure_hasher(time_cost=1, memory_cost_kib=1024, parallelism=1)
        doctor_phone = _phone()
        with OrmSession(engine) as session:
            inst = auth_service.create_institution(
                session,
                data={"name": "中心", "kind": "community_health_centre", "district_code": "330302"},
            )
            auth_service.create_user(
                session,
                role=Role.DOCTOR,
                phone=doctor_phone,
                password=PASSWORD,
                name="医生",
                institution_id=inst.id,
            )
            session.commit()
            institution_id = str(inst.id)
        engine.dispose()
        # SQLite as `make run` serves it (flask's threaded server); PostgreSQL as `make serve`
        # does (gunicorn, 2 processes x 4 threads); the dispatcher shares the database.
        with serve(url, gunicorn=database_kind == "postgresql", dispatcher=True) as base:
            yield base, log_in(base, doctor_phone), institution_id


def _citizen(base: str, institution_id: str) -> tuple[str, str]:
    """A citizen registered (建册) at the institution; returns (token, user id)."""
    token = sign_up(base, _phone())
    r = call(
        base, "POST", "/api/v1/me/registrations", {"institution_id": institution_id}, token=token
    )
    assert r.status == 201, (r.status, r.body)
    me = call(base, "GET", "/api/v1/me", token=token)
    return token, me.json["id"]


def _assert_no_server_error(replies: list[Reply]) -> None:
    bad = [(r.status, r.body[:300]) for r in replies if r.status >= 500]
    assert not bad, bad
    for r in replies:
        if r.status >= 400:
            assert r.content_type.startswith(PROBLEM), (r.status, r.content_type, r.body[:200])


def test_mixed_reads_and_writes_by_16_clients(live):
    """16 clients: audited doctor reads, profile writes, sign-ups, schedule reads."""
    base, doctor, institution_id = live
    citizens = [_citizen(base, institution_id) for _ in range(4)]

    def client(n: int) -> list[Reply]:
        token, user_id = citizens[n % len(citizens)]
        replies = []
        for i in range(8):
            kind = (n + i) % 4
            if kind == 0:
                replies.append(call(base, "GET", f"/api/v1/patients/{user_id}", token=doctor))
            elif kind == 1:
                replies.append(
                    call(base, "PATCH", "/api/v1/me", {"name": f"名{n}-{i}"}, token=token)
                )
            elif kind == 2:
                replies.append(
                    call(
                        base,
                        "POST",
                        "/api/v1/auth/register",
                        {"phone": _phone(), "password": PASSWORD},
                    )
                )
            else:
                replies.append(call(base, "GET", "/api/v1/me/schedule", token=token))
        return replies

    with ThreadPoolExecutor(16) as pool:
        replies = [r for batch in pool.map(client, range(16)) for r in batch]
    _assert_no_server_error(replies)
    statuses = Counter(r.status for r in replies)
    # A PATCH that raced another on the same profile may answer 412 (the row version moved
    # under it on PostgreSQL); nothing else may fail.
    assert statuses[201] == 32 and statuses[200] + statuses[412] == 96, statuses
    assert statuses[412] <= 32, statuses


def test_concurrent_if_match_one_wins_the_others_get_412(live):
    """The same If-Match from 6 clients: one 200, five 412 problem+json, no lost update."""
    base, _doctor, _inst = live
    token = sign_up(base, _phone())
    etag = call(base, "GET", "/api/v1/me", token=token).headers["ETag"]
    barrier = threading.Barrier(6)

    def patch(n: int) -> Reply:
        barrier.wait()
        return call(
            base,
            "PATCH",
            "/api/v1/me",
            {"name": f"名字{n}"},
            token=token,
            headers={"If-Match": etag},
        )

    with ThreadPoolExecutor(6) as pool:
        replies = list(pool.map(patch, range(6)))
    _assert_no_server_error(replies)
    assert sorted(r.status for r in replies) == [200, 412, 412, 412, 412, 412]
    winner = next(r for r in replies if r.status == 200).json["name"]
    assert call(base, "GET", "/api/v1/me", token=token).json["name"] == winner


def test_concurrent_retries_with_one_idempotency_key_make_one_record(live):
    """A mobile client retrying one POST 6 times at once: one pregnancy, one answer."""
    base, _doctor, _inst = live
    token = sign_up(base, _phone())
    key = str(uuid.uuid4())
    barrier = threading.Barrier(6)

    def post(_n: int) -> Reply:
        barrier.wait()
        return call(
            base,
            "POST",
            "/api/v1/me/pregnancies",
            {"lmp": time.strftime("%Y-%m-%d", time.gmtime(time.time() - 40 * 86400))},
            token=token,
            headers={"Idempotency-Key": key},
        )

    with ThreadPoolExecutor(6) as pool:
        replies = list(pool.map(post, range(6)))
    _assert_no_server_error(replies)
    created = {r.json["id"] for r in replies if r.status == 201}
    assert len(created) == 1, [(r.status, r.body[:200]) for r in replies]
    in_progress = [r for r in replies if r.status == 409]
    assert len(created) + 0 == 1 and all(r.status in (201, 409) for r in replies)
    assert len(in_progress) + sum(r.status == 201 for r in replies) == 6
    listed = call(base, "GET", "/api/v1/me/pregnancies", token=token).json
    items = listed["items"] if isinstance(listed, dict) else listed
    assert len(items) == 1


def test_a_streamed_export_holds_no_lock_after_its_last_row(live):
    """GET /me/export streams its body after the unit of work committed; on SQLite a read
    transaction left open by the stream once made the next writer wait 30 s and answer 503."""
    base, _doctor, institution_id = live
    token, _ = _citizen(base, institution_id)
    assert call(base, "GET", "/api/v1/me/export", token=token).status == 200
    r = call(base, "PATCH", "/api/v1/me", {"name": "导出之后"}, token=token)
    assert r.status == 200, (r.status, r.body[:200])  # a held lock: 503 after the busy timeout
