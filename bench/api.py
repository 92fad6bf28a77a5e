"""Hot read endpoints vs. a bare route on the same gunicorn server, in the same run.

    .venv/bin/python bench/api.py [--seconds 5] [--rounds 3] [--connections 16] [--workers 2]
                                  [--threads 1] [--port 8300] [--database-url URL]

Creates a throw-away PostgreSQL database (SQLite when none answers), seeds the demo family
(`flask seed-demo`: a two-year-old, a pregnancy at 20 weeks, the lessons of content/lessons) and
40 inbox messages, gathers the planner's statistics (`ANALYZE`, as autovacuum does on a live
database), and serves bench/bench_app.py (the real app plus `/bench/bare`, which returns {"ok":
true}) with gunicorn: `--workers` sync workers, or with `--threads` above 1 threaded workers as
`make serve` runs them (4 threads). Two more processes drive the load over `--connections`
connections for `--seconds` per route, the bare route again before each, in `--rounds` rounds.
It prints, for the median round, requests/s and the ratio to the bare route (target >= 0.3x for
GET /me and /me/schedule) with the range over the rounds, p50/p99 latency, the body size, and the
SQL statements per request (counted in-process, constant in her history size: see
tests/test_hot_endpoints.py). A poll that sends back the ETag (answered 304) and a gzip
request are measured too. Beside requests/s, the server side's own CPU per request (gunicorn's
workers and the PostgreSQL backends serving them, from /proc) and its ratio to the bare route's:
requests/s also pays for the load processes, which share the cores.
"""

from __future__ import annotations

import argparse
import http.client
import multiprocessing
import os
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import event

from backend import create_app
from backend.db import Base, Session, engine_of
from backend.model_registry import load_all

ROOT = Path(__file__).resolve().parents[1]
PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
FAST_HASH = {
    "PASSWORD_HASH_TIME_COST": "1",
    "PASSWORD_HASH_MEMORY_KIB": "1024",
    "PASSWORD_HASH_PARALLELISM": "1",
}


