"""Her birth-defect records and prenatal diagnoses, as sections of her data export."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select

from backend import exports
from backend.surveillance.models import BirthDefect, PrenatalDiagnosis


def register(app: Flask) -> None:
    """Records about her and her babies belong in her data export."""
    defects = select(BirthDefect)
    exports.register(app, "birth_defects", exports.owned(defects, BirthDefect.woman_id))
    diagnoses = select(PrenatalDiagnosis)
    exports.register(
        app, "prenatal_diagnoses", exports.owned(diagnoses, PrenatalDiagnosis.woman_id)
    )
