"""The reminder dispatcher vs. the raw-SQL floor on the same rows, in the same run (PostgreSQL).

    .venv/bin/python bench/dispatch.py [--reminders 20000] [--rounds 2] [--memory 10000,200000]
                                       [--database-url URL]

Creates a throw-away PostgreSQL database (like tests/conftest.py) and seeds N due reminders,
two hours late, half of them for a care step and half for a daily folic-acid regimen of N/2
women (a fifth of them reading English). Real rows stand behind them, so the still-needed
check runs: 5 % of the steps are already done and 10 % of the regimens have today's check-in,
and those reminders must be cancelled, not sent. Then, per round:

  1. the floor: one SQL statement per 1,000-row batch that claims with SKIP LOCKED, marks the
     reminders delivered, inserts their inbox rows and records their deliveries (no rendering,
     no still-needed check: what PostgreSQL needs to move the rows);
  2. the same rows restored, then the real dispatcher job (`reminders.jobs.dispatch`, as the
     `flask --app backend dispatcher` process runs it, with the settings of content/reminders.yaml)
     until nothing is due;
  3. a check that every still-needed reminder has exactly one inbox row and one delivery, and
     every other one is cancelled.

It prints reminders/s of both, the ratio (target >= 0.5x and >= 10,000/s), the SQL statements
per reminder, and with --memory the dispatcher's peak traced Python memory for each size
(target: flat within 1.2x from 10k to 200k).
"""

from __future__ import annotations

import argparse
import datetime as dt
import threading
import time
import tracemalloc
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from sqlalchemy import event

from backend import clock, create_app
from backend.db import Base, engine_of
from backend.model_registry import load_all
from backend.reminders import jobs

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
FLOOR_BATCH = 1000
LATE = dt.timedelta(hours=2)


@contextmanager
def database(url: str | None) -> Iterator[str]:
    """The given database, or a new PostgreSQL database dropped afterwards."""
    if url:
        yield url
        return
    admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    name = f"mch_bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield sa.engine.make_url(PG_ADMIN).set(database=name).render_as_string(False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def family_step_code(app) -> str:  # type: ignore[no-untyped-def]
    """A protocol item the family acts on (so it gets reminders), e.g. a prenatal visit."""
    protocols = app.extensions["care.protocols"]
    for code in protocols.codes():
        if protocols.item(code).actor == "family":
            return code
    raise SystemExit("no family step in content/protocols")


SEED = """
INSERT INTO users (id, role, phone, name, locale, is_active, created_at, version)
SELECT md5('u' || g)::uuid, 'citizen', '150' || lpad(g::text, 8, '0'), 'bench ' || g,
       CASE WHEN g % 5 = 0 THEN 'en' ELSE 'zh_CN' END, true, :now, 1
FROM generate_series(1, :women) g;

INSERT INTO care_steps (id, subject_kind, subject_id, person_id, code, programme, version,
                        opens_on, due_on, closes_on, state, closed_before_enrolment, reason,
                        created_at, updated_at)
SELECT md5('s' || g)::uuid, 'woman', md5('u' || g)::uuid, md5('u' || g)::uuid, :code, 'bench',
       '1', :today - 10, :today, :today + 30,
       CASE WHEN g % 20 = 0 THEN 'done' ELSE 'pending' END, false, '{}', :now, :now
FROM generate_series(1, :women) g;

INSERT INTO regimens (id, user_id, kind, tier, risk_factors, starts_on, reminder_time, status,
                      created_at)
SELECT md5('r' || g)::uuid, md5('u' || g)::uuid, 'folic_acid', 'standard', '[]', :today - 30,
       '08:30', 'active', :now
FROM generate_series(1, :women) g;

INSERT INTO regimen_check_ins (id, regimen_id, "on", taken, at)
SELECT md5('c' || g)::uuid, md5('r' || g)::uuid, :today, true, :now
FROM generate_series(10, :women, 10) g;

INSERT INTO reminders (id, recipient_id, kind, source_type, source_id, occurrence, fire_at,
                       status, attempts, next_attempt_at, params, created_at, updated_at)
SELECT md5('m' || g)::uuid, md5('u' || g)::uuid, 'step_due', 'care_step', md5('s' || g)::uuid,
       'due:' || CAST(:today AS text), :fire_at, 'pending', 0, :fire_at,
       json_build_object('code', CAST(:code AS text), 'day', CAST(:today AS text)), :now, :now
FROM generate_series(1, :women) g
UNION ALL
SELECT md5('n' || g)::uuid, md5('u' || g)::uuid, 'regimen_daily', 'regimen', md5('r' || g)::uuid,
       'daily:' || CAST(:today AS text), :fire_at, 'pending', 0, :fire_at,
       json_build_object('regimen', 'folic_acid', 'day', CAST(:today AS text)), :now, :now
FROM generate_series(1, :women) g;
"""

