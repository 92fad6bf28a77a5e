"""Contraception and family benefits: WHO MEC eligibility as data with a pure engine
(eligibility.py), IUD follow-up and removal windows, and leave and childcare-subsidy rules
(benefits.py); service.py and routes.py wire them to her record."""

from __future__ import annotations

from flask import Flask

from backend.api import Api


def init_app(app: Flask, api: Api) -> None:
    """Load and check the eligibility and benefit tables, register the blueprint."""
    from backend.contraception import routes
    from backend.contraception.benefits import load_benefits
    from backend.contraception.eligibility import load_eligibility

    app.extensions["contraception.table"] = load_eligibility()
    app.extensions["contraception.benefits"] = load_benefits()
    api.register_blueprint(routes.blp)
