"""Mini-program log-in against a local HTTP server standing in for code2session."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import pytest

from tests.conftest import Api


class FakeCode2Session(BaseHTTPRequestHandler):
    answers: dict[str, dict] = {}
    seen: list[dict] = []

    def do_GET(self):
        query = {k: v[0] for k, v in parse_qs(urlparse(self.path).query).items()}
        self.seen.append(query)
        if query.get("js_code") == "boom":
            self.send_response(500)
            self.end_headers()
            return
        body = self.answers.get(query.get("js_code"), {"errcode": 40029, "errmsg": "invalid code"})
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def code2session(app):
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeCode2Session)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    saved = dict(app.config)
    app.config.update(
        MINIPROGRAM_CODE2SESSION_URL=f"http://127.0.0.1:{server.server_port}/sns/jscode2session",
        MINIPROGRAM_APPID="wx-test-app",
        MINIPROGRAM_SECRET="s3cret",
    )
    FakeCode2Session.answers = {}
    FakeCode2Session.seen = []
    yield FakeCode2Session
    app.config.update(saved)
    server.shutdown()
    server.server_close()


def test_new_code_creates_a_citizen_and_the_same_openid_logs_back_in(anon: Api, code2session):
    code2session.answers = {
        "c1": {"openid": "o-abc", "session_key": "k"},
        "c2": {"openid": "o-abc", "session_key": "k2"},
    }
    first = anon.post("auth/miniprogram", {"code": "c1"})
    assert first.status_code == 200 and first.json["created"] is True
    again = anon.post("auth/miniprogram", {"code": "c2"})
    assert again.status_code == 200 and again.json["created"] is False
    assert again.json["user_id"] == first.json["user_id"]
    assert code2session.seen[0] == {
        "appid": "wx-test-app",
        "secret": "s3cret",
        "js_code": "c1",
        "grant_type": "authorization_code",
    }
    me = Api(anon.client, token=first.json["access_token"]).get("me")
    assert me.status_code == 200


def test_logged_in_citizen_links_her_openid(make_citizen, code2session):
    api, user_id, _ = make_citizen()
    code2session.answers = {"c3": {"openid": "o-link"}}
    r = api.post("auth/miniprogram", {"code": "c3"})
    assert r.status_code == 200 and r.json["user_id"] == user_id and r.json["created"] is False


def test_refused_code_names_the_field(anon: Api, code2session):
    r = anon.post("auth/miniprogram", {"code": "wrong"})
    assert r.status_code == 422 and "code" in r.json["errors"]


def test_failing_upstream_is_502(anon: Api, code2session):
    r = anon.post("auth/miniprogram", {"code": "boom"})
    assert r.status_code == 502 and r.content_type == "application/problem+json"
