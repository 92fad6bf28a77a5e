"""Claiming due reminders: the lease, its expiry, giving claims back, and the batch read.

PostgreSQL picks the ids FOR UPDATE SKIP LOCKED in a materialized CTE on the
(status, next_attempt_at) index, so several dispatchers share the work; SQLite (one
dispatcher) marks them claimed in one UPDATE, which takes its write lock.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, select, update
from sqlalchemy.orm import Session

from backend.auth.models import User
from backend.care.models import CareStep
from backend.db import utcnow
from backend.i18n import catalog_name
from backend.regimens.models import Regimen
from backend.reminders.bulk import in_ as _in
from backend.reminders.bulk import is_postgresql as _pg
from backend.reminders.channels import Message
from backend.reminders.models import Reminder, ReminderPreference, ReminderStatus
from backend.reminders.preferences import DEFAULT_CHANNELS


def claim_where(session: Session, due: Any, order: Any, limit: int) -> Any:
    """`Reminder.id IN (the next `limit` due ids)`, skipping rows locked by another dispatcher."""
    # A materialized CTE: PostgreSQL would otherwise re-run a LIMIT ... SKIP LOCKED subquery
    # while updating and claim more than `limit` rows.
    ids = select(Reminder.id).where(due).order_by(order).limit(limit)
    if _pg(session):
        ids = ids.with_for_update(skip_locked=True)
    picked = ids.cte("picked").prefix_with("MATERIALIZED")
    return Reminder.id.in_(select(picked.c.id))


def requeue_expired(session: Session, *, now: dt.datetime | None = None) -> int:
    """Put back reminders whose lease ran out (their dispatcher died while sending through the
    gateway) and commit; index-friendly (status, next_attempt_at)."""
    now = now or utcnow()
    result = session.execute(
        update(Reminder)
        .where(Reminder.status == ReminderStatus.CLAIMED, Reminder.lease_until < now)
        .values(status=ReminderStatus.PENDING, claimed_by=None, lease_until=None)
        .execution_options(synchronize_session=False)
    )
    session.commit()
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def release(session: Session, *, worker: str, ids: Iterable[uuid.UUID] | None = None) -> int:
    """Give back claims this worker will not process (graceful stop)."""
    stmt = update(Reminder).where(
        Reminder.claimed_by == worker, Reminder.status == ReminderStatus.CLAIMED
    )
    if ids is not None:
        stmt = stmt.where(_in(session, Reminder.id, ids))
    result = session.execute(
        stmt.values(
            status=ReminderStatus.PENDING, claimed_by=None, lease_until=None
        ).execution_options(synchronize_session=False)
    )
    session.commit()
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


@dataclass
class Item:
    """One claimed reminder with what the still-needed check, rendering and channels need."""

    id: uuid.UUID
    recipient_id: uuid.UUID
    kind: str
    source_type: str
    source_id: uuid.UUID
    params: dict[str, Any]
    attempts: int
    locale: str
    timezone: str | None
    phone: str | None
    openid: str | None
    channels: list[str]
    opted_out: list[str]
    step: Any = None  # (id, state, code, opens_on, due_on, closes_on, subject_kind, subject_id)
    regimen: Any = None  # (status, starts_on, ends_on)
    message: Message | None = None


def _batch_query() -> Any:
    return (
        select(
            Reminder.id,
            Reminder.recipient_id,
            Reminder.kind,
            Reminder.source_type,
            Reminder.source_id,
            Reminder.params,
            Reminder.attempts,
            User.locale,
            User.timezone,
            User.phone,
            User.miniprogram_openid,
            ReminderPreference.channels,
            ReminderPreference.opted_out,
            CareStep.id,
            CareStep.state,
            CareStep.code,
            CareStep.opens_on,
            CareStep.due_on,
            CareStep.closes_on,
            CareStep.subject_kind,
            CareStep.subject_id,
            Regimen.status,
            Regimen.starts_on,
            Regimen.ends_on,
        )
        .join(User, User.id == Reminder.recipient_id)
        .outerjoin(ReminderPreference, ReminderPreference.user_id == Reminder.recipient_id)
        .outerjoin(
            CareStep, and_(Reminder.source_type == "care_step", CareStep.id == Reminder.source_id)
        )
        .outerjoin(
            Regimen, and_(Reminder.source_type == "regimen", Regimen.id == Reminder.source_id)
        )
        .order_by(Reminder.next_attempt_at)
    )


def _items(rows: Iterable[Any], default_locale: str) -> list[Item]:
    return [
        Item(
            id=r[0],
            recipient_id=r[1],
            kind=r[2],
            source_type=r[3],
            source_id=r[4],
            params=dict(r[5] or {}),
            attempts=r[6],
            locale=catalog_name(r[7] or default_locale),
            timezone=r[8],
            phone=r[9],
            openid=r[10],
            channels=list(r[11]) if r[11] is not None else list(DEFAULT_CHANNELS),
            opted_out=list(r[12] or []),
            step=r[13:21] if r[13] is not None else None,
            regimen=r[21:24] if r[21] is not None else None,
        )
        for r in rows
    ]


def select_batch(
    session: Session,
    *,
    worker: str,
    batch_size: int,
    lease_seconds: int,
    default_locale: str,
    now: dt.datetime,
) -> list[Item]:
    """Take a batch of due reminders with their steps, regimens, recipients and preferences.

    PostgreSQL: one SELECT ... FOR UPDATE OF reminders SKIP LOCKED; the rows stay locked until
    the batch commits, so a crash rolls it back whole and another dispatcher takes them.
    SQLite: one UPDATE marks them claimed (taking the write lock) and one SELECT reads them.
    """
    due = and_(Reminder.status == ReminderStatus.PENDING, Reminder.next_attempt_at <= now)
    query = _batch_query()
    if _pg(session):
        # The rows picked and locked on the (status, next_attempt_at) index alone, then joined.
        query = query.where(claim_where(session, due, Reminder.next_attempt_at, batch_size))
    else:
        lease = now + dt.timedelta(seconds=lease_seconds)
        ids = session.scalars(
            update(Reminder)
            .where(claim_where(session, due, Reminder.next_attempt_at, batch_size), due)
            .values(status=ReminderStatus.CLAIMED, claimed_by=worker, lease_until=lease)
            .returning(Reminder.id)
            .execution_options(synchronize_session=False)
        ).all()
        if not ids:
            return []
        query = query.where(Reminder.id.in_(ids))
    return _items(session.execute(query), default_locale)


def read_held(session: Session, ids: list[uuid.UUID], *, default_locale: str) -> list[Item]:
    """The batch rows of reminders this transaction already holds (one query)."""
    if not ids:
        return []
    query = _batch_query().where(_in(session, Reminder.id, ids))
    return _items(session.execute(query), default_locale)
