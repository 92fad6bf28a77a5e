"""The factory: settings overlay, every domain registered, probes, body limits."""

import re

from flask import request

from backend import create_app
from backend.domains import DOMAINS

# The hasher is process-wide: an app built here must not make the rest of the suite slow.
CHEAP_HASH = {
    "PASSWORD_HASH_TIME_COST": 1,
    "PASSWORD_HASH_MEMORY_KIB": 1024,
    "PASSWORD_HASH_PARALLELISM": 1,
}


def test_config_overlay_wins():
    app = create_app({"DATABASE_URL": "sqlite://", "DEFAULT_LOCALE": "en"})
    assert app.config["DEFAULT_LOCALE"] == "en"


def test_every_domain_registers_its_blueprint(app):
    names = set(app.blueprints)
    for domain in DOMAINS:
        short = domain.__name__.rsplit(".", 1)[-1]
        assert any(short in n or n in short for n in names), short


def test_health_and_ready(client):
    assert client.get("/healthz").json["status"] == "ok"
    assert client.get("/readyz").json["checks"]["database"] == "ok"


def test_oversized_body_is_413(client):
    r = client.post(
        "/api/v1/auth/register", data="x" * (300 * 1024), content_type="application/json"
    )
    assert r.status_code == 413
    assert r.content_type == "application/problem+json"


def test_malformed_json_is_400_or_422_problem(client):
    r = client.post("/api/v1/auth/register", data="{not json", content_type="application/json")
    assert r.status_code in (400, 422)
    assert r.content_type == "application/problem+json"


def test_unknown_route_is_problem_404(client):
    r = client.get("/api/v1/nope")
    assert r.status_code == 404 and r.content_type == "application/problem+json"


def test_an_absurd_page_number_is_422_not_500(citizen):
    r = citizen.get("me/notifications?page=1352730819002088386763836882944")
    assert r.status_code == 422 and "page" in r.json["errors"]


def test_docs_page_works_offline(app):
    """/api/docs loads Swagger UI from the app itself (swagger-ui-bundle), never from a CDN."""
    client = app.test_client()
    page = client.get("/api/docs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    scripts = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert scripts and all(s.startswith("/api/") for s in scripts), scripts
    for url in scripts:
        with client.get(url) as r:
            assert r.status_code == 200 and len(r.data) > 1000, url
    with client.get("/api/docs/assets/swagger-ui-bundle.js") as r:
        assert b"SwaggerUIBundle" in r.data


def test_behind_a_proxy_the_client_address_comes_from_x_forwarded_for():
    app = create_app({"DATABASE_URL": "sqlite://", "PROXY_FIX_X_FOR": 1, **CHEAP_HASH})
    seen: list[str | None] = []

    def whoami() -> str:
        seen.append(request.remote_addr)
        return ""

    app.add_url_rule("/whoami", "whoami", whoami)
    app.test_client().get("/whoami", headers={"X-Forwarded-For": "203.0.113.5"})
    assert seen == ["203.0.113.5"]
