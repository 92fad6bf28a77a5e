"""The dispatcher: claim due reminders in batches, deliver them, record the outcome, set-based.

At-least-once, shown once. On PostgreSQL a batch for the inbox is one statement
(backend/reminders/inbox_sql.py): claimed FOR UPDATE SKIP LOCKED so several dispatchers share
the work, checked, rendered and recorded in the database. What also goes through the signed
webhook (SMS, mini-program), and SQLite's whole batch, take the Python path
(backend/reminders/recording.py) with the same rules: every message in the inbox and committed
before any gateway is called, then the gateway calls in a bounded pool under a lease, each with
the same Idempotency-Key on every retry (backend/reminders/gateway.py); a slow gateway delays
only those. A claim whose dispatcher died is taken again when its lease runs out.

The scheduled job drains: it claims batch after batch until one comes back short or its time
budget is spent. A late reminder is sent late: only the still-needed check (the step done, the
day's check-in made, the regimen over, the kind opted out) cancels it, never its age alone.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import time
import uuid
from collections.abc import Callable

from sqlalchemy.orm import Session

from backend.db import utcnow
from backend.reminders.bulk import is_postgresql
from backend.reminders.claims import read_held, requeue_expired, select_batch
from backend.reminders.context import Batch, Context
from backend.reminders.inbox_sql import claim_and_deliver
from backend.reminders.recording import process_items

__all__ = ["Batch", "Context", "dispatch_once", "drain", "worker_id"]


def worker_id() -> str:
    """A name for this dispatcher process, unique enough to own claims."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def _batch(
    session: Session,
    *,
    worker: str,
    ctx: Context,
    should_stop: Callable[[], bool],
    now: dt.datetime,
) -> Batch | None:
    """Claim and deliver one batch; None when a stop came before anything was recorded."""
    if is_postgresql(session):
        done = claim_and_deliver(session, worker=worker, ctx=ctx, now=now)
        if should_stop():
            session.rollback()
            return None
        batch = Batch(claimed=done.claimed)
        batch.add("cancelled", done.cancelled)
        batch.add("delivered", done.delivered)
        items = read_held(session, done.left, default_locale=ctx.default_locale)
    else:
        items = select_batch(
            session,
            worker=worker,
            batch_size=ctx.batch_size,
            lease_seconds=ctx.lease_seconds,
            default_locale=ctx.default_locale,
            now=now,
        )
        if should_stop():
            session.rollback()
            return None
        batch = Batch(claimed=len(items))
    process_items(
        session, items=items, worker=worker, ctx=ctx, batch=batch, should_stop=should_stop, now=now
    )
    return batch


def dispatch_once(
    session: Session,
    *,
    worker: str,
    ctx: Context,
    should_stop: Callable[[], bool] = lambda: False,
    now: dt.datetime | None = None,
) -> dict[str, int]:
    """Take one batch and deliver it; a stop request gives back what was not sent."""
    now = now or utcnow()
    requeue_expired(session, now=now)
    batch = _batch(session, worker=worker, ctx=ctx, should_stop=should_stop, now=now)
    return batch.outcomes if batch is not None else {}


def drain(
    session: Session,
    *,
    worker: str,
    ctx: Context,
    should_stop: Callable[[], bool] = lambda: False,
) -> dict[str, int]:
    """Take and deliver batch after batch until one comes back short, the time budget
    (`drain_seconds`) is spent, or a stop is requested; the outcomes summed."""
    started = time.monotonic()
    requeue_expired(session)
    total: dict[str, int] = {}
    while not should_stop():
        batch = _batch(session, worker=worker, ctx=ctx, should_stop=should_stop, now=utcnow())
        if batch is None:
            break
        for outcome, n in batch.outcomes.items():
            total[outcome] = total.get(outcome, 0) + n
        if batch.claimed < ctx.batch_size or time.monotonic() - started >= ctx.drain_seconds:
            break
    return total
