"""Operations: health and readiness probes, idempotent POST replays."""

from __future__ import annotations

from flask import Flask

from backend.api import Api
from backend.ops import idempotency, routes


def init_app(app: Flask, api: Api) -> None:
    """Register the probes."""
    api.register_blueprint(routes.blp)
    idempotency.init_app(app)
