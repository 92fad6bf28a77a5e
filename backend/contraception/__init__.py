"""Contraception: WHO MEC eligibility as data with a pure engine (eligibility.py) and IUD
follow-up and removal windows; service.py and routes.py wire them to her record. Family benefits
(leave, the childcare subsidy) are their own domain, `backend.benefits`."""

from __future__ import annotations

from flask import Flask

from backend.api import Api
from backend.content import content_dir
from backend.contraception import exporters, routes
from backend.contraception.loading import load_eligibility


def init_app(app: Flask, api: Api) -> None:
    """Load and check the eligibility table, register the blueprint."""
    app.extensions["contraception.table"] = load_eligibility(content_dir(app) / "contraception")
    api.register_blueprint(routes.blp)
    exporters.register(app)
