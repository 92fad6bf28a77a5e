"""Recording reminder statuses: one UPDATE per distinct outcome, never one per reminder."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from typing import Any, cast

from sqlalchemy import Table, bindparam, update
from sqlalchemy.orm import Session

from backend.reminders.bulk import in_ as _in
from backend.reminders.bulk import is_postgresql
from backend.reminders.models import Reminder, ReminderStatus

RETRY = """
UPDATE reminders r
SET status = 'pending', attempts = r.attempts + 1, updated_at = %(now)s, claimed_by = NULL,
    lease_until = NULL, last_error = v.error, next_attempt_at = v.at
FROM unnest(%(ids)s::uuid[], %(errors)s::text[], %(ats)s::timestamptz[]) AS v (id, error, at)
WHERE r.id = v.id AND r.claimed_by = %(worker)s AND r.status = 'claimed'
"""


def mark(
    session: Session,
    groups: Mapping[tuple[Any, ...], list[uuid.UUID]],
    *,
    worker: str | None,
    now: dt.datetime,
) -> None:
    """One UPDATE per distinct outcome: (status, channel, effect_deadline, error); with
    `worker`, only the rows this worker still holds under its lease."""
    for (status, channel, deadline, error), ids in groups.items():
        values: dict[str, Any] = {
            "status": status,
            "attempts": Reminder.attempts + (0 if status == ReminderStatus.CANCELLED else 1),
            "updated_at": now,
            "claimed_by": None,
            "lease_until": None,
        }
        if status != ReminderStatus.CANCELLED:
            values["last_error"] = error
        if status == ReminderStatus.DELIVERED:
            values |= {"delivered_at": now, "channel": channel, "effect_deadline": deadline}
        stmt = update(Reminder).where(_in(session, Reminder.id, ids))
        if worker is not None:
            stmt = stmt.where(
                Reminder.claimed_by == worker, Reminder.status == ReminderStatus.CLAIMED
            )
        session.execute(stmt.values(**values).execution_options(synchronize_session=False))


def mark_retries(
    session: Session,
    retries: list[tuple[uuid.UUID, str | None, dt.datetime]],
    *,
    worker: str,
    now: dt.datetime,
) -> None:
    """Back to pending, each at its own jittered instant, in one statement: (id, error, at).
    PostgreSQL: an UPDATE … FROM unnest of three arrays; SQLite: one executemany."""
    if not retries:
        return
    if is_postgresql(session):
        ids, errors, ats = (list(column) for column in zip(*retries, strict=True))
        session.connection().exec_driver_sql(
            RETRY, {"ids": ids, "errors": errors, "ats": ats, "now": now, "worker": worker}
        )
        return
    table = cast(Table, Reminder.__table__)
    stmt = (
        update(table)
        .where(
            table.c.id == bindparam("b_id"),
            table.c.claimed_by == worker,
            table.c.status == ReminderStatus.CLAIMED,
        )
        .values(
            status=ReminderStatus.PENDING,
            attempts=table.c.attempts + 1,
            updated_at=now,
            claimed_by=None,
            lease_until=None,
            last_error=bindparam("b_error"),
            next_attempt_at=bindparam("b_at"),
        )
    )
    session.execute(stmt, [{"b_id": i, "b_error": e, "b_at": a} for i, e, a in retries])
