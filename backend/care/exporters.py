"""Her care records as sections of her data export (backend/exports.py)."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select

from backend import exports
from backend.care.models import CareResult, CareStep, Measurement, RiskAssessment
from backend.handbook.models import Pregnancy


def register(app: Flask) -> None:
    """Her schedule, results, risk grades and measurements belong in her data export."""
    steps = select(CareStep).order_by(CareStep.due_on)
    exports.register(app, "care_steps", exports.owned(steps, CareStep.person_id))
    results = (
        select(CareResult)
        .join(CareStep, CareStep.id == CareResult.step_id)
        .order_by(CareResult.recorded_at)
    )
    exports.register(app, "care_results", exports.owned(results, CareStep.person_id))
    risk = (
        select(RiskAssessment)
        .join(Pregnancy, Pregnancy.id == RiskAssessment.pregnancy_id)
        .order_by(RiskAssessment.seq)
    )
    exports.register(app, "risk_assessments", exports.owned(risk, Pregnancy.woman_id))
    measured = select(Measurement).order_by(Measurement.measured_at)
    exports.register(app, "measurements", exports.owned(measured, Measurement.person_id))
