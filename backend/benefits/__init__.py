"""Family benefits: leave after a birth or loss and the national childcare subsidy, computed by
pure functions (leave.py, subsidy.py) from time-versioned rule tables (content/benefits, validated
by backend.content.benefits, built by loading.py into the types of rules.py); service.py and
routes.py wire them to her record."""

from __future__ import annotations

from flask import Flask

from backend.api import Api
from backend.benefits import routes
from backend.benefits.loading import from_files
from backend.content import validated


def init_app(app: Flask, api: Api) -> None:
    """Build the benefit tables from the files create_app validated, register the blueprint."""
    app.extensions["benefits.rules"] = from_files(validated(app, "benefits"))
    api.register_blueprint(routes.blp)
