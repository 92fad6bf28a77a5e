"""Daily regimens: folic acid from a planned pregnancy to the end of the first trimester.

The regimen file (content/regimens/folic_acid.yaml) is loaded and validated once at start-up:
a broken file stops the app with a message naming the file and the field. The handbook's
signals link, move, stop and complete regimens; backend.regimens.signals tells the reminder
planner, which reads service.active_regimens and service.reminder_dates. jobs.py persists,
hourly, the completion of regimens whose last day has passed (they already read as completed).
"""

from __future__ import annotations

from flask import Flask

from backend.api import Api
from backend.content import content_dir
from backend.regimens import exporters, receivers, routes
from backend.regimens.folic_acid import load_folic_acid


def init_app(app: Flask, api: Api) -> None:
    """Load the regimen file, register the blueprint and the handbook listeners."""
    app.extensions["regimens.folic_acid"] = load_folic_acid(
        app.config.get("REGIMENS_DIR") or content_dir(app) / "regimens"
    )
    api.register_blueprint(routes.blp)
    receivers.connect()
    exporters.register(app)
