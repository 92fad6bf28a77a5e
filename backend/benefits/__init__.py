"""Family benefits: leave after a birth or loss and the national childcare subsidy, computed by
pure functions (leave.py, subsidy.py) from time-versioned rule tables (content/benefits, read by
loading.py into the types of rules.py); service.py and routes.py wire them to her record."""

from __future__ import annotations

from flask import Flask

from backend.api import Api
from backend.benefits import routes
from backend.benefits.loading import load_benefits


def init_app(app: Flask, api: Api) -> None:
    """Load and check the benefit tables, register the blueprint."""
    app.extensions["benefits.rules"] = load_benefits()
    api.register_blueprint(routes.blp)
