"""Her birth-defect records and prenatal diagnoses, as sections of her data export."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select

from backend import exports
from backend.surveillance.models import BirthDefect, PrenatalDiagnosis


def register(app: Flask) -> None:
    """Records about her and her babies belong in her data export."""
    exports.register(
        app,
        "birth_defects",
        lambda s, u: s.scalars(select(BirthDefect).where(BirthDefect.woman_id == u.id)),
    )
    exports.register(
        app,
        "prenatal_diagnoses",
        lambda s, u: s.scalars(select(PrenatalDiagnosis).where(PrenatalDiagnosis.woman_id == u.id)),
    )
