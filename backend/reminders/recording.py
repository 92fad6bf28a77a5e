"""A claimed batch in Python: check, render, record; then the gateway for what needs it.

SQLite's whole path, and on PostgreSQL the reminders the set-based statement leaves to Python
(those that may go by SMS or mini-program, lesson news, a locale without a SQL template). A
constant number of statements per batch: the inbox rows in one INSERT (unique per reminder, so
a retry after a crash never shows a message twice), their deliveries in one, the statuses in
one UPDATE per outcome; that commit puts every message in the inbox before any gateway call.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from backend import clock
from backend.reminders.bulk import in_ as _in
from backend.reminders.bulk import insert_rows
from backend.reminders.claims import Item
from backend.reminders.context import Batch, Context
from backend.reminders.gateway import send_and_record, usable_channels
from backend.reminders.marking import mark
from backend.reminders.models import (
    Delivery,
    Escalation,
    Notification,
    Reminder,
    ReminderKind,
    ReminderStatus,
)
from backend.reminders.needed import still_needed, taken_days
from backend.reminders.rendering import render_all


def process_items(
    session: Session,
    *,
    items: list[Item],
    worker: str,
    ctx: Context,
    batch: Batch,
    should_stop: Callable[[], bool] = lambda: False,
    now: dt.datetime,
) -> None:
    """Deliver claimed items: one transaction for the inbox, a second for the gateway."""
    if not items:
        session.commit()
        return
    taken = taken_days(session, items)
    todays: dict[str | None, dt.date] = {}
    for item in items:
        if item.timezone not in todays:
            todays[item.timezone] = clock.today(item.timezone, ctx.default_tz)
    needed = [i for i in items if still_needed(i, today=todays[i.timezone], taken=taken)]
    render_all(session, needed, ctx.protocols)

    # 1. In one transaction: cancel the unneeded, put every message in the inbox, record it,
    #    and mark delivered whatever needs no gateway.
    needed_ids = {i.id for i in needed}
    cancelled = [i.id for i in items if i.id not in needed_ids]
    groups: dict[tuple[Any, ...], list[uuid.UUID]] = defaultdict(list)
    if cancelled:
        groups[(ReminderStatus.CANCELLED, None, None, None)] = cancelled
        batch.add("cancelled", len(cancelled))
    escalations = [i for i in needed if i.kind == ReminderKind.STEP_ESCALATION]
    messages = [i for i in needed if i.kind != ReminderKind.STEP_ESCALATION]
    insert_rows(
        session,
        Escalation,
        [
            {"step_id": i.source_id, "person_id": i.recipient_id, "created_at": now}
            for i in escalations
        ],
        unique="step_id",
    )
    new_inbox = set(
        insert_rows(
            session,
            Notification,
            [
                {
                    "user_id": i.recipient_id,
                    "reminder_id": i.id,
                    "kind": i.kind,
                    "title": i.message.title[:200],  # type: ignore[union-attr]
                    "body": i.message.body[:1000],  # type: ignore[union-attr]
                    "locale": i.locale,
                    "data": dict(i.message.data),  # type: ignore[union-attr]
                    "created_at": now,
                }
                for i in messages
            ],
            unique="reminder_id",
            returning="reminder_id",
        )
    )
    insert_rows(
        session,
        Delivery,
        [
            {
                "reminder_id": i.id,
                "attempt": i.attempts + 1,
                "channel": "inbox",
                "ok": True,
                "detail": None,
                "worker": worker,
                "at": now,
            }
            for i in messages
            if i.id in new_inbox
        ],
    )
    usable = usable_channels(session, messages, ctx)

    def deadline_of(item: Item) -> dt.date | None:
        if item.source_type != "care_step":
            return None
        return todays[item.timezone] + dt.timedelta(days=ctx.rules.effect_window_days)

    for item in needed:
        if item.id in usable:
            continue
        channel = "worklist" if item.kind == ReminderKind.STEP_ESCALATION else "inbox"
        groups[(ReminderStatus.DELIVERED, channel, deadline_of(item), None)].append(item.id)
    batch.add("delivered", len(needed) - len(usable))
    mark(session, groups, worker=None, now=now)  # rows held by this transaction
    if usable:  # held under a lease while the gateway is called, outside any transaction
        session.execute(
            update(Reminder)
            .where(_in(session, Reminder.id, usable))
            .values(
                status=ReminderStatus.CLAIMED,
                claimed_by=worker,
                lease_until=now + dt.timedelta(seconds=ctx.lease_seconds),
            )
            .execution_options(synchronize_session=False)
        )
    session.commit()
    if not usable:
        return

    # 2. The gateway: concurrently, bounded; then one more transaction records the outcomes.
    send_and_record(
        session,
        items=[i for i in messages if i.id in usable],
        usable=usable,
        deadline_of=deadline_of,
        worker=worker,
        ctx=ctx,
        batch=batch,
        should_stop=should_stop,
        now=now,
    )
