"""The built web clients are served at /app/ and /m/ (any path below is the client's page, never
cached), their hashed files cached for a year; without a build the pages answer 404."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def dist(app, tmp_path: Path):
    for client in ("app", "m"):
        (tmp_path / client).mkdir()
        (tmp_path / client / "index.html").write_text(f"<title>{client}</title>")
    (tmp_path / "web-assets").mkdir()
    (tmp_path / "web-assets" / "m-abc123.js").write_text("console.log(1)")
    before = app.config["WEB_DIST_DIR"]
    app.config["WEB_DIST_DIR"] = str(tmp_path)
    yield tmp_path
    app.config["WEB_DIST_DIR"] = before


def test_each_client_serves_its_page_for_any_path_below_it(app, dist):
    web = app.test_client()
    pages = [("/app/", "app"), ("/app/patients/42", "app"), ("/m/", "m"), ("/m/inbox", "m")]
    for path, client in pages:
        with web.get(path) as r:
            assert r.status_code == 200 and f"<title>{client}</title>" in r.text, path
            assert r.headers["Cache-Control"] == "no-cache"
            assert "Set-Cookie" not in r.headers  # the token lives in sessionStorage, not a cookie
    assert web.get("/").headers["Location"].endswith("/m/")


def test_hashed_assets_are_cached_and_nothing_else_is_served(app, dist):
    web = app.test_client()
    with web.get("/web-assets/m-abc123.js") as r:
        assert r.status_code == 200 and "max-age=31536000" in r.headers["Cache-Control"]
    assert web.get("/web-assets/../app/index.html").status_code == 404
    assert web.get("/web-assets/missing.js").status_code == 404


def test_without_a_build_the_pages_answer_404(app, tmp_path):
    before = app.config["WEB_DIST_DIR"]
    app.config["WEB_DIST_DIR"] = str(tmp_path / "nothing")
    try:
        r = app.test_client().get("/app/")
    finally:
        app.config["WEB_DIST_DIR"] = before
    assert r.status_code == 404
