"""The family handbook: the profile and its life stages, pregnancies, births, children."""

from __future__ import annotations

from flask import Flask

from backend.api import Api


def init_app(app: Flask, api: Api) -> None:
    """Register the blueprint and her export sections."""
    # Imported at registration, not with the package: other domains import backend.handbook
    # (dating, service) early, and its schemas read content/dating (field bounds) at import,
    # which create_app loads first.
    from backend.handbook import exporters, routes

    api.register_blueprint(routes.blp)
    exporters.register(app)
