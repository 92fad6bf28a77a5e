"""Operations: health and readiness probes."""

from __future__ import annotations

from flask import Flask

from backend.api import Api


def init_app(app: Flask, api: Api) -> None:
    """Register the probes."""
    from backend.ops import routes

    api.register_blueprint(routes.blp)
