"""The family's first screen in one request (GET /me/home), gathered from the domains below."""

from __future__ import annotations

from flask import Flask

from backend.api import Api


def init_app(app: Flask, api: Api) -> None:
    """Register the blueprint."""
    from backend.home import routes

    api.register_blueprint(routes.blp)
