"""The committed openapi.yaml is what the code generates (`make openapi` rewrites it)."""

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def test_committed_openapi_matches_code(app):
    from backend.extensions import api

    committed = yaml.safe_load((ROOT / "openapi.yaml").read_text(encoding="utf-8"))
    generated = yaml.safe_load(yaml.dump(api.spec.to_dict(), allow_unicode=True))
    assert committed == generated, "openapi.yaml is stale: run `make openapi` and commit it"


def test_docs_are_served(client):
    assert client.get("/api/docs").status_code == 200
    assert client.get("/api/openapi.json").json["info"]["version"] == "v1"
