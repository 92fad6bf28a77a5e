"""What care hears: the handbook's facts re-plan the subject they belong to.

A receiver works in the sender's session and never commits: the request stays one unit of work.
"""

from __future__ import annotations

from typing import Any

from flask import current_app

from backend.care import options, subjects, sync
from backend.handbook import signals


def connect() -> None:
    """Listen to the handbook; connecting again changes nothing (blinker keys receivers by id)."""
    for signal, receiver in (
        (signals.pregnancy_created, on_pregnancy),
        (signals.pregnancy_redated, on_pregnancy),
        (signals.birth_recorded, on_birth),
        (signals.pregnancy_ended, on_pregnancy),
        (signals.discharge_recorded, on_discharge),
        (signals.child_added, on_child),
        (signals.child_changed, on_child),
        (signals.guardian_leaving, on_guardian_leaving),
    ):
        signal.connect(receiver)


def on_pregnancy(_sender: Any, *, session: Any, pregnancy: Any, **_: Any) -> None:
    sync.sync_pregnancy(
        session,
        pregnancy=pregnancy,
        protocols=current_app.extensions["care.protocols"],
        default_tz=current_app.config["DEFAULT_TIMEZONE"],
    )


def on_birth(_sender: Any, *, session: Any, pregnancy: Any, **_: Any) -> None:
    """A birth: re-plan the pregnancy; a discharge date already known goes to each baby."""
    if pregnancy.discharged_on is None:
        on_pregnancy(_sender, session=session, pregnancy=pregnancy)
    else:
        on_discharge(_sender, session=session, pregnancy=pregnancy)


def on_discharge(_sender: Any, *, session: Any, pregnancy: Any, **_: Any) -> None:
    """A discharge date: re-plan the pregnancy and carry the date to each baby."""
    protocols = current_app.extensions["care.protocols"]
    default_tz = current_app.config["DEFAULT_TIMEZONE"]
    sync.sync_pregnancy(session, pregnancy=pregnancy, protocols=protocols, default_tz=default_tz)
    for child in pregnancy.children:
        options.set_options(
            session,
            subject=subjects.child_subject(session, child),
            vaccine_choices=None,
            flags=None,
            anchors={"discharge": pregnancy.discharged_on},
            protocols=protocols,
            default_tz=default_tz,
        )


def on_child(_sender: Any, *, session: Any, child: Any, **_: Any) -> None:
    sync.sync_child(
        session,
        child=child,
        protocols=current_app.extensions["care.protocols"],
        default_tz=current_app.config["DEFAULT_TIMEZONE"],
    )


def on_guardian_leaving(
    _sender: Any, *, session: Any, child: Any, successor_id: Any, **_: Any
) -> None:
    sync.reassign_child_steps(session, child=child, successor_id=successor_id)
