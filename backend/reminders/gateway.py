"""The external channels (SMS, mini-program) through the signed webhook: who may get what,
the calls in a bounded pool, and their outcomes recorded in one transaction.

Every call carries the HMAC signature and the same Idempotency-Key on every retry; a failure
is retried with exponential backoff and jitter, then dead-lettered. Reminders sent here were
already put in the inbox and committed, so a slow gateway delays only these.
"""

from __future__ import annotations

import datetime as dt
import random
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from backend.access.models import Consent
from backend.reminders import channels
from backend.reminders.bulk import in_ as _in
from backend.reminders.bulk import insert_rows, is_postgresql
from backend.reminders.claims import Item, release
from backend.reminders.context import Batch, Context
from backend.reminders.marking import mark, mark_retries
from backend.reminders.models import Delivery, MiniprogramOptIn, ReminderStatus
from backend.reminders.rules import Rules


def backoff(attempts: int, rules: Rules) -> dt.timedelta:
    base = min(rules.backoff_seconds * 2 ** max(attempts - 1, 0), rules.backoff_max_seconds)
    return dt.timedelta(seconds=base * (1 + random.uniform(-rules.jitter, rules.jitter)))


@dataclass
class Plan:
    """An external send: the channels to try in her order, each with its webhook arguments."""

    item: Item
    tries: list[tuple[str, dict[str, Any]]]
    opt_in: tuple[uuid.UUID, str] | None = None


def _consents(session: Session, user_ids: set[uuid.UUID]) -> set[tuple[uuid.UUID, str]]:
    """(user, channel) pairs whose latest "reminders" consent is a grant: one query."""
    latest: dict[tuple[uuid.UUID, str], bool] = {}
    for user_id, channel, granted in session.execute(
        select(Consent.user_id, Consent.channel, Consent.granted)
        .where(_in(session, Consent.user_id, user_ids), Consent.purpose == "reminders")
        .order_by(Consent.at, Consent.id)
    ):
        if channel is not None:  # a consent for no channel in particular opens none
            latest[(user_id, channel)] = granted
    return {key for key, granted in latest.items() if granted}


def usable_channels(
    session: Session, items: list[Item], ctx: Context
) -> dict[uuid.UUID, list[str]]:
    """Reminders that may also go out through the webhook, with the channels she consented to
    and can receive on, in her order (one query)."""
    if not ctx.webhook_url:
        return {}
    wanting = [i for i in items if any(c != "inbox" for c in i.channels)]
    if not wanting:
        return {}
    consents = _consents(session, {i.recipient_id for i in wanting})
    templates = ctx.rules.miniprogram_templates
    found = {}
    for item in wanting:
        usable = [
            c
            for c in item.channels
            if (item.recipient_id, c) in consents
            and (
                (c == "sms" and item.phone)
                or (c == "miniprogram" and item.openid and templates.get(item.kind))
            )
        ]
        if usable:
            found[item.id] = usable
    return found


def _plans(
    session: Session, items: list[Item], usable: Mapping[uuid.UUID, list[str]], ctx: Context
) -> list[Plan]:
    """The webhook calls to make, in her fallback order; mini-program only while she has
    one-time opt-ins left (their rows locked until the outcome is recorded)."""
    templates = ctx.rules.miniprogram_templates
    users = {i.recipient_id for i in items if "miniprogram" in usable[i.id]}
    opt_ins: dict[tuple[uuid.UUID, str], int] = {}
    if users:
        stmt = select(MiniprogramOptIn).where(MiniprogramOptIn.user_id.in_(users))
        if is_postgresql(session):
            stmt = stmt.with_for_update()  # held while sending: one message per opt-in
        opt_ins = {(o.user_id, o.template_id): o.remaining for o in session.scalars(stmt)}
    plans = []
    for item in items:
        assert item.message is not None
        plan = Plan(item, [])
        for channel in usable[item.id]:
            common = {
                "url": ctx.webhook_url,
                "secret": ctx.webhook_secret,
                "timeout": ctx.webhook_timeout,
                "channel": channel,
                "message": item.message,
            }
            if channel == "sms":
                plan.tries.append((channel, common | {"recipient": {"phone": item.phone}}))
                continue
            key = (item.recipient_id, templates[item.kind])
            if opt_ins.get(key, 0) <= 0:
                continue  # no one-time subscription left: fall back to the next channel
            opt_ins[key] -= 1
            plan.opt_in = key
            plan.tries.append(
                (channel, common | {"template_id": key[1], "recipient": {"openid": item.openid}})
            )
        plans.append(plan)
    return plans


