"""Family benefits: leave after a birth or loss and the national childcare subsidy, computed by
pure functions (leave.py, subsidy.py) from time-versioned rule tables (content/benefits, read by
loading.py into the types of rules.py); service.py and routes.py wire them to her record."""

from __future__ import annotations

from flask import Flask

from backend.api import Api
from backend.benefits import routes
from backend.benefits.loading import load_benefits
from backend.content import content_dir


def init_app(app: Flask, api: Api) -> None:
    """Load and check the benefit tables, register the blueprint."""
    # From the content directory create_app validated.
    app.extensions["benefits.rules"] = load_benefits(content_dir(app) / "benefits")
    api.register_blueprint(routes.blp)