@contextmanager
def database(url: str | None) -> Iterator[str]:
    if url:
        yield url
        return
    try:
        admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        name = f"mch_bench_{uuid.uuid4().hex[:8]}"
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except Exception:
        import tempfile

        yield f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench.sqlite3'}"
        return
    try:
        yield sa.engine.make_url(PG_ADMIN).set(database=name).render_as_string(False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def seed(app) -> str:  # type: ignore[no-untyped-def]
    """The demo family and 40 inbox messages; returns a bearer token of the demo citizen."""
    from backend import demo
    from backend.auth import service as auth_service
    from backend.reminders.models import Notification

    with app.app_context():
        session = Session()
        users = demo.seed(session, app.config)
        citizen = users["citizen"]
        session.add_all(
            Notification(
                user_id=citizen.id,
                kind="regimen_daily",
                title="叶酸",
                body=f"今天的叶酸 {i}",
                locale="zh_CN",
            )
            for i in range(40)
        )
        token = auth_service.issue_token(session, user=citizen, ttl_seconds=3600).token
        session.commit()
        return token


def _drive(port: int, path: str, headers: dict[str, str], seconds: float, threads: int, out):  # type: ignore[no-untyped-def]
    """One load process: `threads` clients, each request on a fresh connection (gunicorn's
    sync workers close it), for `seconds`; puts the latencies and the last body size."""
    stop = time.perf_counter() + seconds
    latencies: list[float] = []
    sizes = [0]
    lock = threading.Lock()

    def client() -> None:
        mine = []
        while time.perf_counter() < stop:
            started = time.perf_counter()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            body = response.read()
            conn.close()
            if response.status not in (200, 304):
                raise SystemExit(f"{path}: HTTP {response.status}")
            mine.append(time.perf_counter() - started)
            sizes[0] = len(body)
        with lock:
            latencies.extend(mine)

    pool = [threading.Thread(target=client) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    out.put((latencies, sizes[0]))


def load(
    port: int, path: str, headers: dict[str, str], seconds: float, connections: int
) -> tuple[float, float, float, int]:
    """requests/s, p50 and p99 in ms, and the body size, from two load processes."""
    queue: multiprocessing.Queue = multiprocessing.Queue()
    procs = [
        multiprocessing.Process(
            target=_drive, args=(port, path, headers, seconds, connections // 2, queue)
        )
        for _ in range(2)
    ]
    for p in procs:
        p.start()
    results = [queue.get() for _ in procs]
    for p in procs:
        p.join()
    latencies = sorted(x for r, _ in results for x in r)
    p99 = latencies[int(len(latencies) * 0.99) - 1]
    return len(latencies) / seconds, statistics.median(latencies) * 1e3, p99 * 1e3, results[0][1]


def _cpu_seconds(pid: int) -> float:
    """User + system CPU a process has used so far (0 when it has gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime


class ServerCpu:
    """The CPU the server side spends: gunicorn's workers and the database's backends serving
    them (PostgreSQL runs on this machine); the load processes' CPU is left out. It still moves
    with what shares the cores (caches, frequency), less than requests/s does."""

    def __init__(self, master: int, engine: sa.Engine) -> None:
        self.master, self.engine = master, engine

    def pids(self) -> list[int]:
        children = Path(f"/proc/{self.master}/task/{self.master}/children")
        workers = [int(p) for p in children.read_text().split()] if children.exists() else []
        if self.engine.dialect.name != "postgresql":
            return workers
        with self.engine.connect() as conn:
            backends = conn.execute(
                sa.text(
                    "SELECT pid FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            ).scalars()
            return workers + list(backends)

    def snapshot(self) -> dict[int, float]:
        return {pid: _cpu_seconds(pid) for pid in self.pids()}

    def since(self, before: dict[int, float]) -> float:
        """CPU seconds used since `before` (a backend started since counts from zero)."""
        return sum(used - before.get(pid, 0.0) for pid, used in self.snapshot().items())


@contextmanager
def gunicorn(url: str, port: int, workers: int, threads: int) -> Iterator[int]:
    env = dict(os.environ) | FAST_HASH | {"DATABASE_URL": url}
    proc = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("gunicorn")),
            "--workers",
            str(workers),
            "--threads",
            str(threads),
            "--bind",
            f"127.0.0.1:{port}",
            "--pythonpath",
            str(ROOT / "bench"),
            "--timeout",  # a loaded machine boots the app slowly (30 s seen at load 17)
            "120",
            "--log-level",
            "warning",
            "bench_app:app",
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        deadline = time.monotonic() + 300
        while True:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                conn.request("GET", "/bench/bare")
                if conn.getresponse().status == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline or proc.poll() is not None:
                raise SystemExit("gunicorn did not start")
            time.sleep(0.3)
        yield proc.pid
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def queries_per_request(app, path: str, headers: dict[str, str]) -> int:  # type: ignore[no-untyped-def]
    statements = [0]

    def count(*_args: object) -> None:
        statements[0] += 1

    client = app.test_client()
    client.get(path, headers=headers)
    event.listen(engine_of(app), "before_cursor_execute", count)
    try:
        client.get(path, headers=headers)
    finally:
        event.remove(engine_of(app), "before_cursor_execute", count)
    return statements[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1, help="per worker (make serve: 4)")
    parser.add_argument("--rounds", type=int, default=3, help="alternations; the median is shown")
    parser.add_argument("--port", type=int, default=8300)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    with database(args.database_url) as url:
        run(url, args)


def run(url: str, args: argparse.Namespace) -> None:
    app = create_app({"DATABASE_URL": url} | {k: int(v) for k, v in FAST_HASH.items()})
    load_all()
    Base.metadata.create_all(engine_of(app))
    token = seed(app)
    with engine_of(app).connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("ANALYZE")  # a fresh database has no statistics yet
    auth = {"Authorization": f"Bearer {token}", "Accept-Language": "zh-CN"}
    routes = [
        ("GET /bench/bare (floor)", "/bench/bare", {}),
        ("GET /me", "/api/v1/me", auth),
        ("GET /me/schedule", "/api/v1/me/schedule", auth),
        ("GET /me/schedule?view=full", "/api/v1/me/schedule?view=full", auth),
        ("GET /me/schedule, gzip", "/api/v1/me/schedule", auth | {"Accept-Encoding": "gzip"}),
        ("GET /me/feed", "/api/v1/me/feed", auth),
        ("GET /me/notifications", "/api/v1/me/notifications", auth),
    ]
    client = app.test_client()
    etag = client.get("/api/v1/me/schedule", headers=auth).headers["ETag"]
    routes.append(
        ("GET /me/schedule, ETag (304)", "/api/v1/me/schedule", auth | {"If-None-Match": etag})
    )
    print(
        f"database: {engine_of(app).dialect.name}; gunicorn {args.workers} workers x "
        f"{args.threads} threads; "
        f"{args.connections} connections from 2 load processes; {args.seconds:g} s per route"
    )
    print(
        f"{'route':<32}{'req/s':>8}{'x bare':>8}{'rounds':>16}{'p50 ms':>8}{'p99 ms':>8}"
        f"{'bytes':>8}{'SQL':>5}{'CPU us':>8}{'x bare':>8}"
    )
    bare_label, bare_path, _ = routes[0]
    floors: list[float] = []
    runs: dict[str, list[tuple[float, float, float, float, int]]] = {r[0]: [] for r in routes[1:]}
    cpu_ratios: dict[str, list[tuple[float, float]]] = {r[0]: [] for r in routes[1:]}
    floor_cpus: list[float] = []
    with gunicorn(url, args.port, args.workers, args.threads) as master:
        server = ServerCpu(master, engine_of(app))

        def measured(path: str, headers: dict[str, str]) -> tuple[float, ...]:
            """load()'s figures and the server's CPU microseconds per request."""
            before = server.snapshot()
            rate, *rest = load(args.port, path, headers, args.seconds, args.connections)
            return (rate, *rest, server.since(before) / (rate * args.seconds) * 1e6)

        # Rounds alternate the routes, the bare route again right before each: on a shared
        # machine the floor swings 2x from one minute to the next, so a ratio compares
        # neighbours, and the median of the rounds is reported with their range.
        for _ in range(args.rounds):
            for label, path, headers in routes[1:]:
                floor, *_, floor_cpu = measured(bare_path, {})
                floors.append(floor)
                floor_cpus.append(floor_cpu)
                rate, p50, p99, size, cpu = measured(path, headers)
                runs[label].append((rate / floor, rate, p50, p99, int(size)))
                cpu_ratios[label].append((floor_cpu / cpu, cpu))
    for label, path, headers in routes[1:]:
        ordered = sorted(runs[label])  # by ratio
        ratio, rate, p50, p99, size = ordered[len(ordered) // 2]
        spread = f"{ordered[0][0]:.2f}-{ordered[-1][0]:.2f}"
        cpu_ratio, cpu = sorted(cpu_ratios[label])[len(ordered) // 2]
        sql = queries_per_request(app, path, headers)
        print(
            f"{label:<32}{rate:>8,.0f}{ratio:>8.2f}{spread:>16}{p50:>8.1f}{p99:>8.1f}"
            f"{size:>8}{sql:>5}{cpu:>8,.0f}{cpu_ratio:>8.2f}"
        )
    print(
        f"{bare_label}: {min(floors):,.0f}-{max(floors):,.0f} req/s, measured before each route "
        f"in each of {args.rounds} rounds ('x bare': the median round's ratio to the bare route "
        "just before it; 'rounds': the range)"
    )
    print(
        f"'CPU us': the server's CPU per request (gunicorn's workers and their database backends;"
        f" the bare route: {min(floor_cpus):,.0f}-{max(floor_cpus):,.0f} us), and after it the "
        "bare route's over the route's in the median round: the server's own cost, without the "
        "load processes that requests/s also pays for"
    )
    engine_of(app).dispose()


if __name__ == "__main__":
    main()
