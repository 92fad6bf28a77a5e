"""The real dispatcher process: killed mid-batch and restarted, stopped by SIGTERM, and two at
once on PostgreSQL. Nothing is lost, nothing shows twice."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session as OrmSession

from backend.access.models import Consent
from backend.auth.models import Role, User
from backend.db import Base, make_engine
from backend.model_registry import load_all
from backend.reminders.models import Delivery, Notification, Reminder, ReminderStatus
from tests.conftest import new_database

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _noon():  # these tests run on the real clock: the dispatcher is another process
    return None


@pytest.fixture
def live(database_kind, tmp_path):
    """A committed database the dispatcher processes can share; yields (url, engine)."""
    with new_database(database_kind, tmp_path) as url:
        engine = make_engine(url)
        load_all()
        Base.metadata.create_all(engine)
        yield url, engine
        engine.dispose()


def _seed(engine, n: int) -> None:
    """One citizen who consented to SMS, with `n` lesson reminders due now."""
    now = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=5)
    with OrmSession(engine) as session:
        user = User(role=Role.CITIZEN, phone="13900000001", name="x", locale="zh_CN")
        session.add(user)
        session.flush()
        session.add(
            Consent(
                user_id=user.id, purpose="reminders", channel="sms", granted=True, text_version="t"
            )
        )
        session.add_all(
            Reminder(
                recipient_id=user.id,
                kind="lesson_new",
                source_type="lesson",
                source_id=uuid.uuid4(),
                occurrence=f"new:{i}",
                fire_at=now,
                next_attempt_at=now,
                params={"title": f"第{i}课"},
            )
            for i in range(n)
        )
        session.commit()


LOGS: dict[int, Path] = {}


def _start(url: str, gateway_url: str, worker: str) -> subprocess.Popen:
    import tempfile

    log = Path(tempfile.mkstemp(prefix=f"dispatcher-{worker}-", suffix=".log")[1])
    env = dict(
        os.environ,
        DATABASE_URL=url,
        REMINDER_WEBHOOK_URL=gateway_url,
        REMINDER_WEBHOOK_SECRET="s",
        DISPATCHER_INTERVAL_SECONDS="0.2",
        DISPATCHER_LEASE_SECONDS="2",
        DISPATCHER_BATCH_SIZE="10",
    )
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "flask",
                "--app",
                "backend",
                "dispatcher",
                "--worker-id",
                worker,
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    LOGS[proc.pid] = log
    return proc


def _count(engine, stmt) -> int:
    with engine.connect() as conn:
        return int(conn.execute(stmt).scalar() or 0)


def _wait(predicate, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.2)


def _delivered(engine) -> int:
    return _count(
        engine,
        select(func.count())
        .select_from(Reminder)
        .where(Reminder.status == ReminderStatus.DELIVERED),
    )


def _stop(proc: subprocess.Popen) -> str:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
    return LOGS[proc.pid].read_text(errors="replace")[-3000:]


def _assert_each_shown_once(engine, n: int, gateway) -> None:
    assert _count(engine, select(func.count()).select_from(Notification)) == n
    assert _count(engine, select(func.count(func.distinct(Notification.reminder_id)))) == n
    keys = {r["headers"]["Idempotency-Key"] for r in gateway.received}
    assert len(keys) == n  # every reminder reached the gateway; retries reuse their key


def test_sigkill_mid_batch_then_restart_loses_nothing_and_shows_nothing_twice(live, gateway):
    url, engine = live
    n = 40
    _seed(engine, n)
    gateway.delay = 0.15  # a slow gateway: the kill lands in the middle of a batch
    first = _start(url, gateway_url(gateway), "crashy")
    try:
        _wait(lambda: len(gateway.received) >= 5)
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    finally:
        _stop(first)
    assert _delivered(engine) < n
    second = _start(url, gateway_url(gateway), "survivor")
    try:
        _wait(lambda: _delivered(engine) == n, timeout=90)
    finally:
        log = _stop(second)
    assert second.returncode == 0, log
    _assert_each_shown_once(engine, n, gateway)


def test_sigterm_finishes_or_releases_the_batch(live, gateway):
    url, engine = live
    n = 30
    _seed(engine, n)
    gateway.delay = 0.1
    proc = _start(url, gateway_url(gateway), "polite")
    _wait(lambda: len(gateway.received) >= 3)
    log = _stop(proc)
    assert proc.returncode == 0, log
    held = _count(
        engine,
        select(func.count()).select_from(Reminder).where(Reminder.status == ReminderStatus.CLAIMED),
    )
    assert held == 0, "a graceful stop leaves no claim behind"
    assert 0 < _delivered(engine) < n


@pytest.mark.postgres_only
def test_two_dispatchers_deliver_every_reminder_exactly_once(live, gateway, database_kind):
    if database_kind != "postgresql":
        pytest.skip("several dispatchers need PostgreSQL (FOR UPDATE SKIP LOCKED)")
    url, engine = live
    n = 120
    _seed(engine, n)
    gateway.delay = 0.01
    procs = [_start(url, gateway_url(gateway), name) for name in ("one", "two")]
    try:
        _wait(lambda: _delivered(engine) == n, timeout=90)
    finally:
        logs = [_stop(p) for p in procs]
    assert all(p.returncode == 0 for p in procs), logs
    _assert_each_shown_once(engine, n, gateway)
    assert len(gateway.received) == n, "no reminder was sent twice"
    workers = _count(engine, select(func.count(func.distinct(Delivery.worker))))
    assert workers == 2, "both dispatchers took part"


def gateway_url(gateway) -> str:
    return gateway.url
