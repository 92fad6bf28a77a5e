"""Care schedules: protocols as data, the schedule engine, results, risk grades, worklists.

The protocols are loaded and validated once at start-up: a broken file stops the app with a
message naming the file, the item and the field. The handbook's signals re-plan a subject
whenever one of its facts changes.
"""

from __future__ import annotations

from flask import Flask

from backend.api import Api


def init_app(app: Flask, api: Api) -> None:
    """Load the protocols, register the blueprint, the listeners and the CLI."""
    from backend.care import cli, exporters, receivers, routes
    from backend.care.protocols import load_protocols

    app.extensions["care.protocols"] = load_protocols(
        app.config.get("PROTOCOLS_DIR") or _default_dir()
    )
    api.register_blueprint(routes.blp)
    app.cli.add_command(cli.care_cli)
    exporters.register(app)
    receivers.connect()


def _default_dir() -> str:
    from backend.care.protocols import CONTENT_DIR

    return str(CONTENT_DIR)