FLOOR = """
WITH claimed AS (
    SELECT id FROM reminders
    WHERE status = 'pending' AND next_attempt_at <= :now
    ORDER BY next_attempt_at LIMIT :batch
    FOR UPDATE SKIP LOCKED
), marked AS (
    UPDATE reminders r SET status = 'delivered', delivered_at = :now, channel = 'inbox',
           attempts = r.attempts + 1, updated_at = :now
    FROM claimed WHERE r.id = claimed.id
    RETURNING r.id, r.recipient_id, r.kind
), inbox AS (
    INSERT INTO notifications (id, user_id, reminder_id, kind, title, body, locale, data,
                               created_at)
    SELECT gen_random_uuid(), recipient_id, id, kind, 'title', 'body', 'zh_CN', '{}', :now
    FROM marked
    RETURNING reminder_id
)
INSERT INTO reminder_deliveries (id, reminder_id, attempt, channel, ok, worker, at)
SELECT gen_random_uuid(), reminder_id, 1, 'inbox', true, 'floor', :now FROM inbox
"""


def seed(engine: sa.Engine, *, reminders: int, code: str, today: dt.date) -> None:
    now = clock.now()
    with engine.begin() as conn:
        for table in ("reminder_deliveries", "notifications", "reminders", "regimen_check_ins"):
            conn.execute(sa.text(f"DELETE FROM {table}"))
        for table in ("regimens", "care_steps", "users"):
            conn.execute(sa.text(f"DELETE FROM {table}"))
        params = {
            "women": reminders // 2,
            "code": code,
            "today": today,
            "now": now,
            "fire_at": now - LATE,
        }
        for statement in SEED.split(";\n"):
            if statement.strip():
                conn.execute(sa.text(statement), params)
    vacuum(engine)


def vacuum(engine: sa.Engine) -> None:
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text("VACUUM ANALYZE"))


def snapshot(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE IF EXISTS bench_snapshot"))
        conn.execute(sa.text("CREATE TABLE bench_snapshot AS SELECT * FROM reminders"))


def restore(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM reminder_deliveries"))
        conn.execute(sa.text("DELETE FROM notifications"))
        conn.execute(sa.text("DELETE FROM escalations"))
        conn.execute(sa.text("DELETE FROM reminders"))
        conn.execute(sa.text("INSERT INTO reminders SELECT * FROM bench_snapshot"))
    vacuum(engine)


def run_floor(engine: sa.Engine) -> tuple[int, float]:
    """Every due reminder through the one-statement batch; returns (rows, seconds)."""
    started = time.perf_counter()
    done = 0
    while True:
        with engine.begin() as conn:
            moved = conn.execute(
                sa.text(FLOOR), {"now": clock.now(), "batch": FLOOR_BATCH}
            ).rowcount
        if not moved:
            break
        done += moved
    return done, time.perf_counter() - started


def due(engine: sa.Engine) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(
                sa.text(
                    "SELECT count(*) FROM reminders WHERE status IN ('pending', 'claimed')"
                    " AND next_attempt_at <= :now"
                ),
                {"now": clock.now()},
            ).scalar_one()
        )


def run_dispatcher(app, engine: sa.Engine, *, trace: bool = False) -> tuple[float, int, int]:  # type: ignore[no-untyped-def]
    """The dispatcher's scheduled job until nothing is due; (seconds, statements, peak bytes)."""
    statements = [0]

    def count(*_args: object) -> None:
        statements[0] += 1

    event.listen(engine, "before_cursor_execute", count)
    stop = threading.Event()
    worker = f"bench:{uuid.uuid4().hex[:6]}"
    if trace:
        tracemalloc.start()
    started = time.perf_counter()
    try:
        while due(engine):
            jobs.dispatch(app, worker=worker, stop=stop)
        seconds = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1] if trace else 0
    finally:
        if trace:
            tracemalloc.stop()
        event.remove(engine, "before_cursor_execute", count)
    return seconds, statements[0], peak


