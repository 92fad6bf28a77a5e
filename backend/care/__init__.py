"""Care schedules: protocols as data, the schedule engine, results, risk grades, worklists.

The protocols are loaded and validated once at start-up: a broken file stops the app with a
message naming the file, the item and the field. The handbook's signals re-plan a subject
whenever one of its facts changes.
"""

from __future__ import annotations

from flask import Flask

from backend.api import Api
from backend.care import cli, exporters, receivers, routes
from backend.care.loading import load_protocols
from backend.content import content_dir


def init_app(app: Flask, api: Api) -> None:
    """Load the protocols, register the blueprint, the listeners and the CLI."""
    # From the content directory create_app validated (PROTOCOLS_DIR may point elsewhere).
    app.extensions["care.protocols"] = load_protocols(
        app.config.get("PROTOCOLS_DIR") or content_dir(app) / "protocols"
    )
    api.register_blueprint(routes.blp)
    app.cli.add_command(cli.care_cli)
    exporters.register(app)
    receivers.connect()
