"""Contraception and family benefits: WHO MEC eligibility as data with a pure engine
(eligibility.py), IUD follow-up and removal windows, and leave and childcare-subsidy rules
(benefits.py); service.py and routes.py wire them to her record."""

from __future__ import annotations

from flask import Flask

from backend.api import Api
from backend.content import content_dir


def init_app(app: Flask, api: Api) -> None:
    """Load and check the eligibility and benefit tables, register the blueprint."""
    from backend.contraception import routes
    from backend.contraception.benefits import load_benefits
    from backend.contraception.loading import load_eligibility

    app.extensions["contraception.table"] = load_eligibility(content_dir(app) / "contraception")
    app.extensions["contraception.benefits"] = load_benefits(content_dir(app) / "benefits")
    api.register_blueprint(routes.blp)
    _register_exports(app)


def _register_exports(app: Flask) -> None:
    """Her recorded facts and methods belong in her data export."""
    from sqlalchemy import select

    from backend import exports
    from backend.contraception.models import ContraceptionFacts, MethodRecord

    exports.register(
        app,
        "contraception_facts",
        lambda s, u: s.scalars(
            select(ContraceptionFacts).where(ContraceptionFacts.woman_id == u.id)
        ),
    )
    exports.register(
        app,
        "contraception_methods",
        lambda s, u: s.scalars(
            select(MethodRecord)
            .where(MethodRecord.woman_id == u.id)
            .order_by(MethodRecord.started_on)
        ),
    )
