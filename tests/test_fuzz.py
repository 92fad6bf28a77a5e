"""Schemathesis against the live app as citizen, doctor, educator and admin, all checks on:
no server error, no response that breaks the documented schema (tests/fuzz/schemathesis.toml
says what else a valid request may answer). Bounded: a few examples per operation and role.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from backend import demo
from backend.db import Base, make_engine
from backend.model_registry import load_all
from tests.conftest import new_database
from tests.live import ROOT, TEST_ENV, log_in, serve

CONFIG = Path(__file__).parent / "fuzz" / "schemathesis.toml"
DEMO = {
    "citizen": "13800000004",
    "doctor": "13800000002",
    "educator": "13800000003",
    "admin": "13800000001",
}
# Calls that end the fuzzing identity's session or account: the rest would all answer 401.
SPARED = ("DELETE /api/v1/auth/token", "DELETE /api/v1/me")
MAX_EXAMPLES = os.environ.get("FUZZ_MAX_EXAMPLES", "3")


class _Code2Session(BaseHTTPRequestHandler):
    """The mini-program code exchange at the system edge: every fuzzed code is refused."""

    def do_GET(self) -> None:
        body = json.dumps({"errcode": 40029, "errmsg": "invalid code"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture(scope="module")
def fuzz_target(database_kind, tmp_path_factory):
    """A server on a seeded demo database, and the mini-program edge stubbed locally."""
    edge = ThreadingHTTPServer(("127.0.0.1", 0), _Code2Session)
    threading.Thread(target=edge.serve_forever, daemon=True).start()
    env = {"MINIPROGRAM_CODE2SESSION_URL": f"http://127.0.0.1:{edge.server_port}/"}
    try:
        with new_database(database_kind, tmp_path_factory.mktemp("fuzz")) as url:
            engine = make_engine(url)
            load_all()
            Base.metadata.create_all(engine)
            engine.dispose()
            seeded = subprocess.run(
                [sys.executable, "-m", "flask", "--app", "backend", "seed-demo"],
                cwd=ROOT,
                env=dict(os.environ, DATABASE_URL=url, **TEST_ENV, **env),
                capture_output=True,
                text=True,
                timeout=300,
            )
            assert seeded.returncode == 0, seeded.stderr[-2000:]
            with serve(url, env=env) as base:
                yield base
    finally:
        edge.shutdown()
        edge.server_close()


def _schemathesis() -> list[str]:
    found = shutil.which("schemathesis", path=str(Path(sys.executable).parent))
    if found is None:
        pytest.fail("schemathesis is not installed: `make install` installs the dev extras")
    return [found]


@pytest.mark.parametrize("role", list(DEMO))
def test_fuzzing_as_each_role_finds_no_failure(fuzz_target, role, tmp_path):
    base = fuzz_target
    token = log_in(base, DEMO[role], demo.PASSWORD)
    cmd = [
        *_schemathesis(),
        "--config-file",
        str(CONFIG),
        "run",
        f"{base}/api/openapi.json",
        "--url",
        base,
        "-H",
        f"Authorization: Bearer {token}",
        "--checks",
        "all",
        "--max-examples",
        MAX_EXAMPLES,
        "--phases",
        os.environ.get("FUZZ_PHASES", "examples,fuzzing"),
        "--workers",
        "2",
        "--seed",
        "20261202",
        "--no-color",
        "--report-dir",
        str(tmp_path),
    ]
    for name in SPARED:
        cmd += ["--exclude-name", name]
    run = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout[-12000:] + run.stderr[-2000:]
