"""Her recorded contraception facts and methods, as sections of her data export."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select

from backend import exports
from backend.contraception.models import ContraceptionFacts, MethodRecord


def register(app: Flask) -> None:
    """Her recorded facts and methods belong in her data export."""
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
