"""The still-needed check, made at send time: age alone never makes a reminder unneeded.

The same rule runs as SQL in backend/reminders/inbox_sql.py (PostgreSQL, the inbox channel);
tests/reminders/test_set_based.py checks that both decide alike.
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.care.models import StepState
from backend.regimens.models import CheckIn, RegimenStatus
from backend.reminders.bulk import in_ as _in
from backend.reminders.claims import Item
from backend.reminders.models import ReminderKind


def taken_days(session: Session, items: list[Item]) -> set[tuple[uuid.UUID, dt.date]]:
    """(regimen, day) pairs of the batch with a "taken" check-in: one query."""
    wanted = {
        (i.source_id, dt.date.fromisoformat(i.params["day"]))
        for i in items
        if i.source_type == "regimen" and "day" in i.params
    }
    if not wanted:
        return set()
    rows = session.execute(
        select(CheckIn.regimen_id, CheckIn.on).where(
            _in(session, CheckIn.regimen_id, {r for r, _ in wanted}),
            CheckIn.on.in_({d for _, d in wanted}),
            CheckIn.taken.is_(True),
        )
    ).all()
    return {(r, d) for r, d in rows} & wanted


def still_needed(item: Item, *, today: dt.date, taken: set[tuple[uuid.UUID, dt.date]]) -> bool:
    """Re-checked at send time: the step still pending (and open, but for an escalation), the
    regimen's day still in its span and not ticked off, the kind not opted out. Age alone never
    makes a reminder unneeded."""
    if item.kind != ReminderKind.STEP_ESCALATION and item.kind in item.opted_out:
        return False
    if item.source_type == "care_step":
        if item.step is None or item.step[1] != StepState.PENDING:
            return False
        return item.kind == ReminderKind.STEP_ESCALATION or today <= item.step[5]
    if item.source_type == "regimen":
        if item.regimen is None or item.regimen[0] != RegimenStatus.ACTIVE:
            return False
        day = dt.date.fromisoformat(item.params["day"])
        starts_on, ends_on = item.regimen[1], item.regimen[2]
        if day < starts_on or (ends_on is not None and day > ends_on):
            return False
        return (item.source_id, day) not in taken
    return True
