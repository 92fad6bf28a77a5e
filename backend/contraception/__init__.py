"""Contraception: WHO MEC eligibility as data with a pure engine (eligibility.py) and IUD
follow-up and removal windows; service.py and routes.py wire them to her record. Family benefits
(leave, the childcare subsidy) are their own domain, `backend.benefits`."""

from __future__ import annotations

from flask import Flask

from backend.api import Api


def init_app(app: Flask, api: Api) -> None:
    """Load and check the eligibility table, register the blueprint."""
    from backend.contraception import routes
    from backend.contraception.eligibility import load_eligibility

    app.extensions["contraception.table"] = load_eligibility()
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
