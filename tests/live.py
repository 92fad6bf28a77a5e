"""A real server process for black-box tests: its own database, its own port, plain HTTP."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "Str0ng-passw0rd!"

# Cheap argon2id and no address throttling: the tests sign many people up from one address.
TEST_ENV = {
    "ENVIRONMENT": "development",
    "SECRET_KEY": "live-test-secret",
    "PASSWORD_HASH_TIME_COST": "1",
    "PASSWORD_HASH_MEMORY_KIB": "1024",
    "PASSWORD_HASH_PARALLELISM": "1",
    "LOGIN_MAX_FAILURES_PER_ADDRESS": "100000",
}


def free_port() -> int:
    """A free TCP port on the loopback (the kernel picks it)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Reply:
    status: int
    headers: Mapping[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body) if self.body else None

    @property
    def content_type(self) -> str:
        return self.headers.get("Content-Type", "")


def call(
    base: str,
    method: str,
    path: str,
    body: Any = None,
    *,
    token: str | None = None,
    headers: Mapping[str, str] | None = None,
    raw: bytes | None = None,
    timeout: float = 60,
) -> Reply:
    """One HTTP request; any status is returned, never raised."""
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    req = urllib.request.Request(f"{base}{path}", data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return Reply(resp.status, dict(resp.headers), resp.read())
    except urllib.error.HTTPError as err:
        return Reply(err.code, dict(err.headers), err.read())


@contextlib.contextmanager
def serve(
    database_url: str,
    *,
    env: Mapping[str, str] | None = None,
    gunicorn: bool = False,
    dispatcher: bool = False,
) -> Iterator[str]:
    """Run the app in its own process (flask's threaded server, as `make run`, or gunicorn),
    with the reminder dispatcher beside it when asked (both share the database)."""
    port = free_port()
    environ = dict(os.environ, DATABASE_URL=database_url, **TEST_ENV, **(env or {}))
    if gunicorn:
        cmd = [
            sys.executable,
            "-m",
            "gunicorn",
            "--workers",
            "2",
            "--threads",
            "4",
            "--bind",
            f"127.0.0.1:{port}",
            "backend.wsgi:app",
        ]
    else:
        cmd = [
            sys.executable,
            "-m",
            "flask",
            "--app",
            "backend",
            "run",
            "--port",
            str(port),
            "--with-threads",
        ]
    log = Path(tempfile.mkstemp(prefix="live-server-", suffix=".log")[1])
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=environ, stdout=out, stderr=subprocess.STDOUT)
        helper = None
        if dispatcher:
            helper = subprocess.Popen(
                [sys.executable, "-m", "flask", "--app", "backend", "dispatcher"],
                cwd=ROOT,
                env={**environ, "DISPATCHER_INTERVAL_SECONDS": "0.5"},
                stdout=out,
                stderr=subprocess.STDOUT,
            )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if call(base, "GET", "/healthz", timeout=2).status == 200:
                    break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"server did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.2)
        yield base
    finally:
        for running in (proc, helper):
            if running is None:
                continue
            running.terminate()
            try:
                running.wait(timeout=20)
            except subprocess.TimeoutExpired:
                running.kill()
                running.wait()
        text = log.read_text(errors="replace")
        log.unlink(missing_ok=True)
        if "Traceback" in text:
            print(text[-5000:])  # shown by pytest when the test fails


def sign_up(base: str, phone: str, name: str = "测试") -> str:
    """Register and log in a citizen; returns her token."""
    r = call(base, "POST", "/api/v1/auth/register", {"phone": phone, "password": PASSWORD})
    assert r.status == 201, (r.status, r.body)
    return log_in(base, phone)


def log_in(base: str, phone: str, password: str = PASSWORD) -> str:
    """Log in; returns the token."""
    r = call(base, "POST", "/api/v1/auth/token", {"phone": phone, "password": password})
    assert r.status == 200, (r.status, r.body)
    return str(r.json["access_token"])
