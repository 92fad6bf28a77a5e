"""The schedule sync vs. a raw bulk insert of the rows it writes, in the same run.

    .venv/bin/python bench/schedule.py [--enrolments 200] [--rounds 1] [--database-url URL]

Creates N women, each with a pregnancy at a different week (rows inserted directly, so nothing
is planned yet), then:
  1. syncs every pregnancy through care.service.sync_pregnancy (facts → engine → rows), one
     commit at the end, counting the SQL statements of each sync;
  2. deletes those step rows and inserts exactly the same rows again with one Core executemany
     (the floor: what the database needs to store them);
and prints the times, their ratios to the floor (target ≤ 3×) and the queries per sync (target:
constant in N). The sync runs twice: one subject at a time (the API path, one flush each) and in
batches of 200 (`flask care resync`), with the reminder planning that listens to it muted; two
more lines add that planning back (it writes the reminder rows of every step too), one subject at
a time and in batches. Two floors, both one Core executemany per table:
  - "steps only": the step rows of the muted sync (what the first lines write);
  - "the same rows": the step rows AND the reminder rows the planning path wrote (captured from
    it), i.e. what sync + planning writes. The paths with planning are given against both.
With --rounds R every path runs R times, interleaved, and the best time of each is printed.
By default it uses PostgreSQL at 127.0.0.1:5432 when one answers (a throw-away database), else
SQLite.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import delete, event, func, insert, select

from backend import create_app
from backend.auth.models import Role, User
from backend.care import service
from backend.care import signals as care_signals
from backend.care.models import CareStep
from backend.db import Base, Session, engine_of
from backend.handbook.models import Pregnancy
from backend.model_registry import load_all
from backend.reminders.models import Reminder

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
BATCH = 200


def _database(url: str | None) -> tuple[str, callable]:  # type: ignore[valid-type]
    if url:
        return url, lambda: None
    try:
        admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        name = f"mch_bench_{uuid.uuid4().hex[:8]}"
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))

        def drop() -> None:
            with admin.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

        return sa.engine.make_url(PG_ADMIN).set(database=name).render_as_string(False), drop
    except Exception:
        path = Path(tempfile.mkdtemp()) / "bench.sqlite3"
        return f"sqlite:///{path}", lambda: None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--enrolments", type=int, default=200)
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="run every path this many times, interleaved, and keep each path's best time "
        "(on a loaded machine the best is the least disturbed)",
    )
    parser.add_argument("--database-url")
    args = parser.parse_args()
    url, drop = _database(args.database_url)
    try:
        run(url, args.enrolments, args.rounds)
    finally:
        drop()


def run(url: str, n: int, rounds: int = 1) -> None:
    app = create_app({"DATABASE_URL": url})
    load_all()
    engine = engine_of(app)
    Base.metadata.create_all(engine)
    protocols = app.extensions["care.protocols"]
    tz = app.config["DEFAULT_TIMEZONE"]
    today = dt.date.today()
    with app.app_context():
        session = Session()
        for i in range(n):
            woman = User(role=Role.CITIZEN, phone=f"135{i:08d}", name=f"bench {i}")
            session.add(woman)
            lmp = today - dt.timedelta(days=7 * (4 + i % 36))
            session.add(
                Pregnancy(
                    woman=woman,
                    lmp=lmp,
                    edd=lmp + dt.timedelta(days=280),
                    edd_source="lmp",
                    status="ongoing",
                )
            )
        session.commit()
        pregnancies = list(session.scalars(select(Pregnancy)))

        current = [0]
        event.listen(
            engine, "before_cursor_execute", lambda *a: current.__setitem__(0, current[0] + 1)
        )

        def one_at_a_time() -> list[int]:
            """The API path: one subject at a time, as when a fact changes; one commit."""
            counts: list[int] = []
            for pregnancy in pregnancies:
                current[0] = 0
                service.sync_pregnancy(
                    session, pregnancy=pregnancy, protocols=protocols, default_tz=tz
                )
                counts.append(current[0])
            session.commit()
            return counts

        def batches() -> int:
            """As `flask care resync` does: batches of BATCH, one commit each."""
            current[0] = 0
            for i in range(0, len(pregnancies), BATCH):
                subjects = [service.pregnancy_subject(p) for p in pregnancies[i : i + BATCH]]
                service.sync_many(session, subjects=subjects, protocols=protocols, default_tz=tz)
                session.commit()
            return current[0]

        best: dict[str, float] = {}

        def timed(name: str, work: Callable[[], Any]) -> Any:
            _clear(session)
            started = time.perf_counter()
            out = work()
            seconds = time.perf_counter() - started
            best[name] = min(best.get(name, seconds), seconds)
            return out

        for round_ in range(rounds):
            # The schedule sync alone: reminder planning (which listens to it) is muted.
            with care_signals.schedule_changed.muted():
                counts = timed("single", one_at_a_time)
                batch_queries = timed("batch", batches)
                if round_ == 0:
                    step_only_rows = _rows(session, CareStep)
                # the floor: the same step rows in one executemany
                timed("floor", partial(_insert, session, (CareStep, step_only_rows)))
            # With the reminders planned from each new schedule.
            planned_counts = timed("single+planning", one_at_a_time)
            if round_ == 0:
                reminders = session.scalar(select(func.count()).select_from(Reminder))
                step_rows = _rows(session, CareStep)
                reminder_rows = _rows(session, Reminder)
            batch_planned_queries = timed("batch+planning", batches)
            # the floor of the same rows: the steps and reminders the planning path wrote
            timed(
                "same rows",
                partial(_insert, session, (CareStep, step_rows), (Reminder, reminder_rows)),
            )

    raw_seconds, same_rows_seconds = best["floor"], best["same rows"]
    print(
        f"database: {engine.dialect.name}; {n} enrolments, {len(step_only_rows)} step rows, "
        f"{reminders} reminder rows" + (f"; best of {rounds} rounds" if rounds > 1 else "")
    )
    print(f"{'path':<40}{'ms':>9}{'x floor':>9}{'x same rows':>13}")

    def line(label: str, name: str, same: bool = False) -> None:
        seconds = best[name]
        against_same = f"{seconds / same_rows_seconds:>13.2f}" if same else ""
        print(f"{label:<40}{seconds * 1e3:>9.1f}{seconds / raw_seconds:>9.2f}{against_same}")

    line("floor: steps only (executemany)", "floor")
    line("floor: the same rows (steps+reminders)", "same rows", same=True)
    line(f"sync, batches of {BATCH} (resync)", "batch")
    line("sync, one subject at a time (API)", "single")
    line(f"sync + planning, batches of {BATCH}", "batch+planning", same=True)
    line("sync + reminder planning (API)", "single+planning", same=True)
    print(
        "x floor: against the steps-only floor; x same rows: against the floor of the steps "
        "and reminders that sync + planning writes"
    )
    print(
        f"queries per single sync: min {min(counts)}, median {statistics.median(counts)}, "
        f"max {max(counts)} (constant in N); batched: {batch_queries} for {n} subjects"
    )
    print(
        f"with planning: min {min(planned_counts)}, median {statistics.median(planned_counts)}, "
        f"max {max(planned_counts)}; batched: {batch_planned_queries} for {n} subjects"
    )


def _rows(session: Any, model: Any) -> list[dict[str, Any]]:
    """Every row of a table as plain values, for the floor's executemany."""
    columns = [c.key for c in model.__table__.columns]
    return [{k: getattr(row, k) for k in columns} for row in session.scalars(select(model))]


def _insert(session: Any, *tables: tuple[Any, list[dict[str, Any]]]) -> None:
    """The floor: each table's rows in one Core executemany, one commit."""
    for model, rows in tables:
        session.execute(insert(model), rows)
    session.commit()


def _clear(session: Any) -> None:
    session.execute(delete(Reminder))
    session.execute(delete(CareStep))
    session.commit()


if __name__ == "__main__":
    main()
