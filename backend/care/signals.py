"""What care announces: a subject's schedule changed (reminders re-plan on it)."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any, NamedTuple

from blinker import Namespace

care_signals = Namespace()

schedule_changed = care_signals.signal(
    "schedule-changed",
    doc="Steps were added, moved, cancelled or done. kwargs: session, person_ids (the people "
    "whose handbook holds them) and, from a sync, steps (a `SyncedSteps`: what the sync wrote, "
    "so that listeners need not read it back).",
)


class StepFacts(NamedTuple):
    """A stored step as it stands after a sync (the columns reminder planning reads)."""

    id: uuid.UUID
    person_id: uuid.UUID
    code: str
    opens_on: dt.date
    due_on: dt.date
    closes_on: dt.date
    state: str
    closed_before_enrolment: bool

    @classmethod
    def of(cls, step: Any) -> StepFacts:
        """The facts of a stored step (a CareStep, or a row with these columns)."""
        return cls(*(getattr(step, name) for name in cls._fields))


@dataclass(frozen=True)
class SyncedSteps:
    """Every step of the synced subjects, as flushed: the subjects are (kind, id) pairs."""

    subjects: frozenset[tuple[str, uuid.UUID]]
    steps: tuple[StepFacts, ...]
