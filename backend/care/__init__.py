"""Care schedules: protocols as data, the schedule engine, results, risk grades, worklists.

The protocols are loaded and validated once at start-up: a broken file stops the app with a
message naming the file, the item and the field. The handbook's signals re-plan a subject
whenever one of its facts changes.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app

from backend.api import Api
from backend.content import content_dir


def init_app(app: Flask, api: Api) -> None:
    """Load the protocols, register the blueprint, the listeners and the CLI."""
    from backend.care import cli, routes
    from backend.care.loading import load_protocols

    # From the content directory create_app validated (PROTOCOLS_DIR may point elsewhere).
    app.extensions["care.protocols"] = load_protocols(
        app.config.get("PROTOCOLS_DIR") or content_dir(app) / "protocols"
    )
    api.register_blueprint(routes.blp)
    app.cli.add_command(cli.care_cli)
    _register_exports(app)
    _connect_signals()


_connected = False


def _connect_signals() -> None:
    """Listen to the handbook once per process (blinker keeps weak references to functions)."""
    global _connected
    if _connected:
        return
    from backend.handbook import signals

    signals.pregnancy_created.connect(_on_pregnancy)
    signals.pregnancy_redated.connect(_on_pregnancy)
    signals.birth_recorded.connect(_on_birth)
    signals.pregnancy_ended.connect(_on_pregnancy)
    signals.discharge_recorded.connect(_on_discharge)
    signals.child_added.connect(_on_child)
    signals.child_changed.connect(_on_child)
    signals.guardian_leaving.connect(_on_guardian_leaving)
    _connected = True


def _on_pregnancy(_sender: Any, *, session: Any, pregnancy: Any, **_: Any) -> None:
    from backend.care import service

    service.sync_pregnancy(
        session,
        pregnancy=pregnancy,
        protocols=current_app.extensions["care.protocols"],
        default_tz=current_app.config["DEFAULT_TIMEZONE"],
    )


def _on_birth(_sender: Any, *, session: Any, pregnancy: Any, **_: Any) -> None:
    """A birth: re-plan the pregnancy; a discharge date already known goes to each baby."""
    if pregnancy.discharged_on is None:
        _on_pregnancy(_sender, session=session, pregnancy=pregnancy)
    else:
        _on_discharge(_sender, session=session, pregnancy=pregnancy)


def _on_discharge(_sender: Any, *, session: Any, pregnancy: Any, **_: Any) -> None:
    """A discharge date: re-plan the pregnancy and carry the date to each baby."""
    from backend.care import service

    protocols = current_app.extensions["care.protocols"]
    default_tz = current_app.config["DEFAULT_TIMEZONE"]
    service.sync_pregnancy(session, pregnancy=pregnancy, protocols=protocols, default_tz=default_tz)
    for child in pregnancy.children:
        service.set_options(
            session,
            subject=service.child_subject(session, child),
            vaccine_choices=None,
            flags=None,
            anchors={"discharge": pregnancy.discharged_on},
            protocols=protocols,
            default_tz=default_tz,
        )


def _on_child(_sender: Any, *, session: Any, child: Any, **_: Any) -> None:
    from backend.care import service

    service.sync_child(
        session,
        child=child,
        protocols=current_app.extensions["care.protocols"],
        default_tz=current_app.config["DEFAULT_TIMEZONE"],
    )


def _on_guardian_leaving(
    _sender: Any, *, session: Any, child: Any, successor_id: Any, **_: Any
) -> None:
    from backend.care import service

    service.reassign_child_steps(session, child=child, successor_id=successor_id)


def _register_exports(app: Flask) -> None:
    """Her schedule, results, risk grades and measurements belong in her data export."""
    from sqlalchemy import select

    from backend import exports
    from backend.care.models import CareResult, CareStep, Measurement, RiskAssessment
    from backend.handbook.models import Pregnancy

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
