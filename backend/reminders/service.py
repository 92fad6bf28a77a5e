"""The inbox, mini-program opt-ins, dead letters, escalations, effectiveness and lag.

Planning is in backend/reminders/planning.py, preferences in preferences.py, delivery in
dispatcher.py.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session

from backend.auth.models import Institution, Registration, User
from backend.care.models import CareStep, StepState
from backend.db import utcnow
from backend.errors import Conflict, NotFound
from backend.i18n import _l
from backend.paging import AnySelect, paginate, paginate_rows, window
from backend.reminders.models import (
    Escalation,
    MiniprogramOptIn,
    Notification,
    Reminder,
    ReminderStatus,
)

# --- the in-app inbox ----------------------------------------------------------------------------


# What a page of the inbox shows, read as plain columns (no ORM object per message).
INBOX_COLUMNS = (
    Notification.id,
    Notification.kind,
    Notification.title,
    Notification.body,
    Notification.locale,
    Notification.data,
    Notification.created_at,
    Notification.read_at,
)


def inbox(
    session: Session, *, user: User, page: int, page_size: int, unread_only: bool = False
) -> tuple[list[dict[str, Any]], int, int]:
    """A page of her notifications, newest first (as dicts of INBOX_COLUMNS), the total and the
    unread count.

    One statement: the page with both counts as window counts over what the filter keeps (with
    `unread_only` every row kept is unread), so a poll costs the token's round trip and this
    one, whatever the size of her inbox. Past the last page there is no row to carry them."""
    unread = Notification.read_at.is_(None)
    mine = Notification.user_id == user.id
    stmt = select(
        *INBOX_COLUMNS,
        func.count().over().label("total"),
        func.count(case((unread, 1))).over().label("unread"),
    ).where(mine)
    if unread_only:
        stmt = stmt.where(unread)
    stmt = stmt.order_by(Notification.created_at.desc(), Notification.id)
    rows = session.connection().execute(window(stmt, page=page, page_size=page_size)).all()
    if rows:
        keys = [c.key for c in INBOX_COLUMNS]
        return [dict(zip(keys, row, strict=False)) for row in rows], rows[0].total, rows[0].unread
    counts = session.execute(select(func.count(), func.count(case((unread, 1)))).where(mine)).one()
    return [], counts[1] if unread_only else counts[0], counts[1]


def mark_read(session: Session, *, user: User, notification_id: uuid.UUID) -> Notification:
    """Mark one notification read (idempotent)."""
    row = session.get(Notification, notification_id)
    if row is None or row.user_id != user.id:
        raise NotFound(_l("No such record."))
    if row.read_at is None:
        row.read_at = utcnow()
        session.flush()
    return row


def mark_all_read(session: Session, *, user: User) -> int:
    """Mark every unread notification read; returns how many."""
    rows = session.scalars(
        select(Notification).where(Notification.user_id == user.id, Notification.read_at.is_(None))
    ).all()
    now = utcnow()
    for row in rows:
        row.read_at = now
    session.flush()
    return len(rows)


# --- mini-program opt-ins ------------------------------------------------------------------------


def grant_opt_ins(
    session: Session, *, user: User, template_id: str, count: int
) -> MiniprogramOptIn:
    """She accepted `count` one-time subscription messages for a template."""
    row = session.get(MiniprogramOptIn, (user.id, template_id))
    if row is None:
        row = MiniprogramOptIn(user_id=user.id, template_id=template_id, remaining=0)
        session.add(row)
    row.remaining += count
    row.updated_at = utcnow()
    session.flush()
    return row


def opt_ins(session: Session, *, user: User) -> list[MiniprogramOptIn]:
    """Her remaining opt-ins per template."""
    return list(
        session.scalars(select(MiniprogramOptIn).where(MiniprogramOptIn.user_id == user.id))
    )


# --- dead letters, escalations, effectiveness ---------------------------------------------------


def dead_letters(session: Session, *, page: int, page_size: int) -> tuple[list[Reminder], int]:
    """Reminders that failed every attempt, newest first."""
    stmt = select(Reminder).where(Reminder.status == ReminderStatus.DEAD)
    stmt = stmt.order_by(Reminder.updated_at.desc(), Reminder.id)
    return paginate(session, stmt, page=page, page_size=page_size)


def requeue(session: Session, *, reminder_id: uuid.UUID) -> Reminder:
    """Send a dead letter again now, with a fresh count of attempts."""
    row = session.get(Reminder, reminder_id)
    if row is None:
        raise NotFound(_l("No such record."))
    if row.status != ReminderStatus.DEAD:
        raise Conflict(_l("Only dead letters can be re-queued."))
    row.status = ReminderStatus.PENDING
    row.attempts = 0
    row.next_attempt_at = utcnow()
    row.last_error = None
    row.updated_at = utcnow()
    session.flush()
    return row


def escalated(
    session: Session, *, doctor: User, page: int, page_size: int
) -> tuple[list[tuple[Escalation, CareStep, User]], int]:
    """Steps still undone long after their reminders, for the doctor's institution."""
    patients = select(Registration.user_id).where(
        Registration.institution_id == doctor.institution_id, Registration.left_at.is_(None)
    )
    stmt: AnySelect = (
        select(Escalation, CareStep, User)
        .join(CareStep, CareStep.id == Escalation.step_id)
        .join(User, User.id == Escalation.person_id)
        .where(
            Escalation.person_id.in_(patients),
            Escalation.resolved_at.is_(None),
            CareStep.state == StepState.PENDING,
        )
        .order_by(CareStep.due_on, Escalation.id)
    )
    return paginate_rows(session, stmt, page=page, page_size=page_size)


