"""Serves the built web clients (web/dist, made by `npm run build`): the staff console at /app/
and the family reference client at /m/. They are ordinary clients of /api/v1 with a bearer
token kept in sessionStorage, so serving them adds no route to the API and no cookie."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Flask, Response, current_app, redirect, send_from_directory

from backend.errors import NotFound
from backend.i18n import _l

CLIENTS = ("app", "m")
ASSETS = "web-assets"  # Vite's assetsDir (web/vite.config.ts)

blp = Blueprint("webui", __name__)


def _dist() -> Path:
    return Path(current_app.config["WEB_DIST_DIR"])


def _page(client: str) -> Response:
    """A client's index.html, never cached, so a new build reaches phones at once."""
    folder = _dist() / client
    if not (folder / "index.html").is_file():
        raise NotFound(_l("The web clients are not built: run `make web`."))
    response = send_from_directory(folder, "index.html", max_age=0)
    response.headers["Cache-Control"] = "no-cache"
    return response


@blp.get("/")
def root() -> Response:
    return redirect("/m/")  # type: ignore[return-value]


@blp.get("/app/", defaults={"path": ""}, endpoint="app")
@blp.get("/app/<path:path>", endpoint="app")
def staff_console(path: str) -> Response:
    """Any path under /app/ is the console's (its router reads the path)."""
    return _page("app")


@blp.get("/m/", defaults={"path": ""}, endpoint="m")
@blp.get("/m/<path:path>", endpoint="m")
def family_client(path: str) -> Response:
    """Any path under /m/ is the family client's."""
    return _page("m")


@blp.get(f"/{ASSETS}/<path:path>")
def assets(path: str) -> Response:
    """Hashed build files: cached for a year."""
    return send_from_directory(_dist() / ASSETS, path, max_age=365 * 24 * 3600)


def init_app(app: Flask) -> None:
    app.register_blueprint(blp)
