"""The health bureau's indicators (content/indicators/*.yaml), computed set-based in the
database by district, institution and month, with small-cell suppression; and the monthly
report a bureau prints."""

from __future__ import annotations

from flask import Flask

from backend.api import Api


def init_app(app: Flask, api: Api) -> None:
    """Register the blueprint; a broken definition file fails here, naming file and field."""
    # Imported here, not at the top: backend.domains imports every domain package before any
    # app exists, and these modules import the other domains' models and the API.
    from backend.indicators import cli, definitions, routes

    definitions.init_app(app)
    api.register_blueprint(routes.blp)
    app.cli.add_command(cli.report_cli)
    app.cli.add_command(cli.indicators_cli)
