"""Her recorded contraception facts and methods, as sections of her data export."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select

from backend import exports
from backend.contraception.models import ContraceptionFacts, MethodRecord


def register(app: Flask) -> None:
    """Her recorded facts and methods belong in her data export."""
    facts = select(ContraceptionFacts)
    exports.register(app, "contraception_facts", exports.owned(facts, ContraceptionFacts.woman_id))
    methods = select(MethodRecord).order_by(MethodRecord.started_on)
    exports.register(app, "contraception_methods", exports.owned(methods, MethodRecord.woman_id))