def effectiveness(session: Session, *, since: dt.date, until: dt.date) -> dict[str, Any]:
    """Per reminder kind, channel and institution: delivered, and done within the window.

    Next to it, the share of steps due in the period that were done on time (by due_on), so the
    city can tell which nudges help families get their checks.
    """
    start = dt.datetime.combine(since, dt.time(), dt.UTC)
    end = dt.datetime.combine(until + dt.timedelta(days=1), dt.time(), dt.UTC)
    helped = case(
        (and_(CareStep.state == StepState.DONE, CareStep.done_on <= Reminder.effect_deadline), 1)
    )
    rows = session.execute(
        select(
            Reminder.kind,
            Reminder.channel,
            Institution.id,
            Institution.name,
            func.count(),
            func.count(helped),
        )
        .join(CareStep, CareStep.id == Reminder.source_id)
        .outerjoin(
            Registration,
            and_(Registration.user_id == Reminder.recipient_id, Registration.left_at.is_(None)),
        )
        .outerjoin(Institution, Institution.id == Registration.institution_id)
        .where(
            Reminder.source_type == "care_step",
            Reminder.status == ReminderStatus.DELIVERED,
            Reminder.delivered_at >= start,
            Reminder.delivered_at < end,
        )
        .group_by(Reminder.kind, Reminder.channel, Institution.id, Institution.name)
        .order_by(Reminder.kind, Reminder.channel, Institution.name)
    ).all()
    on_time = session.execute(
        select(
            func.count(),
            func.count(
                case(
                    (and_(CareStep.state == StepState.DONE, CareStep.done_on <= CareStep.due_on), 1)
                )
            ),
        ).where(
            CareStep.due_on >= since,
            CareStep.due_on <= until,
            CareStep.state.in_([StepState.DONE, StepState.PENDING]),
        )
    ).one()
    return {
        "since": since,
        "until": until,
        "groups": [
            {
                "kind": kind,
                "channel": channel,
                "institution_id": inst_id,
                "institution_name": inst_name,
                "delivered": delivered,
                "done_within": done,
                "rate": round(done / delivered, 4) if delivered else None,
            }
            for kind, channel, inst_id, inst_name, delivered, done in rows
        ],
        "steps_due": on_time[0],
        "steps_done_on_time": on_time[1],
        "on_time_rate": round(on_time[1] / on_time[0], 4) if on_time[0] else None,
    }


def lag_and_dead(session: Session, *, now: dt.datetime | None = None) -> dict[str, Any]:
    """Dispatcher lag (age of the oldest due, undelivered reminder) and the dead-letter count."""
    now = now or utcnow()
    oldest = session.scalar(
        select(func.min(Reminder.next_attempt_at)).where(
            or_(
                Reminder.status == ReminderStatus.PENDING, Reminder.status == ReminderStatus.CLAIMED
            ),
            Reminder.next_attempt_at <= now,
        )
    )
    dead = (
        session.scalar(
            select(func.count()).select_from(Reminder).where(Reminder.status == ReminderStatus.DEAD)
        )
        or 0
    )
    if oldest is not None and oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=dt.UTC)
    lag = (now - oldest).total_seconds() if oldest is not None else 0.0
    return {"dispatcher_lag_seconds": round(max(lag, 0.0), 1), "dead_letters": dead}
