"""Many clients at once against a running server (`make run`, `make serve`): mixed reads and
writes for a fixed time, then the count of answers per status. The target is 0 answers >= 500.

    make run PORT=8200 &          # SQLite, the dispatcher beside it, the demo seeded
    .venv/bin/python bench/load.py --base http://127.0.0.1:8200 --clients 16 --seconds 60

Each client mixes: a doctor reading a registered woman's handbook (audited: a write), a
citizen changing her profile, a sign-up, her schedule, a home measurement. The demo doctor
(13800000002) and citizen (13800000004) must exist; the sign-ups register at the doctor's
institution so that the doctor reads someone new as well.
"""

from __future__ import annotations

import argparse
import itertools
import json
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

DEMO_PASSWORD = "demo-pass-2026"
PASSWORD = "Str0ng-passw0rd!"


def call(base: str, method: str, path: str, body: Any = None, token: str | None = None):
    """(status, parsed JSON or None); connection failures count as status 0."""
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(f"{base}/api/v1/{path}", data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            raw = resp.read()
            return resp.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as err:
        raw = err.read()
        try:
            return err.code, json.loads(raw)
        except ValueError:
            return err.code, None
    except OSError:
        return 0, None


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", default="http://127.0.0.1:8000")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=60)
    args = parser.parse_args()
    base = args.base

    _, doc = call(base, "POST", "auth/token", {"phone": "13800000002", "password": DEMO_PASSWORD})
    doctor = doc["access_token"]
    patients = call(base, "GET", "patients?page_size=100", token=doctor)[1]["items"]
    # The doctor's institution: the demo citizen (her patient) is registered there; the seed
    # also holds other institutions (the bureau's demo statistics).
    _, mother = call(
        base, "POST", "auth/token", {"phone": "13800000004", "password": DEMO_PASSWORD}
    )
    registrations = call(base, "GET", "me/registrations", token=mother["access_token"])[1]
    institution = next(r["institution"]["id"] for r in registrations if r["active"])
    stamp = int(time.time()) % 100_000
    phones = (f"135{stamp:05d}{n:03d}" for n in itertools.count())
    lock = threading.Lock()

    def new_phone() -> str:
        with lock:
            return next(phones)

    def citizen() -> tuple[str, str]:
        phone = new_phone()
        steps = [call(base, "POST", "auth/register", {"phone": phone, "password": PASSWORD})]
        steps.append(call(base, "POST", "auth/token", {"phone": phone, "password": PASSWORD}))
        if steps[-1][0] != 200:
            raise SystemExit(f"set-up failed: {[s for s, _ in steps]} {steps[-1][1]}")
        token = steps[-1][1]["access_token"]
        call(base, "POST", "me/registrations", {"institution_id": institution}, token=token)
        me = call(base, "GET", "me", token=token)[1]
        return token, me["id"]

    statuses: Counter[int] = Counter()
    by_kind: dict[str, Counter[int]] = {}
    deadline = time.monotonic() + args.seconds

    def client(n: int) -> None:
        token, user_id = citizen()
        ids = [p["id"] for p in patients] + [user_id]
        for i in itertools.count():
            if time.monotonic() > deadline:
                return
            kind = ("read_handbook", "patch_me", "sign_up", "schedule", "measurement")[(n + i) % 5]
            if kind == "read_handbook":
                status, _ = call(base, "GET", f"patients/{ids[i % len(ids)]}", token=doctor)
            elif kind == "patch_me":
                status, _ = call(base, "PATCH", "me", {"name": f"名{n}-{i}"}, token=token)
            elif kind == "sign_up":
                body = {"phone": new_phone(), "password": PASSWORD}
                status, _ = call(base, "POST", "auth/register", body)
            elif kind == "schedule":
                status, _ = call(base, "GET", "me/schedule", token=token)
            else:
                body = {
                    "kind": "weight",
                    "values": {"weight_kg": 60 + i % 5},
                    "measured_at": time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime()),
                }
                status, _ = call(base, "POST", "me/measurements", body, token=token)
            with lock:
                statuses[status] += 1
                by_kind.setdefault(kind, Counter())[status] += 1

    started = time.monotonic()
    with ThreadPoolExecutor(args.clients) as pool:
        list(pool.map(client, range(args.clients)))
    elapsed = time.monotonic() - started
    total = sum(statuses.values())
    errors = sum(c for s, c in statuses.items() if s >= 500 or s == 0)
    print(f"{args.clients} clients, {elapsed:.0f} s, {total} requests ({total / elapsed:.0f}/s)")
    for kind, counter in sorted(by_kind.items()):
        print(f"  {kind:14} {dict(sorted(counter.items()))}")
    print(f"answers >= 500 or no answer: {errors}")
    raise SystemExit(1 if errors else 0)


if __name__ == "__main__":
    main()
