"""Daily regimens: folic acid from a planned pregnancy to the end of the first trimester.

The regimen file (content/regimens/folic_acid.yaml) is loaded and validated once at start-up:
a broken file stops the app with a message naming the file and the field. The handbook's
signals link, move, stop and complete regimens; backend.regimens.signals tells the reminder
planner, which reads service.active_regimens and service.reminder_dates. jobs.py persists,
hourly, the completion of regimens whose last day has passed (they already read as completed).
"""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app

from backend.api import Api
from backend.content import content_dir


def init_app(app: Flask, api: Api) -> None:
    """Load the regimen file, register the blueprint and the handbook listeners."""
    from backend.regimens import routes
    from backend.regimens.folic_acid import load_folic_acid

    app.extensions["regimens.folic_acid"] = load_folic_acid(
        app.config.get("REGIMENS_DIR") or content_dir(app) / "regimens"
    )
    api.register_blueprint(routes.blp)
    _connect_signals()


_connected = False


def _connect_signals() -> None:
    """Listen to the handbook once per process (blinker keeps weak references to functions)."""
    global _connected
    if _connected:
        return
    from backend.handbook import signals

    signals.pregnancy_created.connect(_on_pregnancy_dated)
    signals.pregnancy_redated.connect(_on_pregnancy_dated)
    signals.pregnancy_ended.connect(_on_pregnancy_ended)
    signals.birth_recorded.connect(_on_birth)
    _connected = True


def _on_pregnancy_dated(_sender: Any, *, session: Any, pregnancy: Any, **_: Any) -> None:
    from backend.regimens import service

    service.follow_pregnancy(
        session,
        pregnancy=pregnancy,
        content=current_app.extensions["regimens.folic_acid"],
        default_tz=current_app.config["DEFAULT_TIMEZONE"],
    )


def _on_pregnancy_ended(_sender: Any, *, session: Any, pregnancy: Any, **_: Any) -> None:
    from backend.regimens import service

    service.stop_for_loss(session, pregnancy=pregnancy)


def _on_birth(_sender: Any, *, session: Any, pregnancy: Any, **_: Any) -> None:
    from backend.regimens import service

    service.complete_at_birth(session, pregnancy=pregnancy)
