"""Care schedules: protocols as data, the schedule engine, results, risk grades, worklists.

The protocols are loaded and validated once at start-up: a broken file stops the app with a
message naming the file, the item and the field. The handbook's signals re-plan a subject
whenever one of its facts changes.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app

from backend.api import Api


def init_app(app: Flask, api: Api) -> None:
    """Load the protocols, register the blueprint, the listeners and the CLI."""
    from backend.care import cli, routes
    from backend.care.protocols import load_protocols

    app.extensions["care.protocols"] = load_protocols(
        app.config.get("PROTOCOLS_DIR") or _default_dir()
    )
    api.register_blueprint(routes.blp)
    app.cli.add_command(cli.care_cli)
    _connect_signals()


def _default_dir() -> str:
    from backend.care.protocols import CONTENT_DIR

    return str(CONTENT_DIR)


_connected = False


def _connect_signals() -> None:
    """Listen to the handbook once per process (blinker keeps weak references to functions)."""
    global _connected
    if _connected:
        return
    from backend.handbook import signals

    signals.pregnancy_created.connect(_on_pregnancy)
    signals.pregnancy_redated.connect(_on_pregnancy)
    signals.birth_recorded.connect(_on_pregnancy)
    signals.pregnancy_ended.connect(_on_pregnancy)
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
