"""Who may see a family's handbook: 建册 registrations, partners, consent, access logs."""

from __future__ import annotations

from flask import Flask

from backend.api import Api


def init_app(app: Flask, api: Api) -> None:
    """Register the blueprint and her export sections."""
    # Imported at registration: the routes' schemas build on the handbook's, which read
    # content/dating (field bounds) at import, and create_app loads the content first.
    from backend.access import exporters, routes

    api.register_blueprint(routes.blp)
    exporters.register(app)
