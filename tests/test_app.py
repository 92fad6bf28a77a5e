"""The factory: settings overlay, every domain registered, probes, body limits."""

from backend import create_app
from backend.domains import DOMAINS


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
