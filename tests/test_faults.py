"""Faults: the database goes away under a running server and comes back.

The shared PostgreSQL is never stopped: a small TCP proxy between the server process and
PostgreSQL is cut (every connection dropped, new ones closed at once) and restored. While cut,
requests answer 503 problem+json with Retry-After; after, the same process answers again.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time

import pytest
import sqlalchemy as sa

from backend.db import Base, make_engine
from backend.model_registry import load_all
from tests.conftest import new_database
from tests.live import call, serve, sign_up

PROBLEM = "application/problem+json"


class TcpProxy:
    """Forwards 127.0.0.1:<port> to a target; `cut()` drops everything until `restore()`."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.open = True
        self.sockets: set[socket.socket] = set()
        self.lock = threading.Lock()
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if not self.open or self.closed:
                client.close()
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            with self.lock:
                self.sockets |= {client, upstream}
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := src.recv(65536):
                dst.sendall(data)
        for s in (src, dst):
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()
        with self.lock:
            self.sockets -= {src, dst}

    def cut(self) -> None:
        self.open = False
        with self.lock:
            for s in self.sockets:
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
            self.sockets.clear()

    def restore(self) -> None:
        self.open = True

    def close(self) -> None:
        self.closed = True
        self.cut()
        self.listener.close()
        time.sleep(0.2)  # let the pumps see their sockets end and close them


@pytest.fixture
def proxied_database(database_kind, tmp_path):
    if database_kind != "postgresql":
        pytest.skip("an outage of a database server (SQLite is a file inside the process)")
    with new_database(database_kind, tmp_path) as url:
        engine = make_engine(url)
        load_all()
        Base.metadata.create_all(engine)
        engine.dispose()
        real = sa.engine.make_url(url)
        proxy = TcpProxy((real.host or "127.0.0.1", real.port or 5432))
        try:
            yield (
                real.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False),
                proxy,
            )
        finally:
            proxy.close()


def test_database_outage_answers_503_then_recovers_without_restart(proxied_database):
    url, proxy = proxied_database
    with serve(url) as base:
        token = sign_up(base, "13600000001")
        assert call(base, "GET", "/api/v1/me", token=token).status == 200

        proxy.cut()
        for path in ("/api/v1/me", "/readyz"):
            r = call(base, "GET", path, token=token)
            assert r.status == 503, (path, r.status, r.body[:300])
            assert r.content_type.startswith(PROBLEM)
            assert int(r.headers["Retry-After"]) >= 1
        r = call(base, "PATCH", "/api/v1/me", {"name": "断线"}, token=token)
        assert r.status == 503 and r.content_type.startswith(PROBLEM)

        proxy.restore()
        deadline = time.monotonic() + 20
        while (r := call(base, "GET", "/api/v1/me", token=token)).status != 200:
            assert r.status == 503 and time.monotonic() < deadline, (r.status, r.body[:300])
            time.sleep(0.5)
        r = call(base, "PATCH", "/api/v1/me", {"name": "恢复"}, token=token)
        assert r.status == 200 and r.json["name"] == "恢复"
        assert call(base, "GET", "/readyz").status == 200


def test_a_pooled_connection_dropped_while_idle_is_replaced_without_an_error(proxied_database):
    # No pool pre-ping (a round trip on every request): the first statement of a request that
    # finds its connection dead is retried once on a new one (backend/auth).
    url, proxy = proxied_database
    with serve(url) as base:
        token = sign_up(base, "13600000002")
        assert call(base, "GET", "/api/v1/me", token=token).status == 200
        proxy.cut()
        proxy.restore()
        for _ in range(3):
            r = call(base, "GET", "/api/v1/me", token=token)
            assert r.status == 200, (r.status, r.body[:300])
