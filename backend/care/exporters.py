"""Her care records as sections of her data export (backend/exports.py)."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select

from backend import exports
from backend.care.models import CareResult, CareStep, Measurement, RiskAssessment
from backend.handbook.models import Pregnancy


def register(app: Flask) -> None:
    """Her schedule, results, risk grades and measurements belong in her data export."""
    exports.register(
        app,
        "care_steps",
        lambda s, u: s.scalars(
            select(CareStep).where(CareStep.person_id == u.id).order_by(CareStep.due_on)
        ),
    )
    exports.register(
        app,
        "care_results",
        lambda s, u: s.scalars(
            select(CareResult)
            .join(CareStep, CareStep.id == CareResult.step_id)
            .where(CareStep.person_id == u.id)
            .order_by(CareResult.recorded_at)
        ),
    )
    exports.register(
        app,
        "risk_assessments",
        lambda s, u: s.scalars(
            select(RiskAssessment)
            .join(Pregnancy, Pregnancy.id == RiskAssessment.pregnancy_id)
            .where(Pregnancy.woman_id == u.id)
            .order_by(RiskAssessment.seq)
        ),
    )
    exports.register(
        app,
        "measurements",
        lambda s, u: s.scalars(
            select(Measurement)
            .where(Measurement.person_id == u.id)
            .order_by(Measurement.measured_at)
        ),
    )