def verify(engine: sa.Engine, *, reminders: int) -> tuple[int, int]:
    """Every still-needed reminder shown exactly once, every other one cancelled."""
    women = reminders // 2
    needed = (women - women // 20) + (women - women // 10)
    with engine.connect() as conn:

        def one(sql: str) -> int:
            return int(conn.execute(sa.text(sql)).scalar_one())

        delivered = one("SELECT count(*) FROM reminders WHERE status = 'delivered'")
        cancelled = one("SELECT count(*) FROM reminders WHERE status = 'cancelled'")
        shown = one("SELECT count(*) FROM notifications")
        distinct = one("SELECT count(DISTINCT reminder_id) FROM notifications")
        inbox = one("SELECT count(*) FROM reminder_deliveries WHERE channel = 'inbox' AND ok")
    problems = []
    if delivered != needed:
        problems.append(f"delivered {delivered}, expected {needed}")
    if cancelled != reminders - needed:
        problems.append(f"cancelled {cancelled}, expected {reminders - needed}")
    if not shown == distinct == inbox == delivered:
        problems.append(f"inbox rows {shown} ({distinct} distinct), deliveries {inbox}")
    if problems:
        raise SystemExit("NOT exactly once: " + "; ".join(problems))
    return delivered, cancelled


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reminders", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument(
        "--memory",
        default="",
        help="comma-separated sizes for the peak-memory check, e.g. 10000,200000",
    )
    parser.add_argument("--database-url")
    args = parser.parse_args()
    with database(args.database_url) as url:
        run(url, args.reminders, args.rounds, [int(s) for s in args.memory.split(",") if s])


def run(url: str, n: int, rounds: int, memory_sizes: list[int]) -> None:
    app = create_app({"DATABASE_URL": url})
    load_all()
    engine = engine_of(app)
    if engine.dialect.name != "postgresql":
        raise SystemExit("bench/dispatch.py measures PostgreSQL (the floor uses SKIP LOCKED)")
    Base.metadata.create_all(engine)
    code = family_step_code(app)
    today = clock.today(None, app.config["DEFAULT_TIMEZONE"])
    ctx = jobs._context(app)
    print(
        f"database: postgresql; {n} due reminders, {LATE.total_seconds() / 3600:.0f} h late "
        f"(step {code!r} and folic acid); dispatcher batch {ctx.batch_size}, "
        f"floor batch {FLOOR_BATCH}"
    )
    seed(engine, reminders=n, code=code, today=today)
    snapshot(engine)
    print(f"{'round':<7}{'floor/s':>10}{'dispatcher/s':>14}{'ratio':>8}{'SQL/reminder':>14}")
    for r in range(1, rounds + 1):
        restore(engine)
        moved, floor_seconds = run_floor(engine)
        restore(engine)
        seconds, statements, _ = run_dispatcher(app, engine)
        delivered, cancelled = verify(engine, reminders=n)
        floor_rate, rate = moved / floor_seconds, n / seconds
        print(
            f"{r:<7}{floor_rate:>10,.0f}{rate:>14,.0f}{rate / floor_rate:>8.3f}"
            f"{statements / n:>14.3f}"
        )
    if rounds:
        print(f"each round: {delivered} delivered exactly once, {cancelled} cancelled (not needed)")
    peaks: list[tuple[int, int]] = []
    if memory_sizes:  # a warm-up, so that one-time caches do not count for the first size
        seed(engine, reminders=2000, code=code, today=today)
        run_dispatcher(app, engine)
    for size in memory_sizes:
        seed(engine, reminders=size, code=code, today=today)
        seconds, _, peak = run_dispatcher(app, engine, trace=True)
        verify(engine, reminders=size)
        peaks.append((size, peak))
        print(
            f"memory: {size} reminders, peak traced {peak / 2**20:.1f} MiB "
            f"({size / seconds:,.0f}/s under tracemalloc)"
        )
    if len(peaks) > 1:
        print(f"memory ratio {peaks[-1][0]} vs {peaks[0][0]}: {peaks[-1][1] / peaks[0][1]:.2f}x")


if __name__ == "__main__":
    main()
