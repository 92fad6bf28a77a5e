"""Who may see a family's handbook: 建册 registrations, partners, consent, access logs."""

from __future__ import annotations

from flask import Flask

from backend.api import Api


def init_app(app: Flask, api: Api) -> None:
    """Register the blueprint."""
    from backend.access import routes

    api.register_blueprint(routes.blp)
