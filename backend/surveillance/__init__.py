"""Birth-defect surveillance (出生缺陷监测): defects of children, stillbirths and pregnancies
terminated for a defect, by ICD-10 Q code and monitored category; prenatal-diagnosis results.

Doctors of the family's institution record; the family reads the record in plain words; the
indicators domain counts cases for the bureau (never people).
"""

from __future__ import annotations

from flask import Flask

from backend.api import Api


def init_app(app: Flask, api: Api) -> None:
    """Register the blueprint, the handbook listener and her export section."""
    from sqlalchemy import select

    from backend import exports
    from backend.handbook import signals
    from backend.surveillance import routes
    from backend.surveillance.content import categories
    from backend.surveillance.models import BirthDefect, PrenatalDiagnosis

    categories()  # a broken categories file fails at start-up, naming the category
    api.register_blueprint(routes.blp)
    signals.pregnancy_ended.connect(_on_pregnancy_ended, weak=False)
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


def _on_pregnancy_ended(sender: object, *, session: object, pregnancy: object, **_: object) -> None:
    from backend.surveillance import service

    service.close_ongoing(session, pregnancy=pregnancy)  # type: ignore[arg-type]
