"""Birth-defect surveillance (出生缺陷监测): defects of children, stillbirths and pregnancies
terminated for a defect, by ICD-10 Q code and monitored category; prenatal-diagnosis results.

Doctors of the family's institution record; the family reads the record in plain words; the
indicators domain counts cases for the bureau (never people).
"""

from __future__ import annotations

from flask import Flask

from backend.api import Api


def init_app(app: Flask, api: Api) -> None:
    """Register the blueprint, the handbook listener and her export sections."""
    from backend.surveillance import content, exporters, receivers, routes

    content.init_app(app)  # a broken categories file fails at start-up, naming the category
    api.register_blueprint(routes.blp)
    receivers.connect()
    exporters.register(app)
