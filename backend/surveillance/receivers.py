"""What surveillance hears: a pregnancy ended turns a prenatal finding into a case.

A receiver works in the sender's session and never commits.
"""

from __future__ import annotations

from typing import Any

from backend.handbook import signals
from backend.surveillance import service


def connect() -> None:
    """Listen to the handbook (a strong reference: connecting twice replaces the same receiver)."""
    signals.pregnancy_ended.connect(on_pregnancy_ended, weak=False)


def on_pregnancy_ended(_sender: Any, *, session: Any, pregnancy: Any, **_: Any) -> None:
    service.close_ongoing(session, pregnancy=pregnancy)
