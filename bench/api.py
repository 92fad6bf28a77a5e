"""Hot read endpoints vs. a bare Flask route on the same app, in the same run.

    .venv/bin/python bench/api.py [--requests 300] [--database-url URL]

Prints, for GET /api/v1/me (a citizen with 3 children and 2 pregnancies) and GET
/api/v1/patients (a doctor with 200 registered patients): the median time per request, the
ratio to a bare route (`/bench/bare`, returns {"ok": true}), and the SQL statements per
request. The floor is measured in the same process, so the ratio is what the code adds.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import tempfile
import time
from pathlib import Path

from sqlalchemy import event

from backend import create_app
from backend.auth import service as auth_service
from backend.auth.models import Registration, Role
from backend.db import Base, Session, engine_of
from backend.handbook import service as handbook_service
from backend.model_registry import load_all

PASSWORD = "bench-pass-2026"


def _login(client, phone: str) -> dict[str, str]:
    r = client.post("/api/v1/auth/token", json={"phone": phone, "password": PASSWORD})
    return {"Authorization": f"Bearer {r.json['access_token']}"}


def _seed(app) -> tuple[str, str]:
    session = Session()
    inst = auth_service.create_institution(
        session,
        data={"name": "bench centre", "kind": "community_health_centre", "district_code": "330302"},
    )
    doctor = auth_service.create_user(
        session,
        role=Role.DOCTOR,
        phone="13700000000",
        password=PASSWORD,
        name="doctor",
        institution_id=inst.id,
    )
    mum = None
    for i in range(200):
        user = auth_service.register_citizen(
            session, phone=f"1360000{i:04d}", password=PASSWORD, name=f"patient {i}"
        )
        session.add(Registration(user_id=user.id, institution_id=inst.id))
        mum = mum or user
    tz = app.config["DEFAULT_TIMEZONE"]
    today = dt.date.today()
    for years in (1, 3, 5):
        handbook_service.create_child(
            session,
            guardian=mum,
            default_tz=tz,
            data={"sex": "female", "birth_date": today - dt.timedelta(days=365 * years)},
        )
    handbook_service.create_pregnancy(
        session, woman=mum, actor=mum, default_tz=tz, data={"lmp": today - dt.timedelta(days=100)}
    )
    session.commit()
    return mum.phone, doctor.phone  # type: ignore[union-attr]


def _measure(
    client, path: str, headers: dict[str, str], n: int, counter: list[int]
) -> tuple[float, float]:
    for _ in range(20):  # warm-up
        client.get(path, headers=headers)
    samples = []
    counter[0] = 0
    for _ in range(n):
        t = time.perf_counter()
        r = client.get(path, headers=headers)
        samples.append(time.perf_counter() - t)
        assert r.status_code == 200, (path, r.status_code)
    return statistics.median(samples), counter[0] / n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    tmp = tempfile.mkdtemp()
    url = args.database_url or f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
    app = create_app(
        {
            "DATABASE_URL": url,
            "PASSWORD_HASH_TIME_COST": 1,
            "PASSWORD_HASH_MEMORY_KIB": 1024,
            "PASSWORD_HASH_PARALLELISM": 1,
        }
    )
    app.add_url_rule("/bench/bare", "bench_bare", lambda: {"ok": True})
    load_all()
    Base.metadata.create_all(engine_of(app))
    statements = [0]
    event.listen(
        engine_of(app),
        "before_cursor_execute",
        lambda *a: statements.__setitem__(0, statements[0] + 1),
    )
    with app.app_context():  # the handbook's signals plan schedules and reminders
        mum_phone, doctor_phone = _seed(app)
    client = app.test_client()
    mum, doctor = _login(client, mum_phone), _login(client, doctor_phone)
    floor, _ = _measure(client, "/bench/bare", {}, args.requests, statements)
    print(f"database: {engine_of(app).dialect.name}; {args.requests} requests each")
    print(f"{'route':<32}{'median ms':>10}{'× bare':>9}{'queries':>9}")
    print(f"{'GET /bench/bare (floor)':<32}{floor * 1e3:>10.2f}{1:>9.1f}{0:>9}")
    for label, path, headers in (
        ("GET /api/v1/me", "/api/v1/me", mum),
        ("GET /api/v1/me/pregnancies", "/api/v1/me/pregnancies", mum),
        ("GET /api/v1/me/schedule", "/api/v1/me/schedule?page_size=50", mum),
        ("GET /api/v1/patients", "/api/v1/patients?page_size=20", doctor),
    ):
        median, queries = _measure(client, path, headers, args.requests, statements)
        print(f"{label:<32}{median * 1e3:>10.2f}{median / floor:>9.1f}{queries:>9.1f}")


if __name__ == "__main__":
    main()
