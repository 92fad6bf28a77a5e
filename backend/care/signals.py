"""What care announces: a subject's schedule changed (reminders re-plan on it)."""

from __future__ import annotations

from blinker import Namespace

care_signals = Namespace()

schedule_changed = care_signals.signal(
    "schedule-changed",
    doc="Steps were added, moved, cancelled or done. kwargs: session, person_ids (the people "
    "whose handbook holds them).",
)
