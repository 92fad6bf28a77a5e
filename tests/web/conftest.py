"""Browser tests: the real app on a real HTTP server (a fresh database of each kind, migrated
and seeded with the demo), the built clients (web/dist) driven by Debian's Chromium through
Playwright's library. Nothing downloads a browser; under CI=true a missing Chromium or an
unbuilt web/ fails the run instead of skipping it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import new_database

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
DIST = Path(os.environ.get("WEB_DIST_DIR", ROOT / "web" / "dist"))
SHOTS = ROOT / "docs" / "screenshots"
# Free ports are looked for from here (override where the range is taken).
PORT_BASE = int(os.environ.get("BROWSER_TEST_PORT_BASE", "8500"))


def _missing(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true: {reason}", pytrace=False)
    pytest.skip(reason)


def _free_port() -> int:
    for port in range(PORT_BASE, PORT_BASE + 100):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {PORT_BASE}-{PORT_BASE + 99}")


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        _missing(f"{CHROMIUM} is missing: apt-get install chromium chromium-driver")
    if not (DIST / "m" / "index.html").is_file():
        _missing("web/dist is not built: make web")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def server(
    browser: Any, database_kind: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """`flask run` on a fresh, migrated database with the demo; yields its base URL."""
    with new_database(database_kind, tmp_path_factory.mktemp("web-db")) as url:
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "WEB_DIST_DIR": str(DIST),
            "PASSWORD_HASH_TIME_COST": "1",
            "PASSWORD_HASH_MEMORY_KIB": "1024",
            "PASSWORD_HASH_PARALLELISM": "1",
            "LOGIN_MAX_FAILURES_PER_ADDRESS": "1000",
        }
        flask = [sys.executable, "-m", "flask", "--app", "backend"]
        for command in (["db", "upgrade"], ["seed-demo"]):
            subprocess.run([*flask, *command], env=env, cwd=ROOT, check=True, capture_output=True)
        port = _free_port()
        log = tmp_path_factory.mktemp("web-log") / "server.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [*flask, "run", "--port", str(port), "--no-reload"],
                env=env,
                cwd=ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        base = f"http://127.0.0.1:{port}"
        try:
            _wait_for(f"{base}/healthz", proc, log)
            yield base
        finally:
            proc.terminate()
            proc.wait(timeout=10)
            errors = [line for line in log.read_text().splitlines() if '" 500 ' in line]
            assert not errors, errors  # a screen must never meet a server error


def _wait_for(url: str, proc: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 120  # a loaded machine imports the app slowly
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server stopped:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"the server did not answer at {url}")


def _page(browser: Any, server: str, width: int, height: int) -> Iterator[Any]:
    """A page of this size in Chinese, in a context of its own (closed afterwards)."""
    context = browser.new_context(
        viewport={"width": width, "height": height},
        locale="zh-CN",
        base_url=server,
        accept_downloads=True,
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


@pytest.fixture
def phone_page(browser: Any, server: str) -> Iterator[Any]:
    """A phone-sized page (375×667) in Chinese."""
    yield from _page(browser, server, 375, 667)


@pytest.fixture
def desk_page(browser: Any, server: str) -> Iterator[Any]:
    """A desktop page (1366×800) in Chinese, for the staff console."""
    yield from _page(browser, server, 1366, 800)


@pytest.fixture
def shot(database_kind: str, tmp_path: Path):
    """Screenshot a page: into docs/screenshots with UPDATE_SCREENSHOTS=1 (SQLite run only),
    else into the test's temporary folder."""
    update = os.environ.get("UPDATE_SCREENSHOTS") == "1" and database_kind == "sqlite"
    folder = SHOTS if update else tmp_path

    def take(page: Any, name: str, full_page: bool = False) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        page.wait_for_timeout(300)  # let transitions settle
        page.screenshot(path=str(folder / f"{name}.png"), full_page=full_page)

    return take
