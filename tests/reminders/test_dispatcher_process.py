"""The real dispatcher process: killed mid-batch and restarted, stopped by SIGTERM, two and four
at once on PostgreSQL, and draining a backlog hours late. Nothing is lost, nothing shows twice,
nothing still needed is dropped for its age."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session as OrmSession

from backend.access.models import Consent
from backend.auth.models import Role, User
from backend.care.models import CareStep
from backend.db import Base, make_engine
from backend.model_registry import load_all
from backend.regimens.models import CheckIn, Regimen
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
        session.execute(
            insert(Reminder),
            [
                {
                    "id": uuid.uuid4(),
                    "recipient_id": user.id,
                    "kind": "lesson_new",
                    "source_type": "lesson",
                    "source_id": uuid.uuid4(),
                    "occurrence": f"new:{i}",
                    "fire_at": now,
                    "next_attempt_at": now,
                    "params": {"title": f"第{i}课"},
                }
                for i in range(n)
            ],
        )
        session.commit()


LOGS: dict[int, Path] = {}


def _start(
    url: str, gateway_url: str, worker: str, *, wait: bool = True, **settings: str
) -> subprocess.Popen:
    log = Path(tempfile.mkstemp(prefix=f"dispatcher-{worker}-", suffix=".log")[1])
    env = (
        dict(os.environ)
        | dict(
            DATABASE_URL=url,
            REMINDER_WEBHOOK_URL=gateway_url,
            REMINDER_WEBHOOK_SECRET="s",
            DISPATCHER_INTERVAL_SECONDS="0.2",
            DISPATCHER_LEASE_SECONDS="2",
            DISPATCHER_BATCH_SIZE="10",
            # a few gateway calls at once, so that a slow gateway keeps a batch busy a while
            REMINDER_WEBHOOK_CONCURRENCY="4",
        )
        | settings
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
    if wait:
        _started(proc)
    return proc


def _started(proc: subprocess.Popen) -> None:
    """Wait for the process to be up: on a loaded machine importing the app alone can take
    most of a minute, which must not count against the timeouts of what is measured."""
    _wait(lambda: ": started" in LOGS[proc.pid].read_text(errors="replace"), 180)


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
            proc.wait(timeout=60)  # a loaded machine: interpreter exit alone can take 20 s
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
    n = 100
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
    n = 100
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


def test_a_slow_gateway_does_not_hold_up_the_inbox(live, gateway):
    """The inbox rows are committed before any gateway call: a gateway taking seconds delays
    only the SMS, which waits under its lease and is then recorded once."""
    url, engine = live
    n = 10
    _seed(engine, n)
    gateway.delay = 1.5
    proc = _start(
        url,
        gateway_url(gateway),
        "slow-gateway",
        DISPATCHER_LEASE_SECONDS="30",
        REMINDER_WEBHOOK_TIMEOUT_SECONDS="10",
        REMINDER_WEBHOOK_CONCURRENCY="16",
    )
    try:
        _wait(lambda: _count(engine, select(func.count()).select_from(Notification)) == n, 30)
        assert _delivered(engine) == 0, "the gateway has not answered yet"
        _wait(lambda: _delivered(engine) == n, timeout=30)
    finally:
        log = _stop(proc)
    assert proc.returncode == 0, log
    _assert_each_shown_once(engine, n, gateway)
    assert len(gateway.received) == n


@pytest.mark.postgres_only
@pytest.mark.parametrize("processes", [2, 4])
def test_several_dispatchers_deliver_every_reminder_exactly_once(
    live, gateway, database_kind, processes
):
    if database_kind != "postgresql":
        pytest.skip("several dispatchers need PostgreSQL (FOR UPDATE SKIP LOCKED)")
    url, engine = live
    n = 120 * processes  # enough work that every process starts before it is all done
    _seed(engine, n)
    gateway.delay = 0.05
    procs = [_start(url, gateway_url(gateway), f"d{i}", wait=False) for i in range(processes)]
    try:
        for p in procs:
            _started(p)
        _wait(lambda: _delivered(engine) == n, timeout=120)
    finally:
        logs = [_stop(p) for p in procs]
    assert all(p.returncode == 0 for p in procs), logs
    _assert_each_shown_once(engine, n, gateway)
    assert len(gateway.received) == n, "no reminder was sent twice"
    workers = _count(engine, select(func.count(func.distinct(Delivery.worker))))
    assert workers == processes, "every dispatcher took part"


def test_a_backlog_hours_late_is_drained_in_one_run_and_sent_late_not_dropped(live):
    """More than one batch, two to seventy hours late: one run of the job (the next is a minute
    away) delivers every reminder that is still needed. Only the still-needed check cancels:
    the day's folic acid already ticked off, the step already done; the hourly regimen planner,
    which runs at start-up too, leaves the late ones alone."""

    url, engine = live
    now = dt.datetime.now(dt.UTC)
    today = now.astimezone(ZoneInfo("Asia/Shanghai")).date()
    needed, unneeded = set(), set()
    with OrmSession(engine) as session:
        for w in range(8):
            woman = User(role=Role.CITIZEN, phone=f"1390000{w:04d}", name=f"w{w}", locale="zh_CN")
            session.add(woman)
            session.flush()
            regimen = Regimen(
                user_id=woman.id,
                kind="folic_acid",
                tier="standard",
                risk_factors=[],
                starts_on=today - dt.timedelta(days=10),
                reminder_time=dt.time(8, 30),
            )
            steps = [
                CareStep(
                    subject_kind="woman",
                    subject_id=woman.id,
                    person_id=woman.id,
                    code=code,
                    programme="prenatal_public_health",
                    version="1",
                    opens_on=today - dt.timedelta(days=5),
                    due_on=today - dt.timedelta(days=1),
                    closes_on=today + dt.timedelta(days=20),
                    state=state,
                    reason={},
                )
                for code, state in (("ph_prenatal_1", "pending"), ("ph_prenatal_2", "done"))
            ]
            session.add_all([regimen, *steps])
            session.flush()
            # she ticked off the day before yesterday already (woman 0 only)
            if w == 0:
                session.add(
                    CheckIn(regimen_id=regimen.id, on=today - dt.timedelta(days=2), taken=True)
                )
            for days_ago in (1, 2, 3):
                day = today - dt.timedelta(days=days_ago)
                late = now - dt.timedelta(hours=24 * days_ago - 2)
                r = Reminder(
                    recipient_id=woman.id,
                    kind="regimen_daily",
                    source_type="regimen",
                    source_id=regimen.id,
                    occurrence=f"daily:{day.isoformat()}",
                    fire_at=late,
                    next_attempt_at=late,
                    params={"regimen": "folic_acid", "day": day.isoformat()},
                )
                session.add(r)
                session.flush()
                (unneeded if w == 0 and days_ago == 2 else needed).add(r.id)
            for step in steps:
                r = Reminder(
                    recipient_id=woman.id,
                    kind="step_due",
                    source_type="care_step",
                    source_id=step.id,
                    occurrence=f"due:{step.due_on.isoformat()}",
                    fire_at=now - dt.timedelta(hours=26),
                    next_attempt_at=now - dt.timedelta(hours=26),
                    params={"code": step.code, "day": step.due_on.isoformat()},
                )
                session.add(r)
                session.flush()
                (needed if step.state == "pending" else unneeded).add(r.id)
        session.commit()
    assert len(needed) + len(unneeded) > 10  # more than one batch
    proc = _start(url, "", "late", DISPATCHER_INTERVAL_SECONDS="600")
    try:

        def settled() -> bool:
            with OrmSession(engine) as s:
                states = s.execute(
                    select(Reminder.id, Reminder.status).where(Reminder.id.in_(needed | unneeded))
                ).all()
            return all(st in ("delivered", "cancelled") for _, st in states)

        _wait(settled, timeout=60)
    finally:
        log = _stop(proc)
    assert proc.returncode == 0, log
    with OrmSession(engine) as s:
        status = dict(
            s.execute(
                select(Reminder.id, Reminder.status).where(Reminder.id.in_(needed | unneeded))
            ).all()
        )
        shown = s.scalars(
            select(Notification.reminder_id).where(Notification.reminder_id.in_(needed | unneeded))
        ).all()
    assert {i for i, st in status.items() if st == "delivered"} == needed
    assert {i for i, st in status.items() if st == "cancelled"} == unneeded
    assert sorted(shown) == sorted(needed), "each still-needed reminder shows once"


def gateway_url(gateway) -> str:
    return gateway.url
