"""The family's first screen in one request (GET /me/home), gathered from the domains below."""

from __future__ import annotations

from flask import Flask

from backend.api import Api


def init_app(app: Flask, api: Api) -> None:
    """Register the blueprint."""
    # Imported at registration: the routes' schemas build on the handbook's, which read
    # content/dating (field bounds) at import, and create_app loads the content first.
    from backend.home import routes

    api.register_blueprint(routes.blp)
