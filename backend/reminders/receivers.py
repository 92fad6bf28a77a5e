"""What reminders hear: a changed schedule or regimen re-plans the reminders of those people.

A receiver works in the sender's session and never commits.
"""

from __future__ import annotations

from typing import Any

from flask import current_app

from backend.care import signals as care_signals
from backend.regimens import service as regimen_service
from backend.regimens import signals as regimen_signals
from backend.reminders import planning, rules


def connect() -> None:
    """Listen to care and regimens; connecting again changes nothing (receivers keyed by id)."""
    for signal, receiver in (
        (care_signals.schedule_changed, on_schedule_changed),
        (regimen_signals.regimen_changed, on_regimen_changed),
    ):
        signal.connect(receiver)


def on_schedule_changed(
    _sender: Any, *, session: Any, person_ids: Any, steps: Any = None, **_: Any
) -> None:
    planning.plan_steps(
        session,
        person_ids=set(person_ids),
        synced=steps,  # a sync's steps: planning need not read them back
        protocols=current_app.extensions["care.protocols"],
        rules=rules.load(),
        default_tz=current_app.config["DEFAULT_TIMEZONE"],
    )


def on_regimen_changed(_sender: Any, *, session: Any, regimen: Any, **_: Any) -> None:
    planning.plan_regimens(
        session,
        regimens=regimen_service.active_regimens(session, user_ids=[regimen.user_id]),
        user_ids={regimen.user_id},
        rules=rules.load(),
        default_tz=current_app.config["DEFAULT_TIMEZONE"],
    )