def _send(plan: Plan) -> tuple[str | None, list[tuple[str, bool, str]]]:
    """Try her channels in order until one takes it: (channel or None, attempts made)."""
    made = []
    for channel, kwargs in plan.tries:
        try:
            detail = channels.post_webhook(**kwargs)
        except channels.ChannelError as exc:
            made.append((channel, False, str(exc)[:500]))
            continue
        made.append((channel, True, detail))
        return channel, made
    return None, made


def send_and_record(
    session: Session,
    *,
    items: list[Item],
    usable: Mapping[uuid.UUID, list[str]],
    deadline_of: Callable[[Item], dt.date | None],
    worker: str,
    ctx: Context,
    batch: Batch,
    should_stop: Callable[[], bool],
    now: dt.datetime,
) -> None:
    """Call the gateway for reminders held under this worker's lease (concurrently, bounded),
    then record every outcome in one transaction: deliveries in one INSERT, the statuses in
    one UPDATE per outcome (delivered, dead) and one for the retries, each
    at its own jittered backoff; a stop gives the rest back."""
    plans = _plans(session, items, usable, ctx)
    started = time.monotonic()
    budget = ctx.lease_seconds / 2

    def send(plan: Plan) -> tuple[str | None, list[tuple[str, bool, str]]] | None:
        if should_stop() or time.monotonic() - started > budget:
            return None  # released: sent by the next claim, under the same Idempotency-Key
        return _send(plan)

    with ThreadPoolExecutor(max_workers=max(1, min(ctx.webhook_concurrency, len(plans)))) as pool:
        results = list(pool.map(send, plans))
    deliveries: list[dict[str, Any]] = []
    released: list[uuid.UUID] = []
    used: dict[tuple[uuid.UUID, str], int] = defaultdict(int)
    groups: dict[tuple[Any, ...], list[uuid.UUID]] = defaultdict(list)
    retries: list[tuple[uuid.UUID, str | None, dt.datetime]] = []
    for plan, result in zip(plans, results, strict=True):
        item = plan.item
        if result is None:
            released.append(item.id)
            continue
        channel, made = result
        attempt = item.attempts + 1
        deliveries += [
            {
                "reminder_id": item.id,
                "attempt": attempt,
                "channel": ch,
                "ok": ok,
                "detail": detail,
                "worker": worker,
                "at": now,
            }
            for ch, ok, detail in made
        ]
        failures = [f"{ch}: {detail}" for ch, ok, detail in made if not ok]
        error = "; ".join(failures)[:500] or None
        key: tuple[ReminderStatus, str | None, dt.date | None, str | None]
        if channel == "miniprogram" and plan.opt_in is not None:
            used[plan.opt_in] += 1
        if channel is not None or not failures:
            key = (ReminderStatus.DELIVERED, channel or "inbox", deadline_of(item), error)
            batch.add("delivered")
        elif attempt >= ctx.rules.max_attempts:
            key = (ReminderStatus.DEAD, None, None, error)
            batch.add("dead")
        else:
            retries.append((item.id, error, now + backoff(attempt, ctx.rules)))
            batch.add("retry")
            continue
        groups[key].append(item.id)
    insert_rows(session, Delivery, deliveries)
    for (user_id, template), n in used.items():
        session.execute(
            update(MiniprogramOptIn)
            .where(MiniprogramOptIn.user_id == user_id, MiniprogramOptIn.template_id == template)
            .values(remaining=MiniprogramOptIn.remaining - n, updated_at=now)
        )
    mark(session, groups, worker=worker, now=now)
    mark_retries(session, retries, worker=worker, now=now)
    session.commit()
    if released:
        release(session, worker=worker, ids=released)
        batch.add("released", len(released))
