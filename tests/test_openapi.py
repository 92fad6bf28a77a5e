"""The committed openapi.yaml is what the code generates (`make openapi` rewrites it)."""

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def test_committed_openapi_matches_code(app):
    from backend.cli import openapi_document

    text = (ROOT / "openapi.yaml").read_text(encoding="utf-8")
    assert text.startswith("openapi: 3.")
    committed = yaml.safe_load(text)
    assert committed == yaml.safe_load(openapi_document()), (
        "openapi.yaml is stale: run `make openapi` and commit it"
    )


def test_docs_are_served(client):
    assert client.get("/api/docs").status_code == 200
    assert client.get("/api/openapi.json").json["info"]["version"] == "v1"
