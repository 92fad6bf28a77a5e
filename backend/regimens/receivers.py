"""What regimens hear: the handbook's pregnancy facts link, move, stop and complete folic acid.

A receiver works in the sender's session and never commits.
"""

from __future__ import annotations

from typing import Any

from flask import current_app

from backend.handbook import signals
from backend.regimens import lifecycle


def connect() -> None:
    """Listen to the handbook; connecting again changes nothing (blinker keys receivers by id)."""
    for signal, receiver in (
        (signals.pregnancy_created, on_pregnancy_dated),
        (signals.pregnancy_redated, on_pregnancy_dated),
        (signals.pregnancy_ended, on_pregnancy_ended),
        (signals.birth_recorded, on_birth),
    ):
        signal.connect(receiver)


def on_pregnancy_dated(_sender: Any, *, session: Any, pregnancy: Any, **_: Any) -> None:
    lifecycle.follow_pregnancy(
        session,
        pregnancy=pregnancy,
        content=current_app.extensions["regimens.folic_acid"],
        default_tz=current_app.config["DEFAULT_TIMEZONE"],
    )


def on_pregnancy_ended(_sender: Any, *, session: Any, pregnancy: Any, **_: Any) -> None:
    lifecycle.stop_for_loss(session, pregnancy=pregnancy)


def on_birth(_sender: Any, *, session: Any, pregnancy: Any, **_: Any) -> None:
    lifecycle.complete_at_birth(session, pregnancy=pregnancy)
