"""Helpers for the reminder tests: a clock in Shanghai, a local gateway, an in-process dispatch."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from backend.reminders import dispatcher, rules

SECRET = "test-webhook-secret"


@pytest.fixture(autouse=True)
def _noon(at_noon):
    return at_noon


class Gateway(BaseHTTPRequestHandler):
    """A local SMS / mini-program gateway: records requests, answers from a script."""

    received: list[dict] = []
    script: list[int] = []
    delay: float = 0.0
    url: str = ""

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append(
            {"headers": dict(self.headers), "body": body, "json": json.loads(body)}
        )
        if type(self).delay:
            time.sleep(type(self).delay)
        status = type(self).script.pop(0) if type(self).script else 200
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def gateway(app) -> Iterator[type[Gateway]]:
    """A gateway on a free local port, configured as the reminder webhook."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), Gateway)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    Gateway.received, Gateway.script, Gateway.delay = [], [], 0.0
    Gateway.url = f"http://127.0.0.1:{server.server_port}/send"
    saved = dict(app.config)
    app.config.update(
        REMINDER_WEBHOOK_URL=Gateway.url,
        REMINDER_WEBHOOK_SECRET=SECRET,
        REMINDER_WEBHOOK_TIMEOUT_SECONDS=2,
    )
    yield Gateway
    app.config.clear()
    app.config.update(saved)
    server.shutdown()
    server.server_close()


@pytest.fixture
def dispatch(app, db):
    """Run one dispatcher batch in-process at the frozen 'now'; returns the outcomes."""

    def run(worker: str = "test-worker") -> dict[str, int]:
        ctx = dispatcher.Context.from_settings(
            app.config, rules=rules.load(), protocols=app.extensions["care.protocols"]
        )
        with app.app_context():
            return dispatcher.dispatch_once(db, worker=worker, ctx=ctx)

    return run
