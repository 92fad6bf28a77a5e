"""The dispatcher: claim due reminders in batches, deliver them, record the outcome, set-based.

At-least-once, shown once. A batch is claimed with a lease in one UPDATE (PostgreSQL: the ids
picked FOR UPDATE SKIP LOCKED, so several dispatchers share the work; SQLite: one dispatcher)
and committed. The batch is then read in one query that joins what the still-needed check needs
(the step, the regimen, her preferences), rendered per (kind, locale) group, and recorded with
a constant number of statements: the inbox rows in one INSERT (unique per reminder, so a retry
after a crash never shows a message twice), their deliveries in one, the statuses in one UPDATE
per outcome. That commit puts every message in the inbox before any gateway is called.
Reminders that also go out through the signed webhook (SMS, mini-program) are then sent
concurrently by a bounded pool, each with the same Idempotency-Key on every retry, and recorded
in a second transaction; a slow gateway delays only those. A claim whose dispatcher died is
taken again when its lease runs out.

The scheduled job drains: it claims batch after batch until one comes back short or its time
budget is spent. A late reminder is sent late: only the still-needed check (the step done, the
day's check-in made, the regimen over, the kind opted out) cancels it, never its age alone.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import random
import socket
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from babel.dates import format_date
from flask_babel import force_locale
from sqlalchemy import and_, select, update
from sqlalchemy.orm import Session

from backend import clock
from backend.auth.models import User
from backend.care.models import CareStep, StepState
from backend.care.protocols import ProtocolSet
from backend.db import utcnow
from backend.i18n import _, catalog_name
from backend.reminders import channels
from backend.reminders.bulk import in_ as _in
from backend.reminders.bulk import insert_rows as _insert_rows
from backend.reminders.bulk import is_postgresql as _pg
from backend.reminders.channels import Message
from backend.reminders.models import (
    Delivery,
    Escalation,
    MiniprogramOptIn,
    Notification,
    Reminder,
    ReminderKind,
    ReminderPreference,
    ReminderStatus,
)
from backend.reminders.rules import Rules
from backend.reminders.service import DEFAULT_CHANNELS


def worker_id() -> str:
    """A name for this dispatcher process, unique enough to own claims."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


@dataclass(frozen=True)
class Context:
    """What delivery needs besides the database."""

    rules: Rules
    protocols: ProtocolSet
    default_tz: str
    default_locale: str
    webhook_url: str
    webhook_secret: str
    webhook_timeout: float
    lease_seconds: int
    batch_size: int
    drain_seconds: float = 0.0
    webhook_concurrency: int = 16

    @classmethod
    def from_settings(
        cls, settings: Mapping[str, Any], *, rules: Rules, protocols: ProtocolSet
    ) -> Context:
        return cls(
            rules,
            protocols,
            settings["DEFAULT_TIMEZONE"],
            settings["DEFAULT_LOCALE"],
            settings["REMINDER_WEBHOOK_URL"],
            settings["REMINDER_WEBHOOK_SECRET"],
            float(settings["REMINDER_WEBHOOK_TIMEOUT_SECONDS"]),
            settings.get("DISPATCHER_LEASE_SECONDS") or rules.lease_seconds,
            settings.get("DISPATCHER_BATCH_SIZE") or rules.batch_size,
            float(settings.get("DISPATCHER_DRAIN_SECONDS") or rules.drain_seconds),
            int(settings.get("REMINDER_WEBHOOK_CONCURRENCY") or rules.webhook_concurrency),
        )


# --- claiming -----------------------------------------------------------------------------------


def _claim_where(session: Session, due: Any, order: Any, limit: int) -> Any:
    # A materialized CTE: PostgreSQL would otherwise re-run a LIMIT ... SKIP LOCKED subquery
    # while updating and claim more than `limit` rows.
    ids = select(Reminder.id).where(due).order_by(order).limit(limit)
    if session.get_bind().dialect.name == "postgresql":
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


# --- the batch as one read ----------------------------------------------------------------------


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


def _select_batch(session: Session, *, worker: str, ctx: Context, now: dt.datetime) -> list[Item]:
    """Take a batch of due reminders with their steps, regimens, recipients and preferences.

    PostgreSQL: one SELECT ... FOR UPDATE OF reminders SKIP LOCKED; the rows stay locked until
    the batch commits, so a crash rolls it back whole and another dispatcher takes them.
    SQLite: one UPDATE marks them claimed (taking the write lock) and one SELECT reads them.
    """
    from backend.regimens.models import Regimen

    due = and_(Reminder.status == ReminderStatus.PENDING, Reminder.next_attempt_at <= now)
    query = (
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
    )
    if _pg(session):
        # The rows picked and locked on the (status, next_attempt_at) index alone, then joined.
        query = query.where(
            _claim_where(session, due, Reminder.next_attempt_at, ctx.batch_size)
        ).order_by(Reminder.next_attempt_at)
    else:
        lease = now + dt.timedelta(seconds=ctx.lease_seconds)
        ids = session.scalars(
            update(Reminder)
            .where(_claim_where(session, due, Reminder.next_attempt_at, ctx.batch_size), due)
            .values(status=ReminderStatus.CLAIMED, claimed_by=worker, lease_until=lease)
            .returning(Reminder.id)
            .execution_options(synchronize_session=False)
        ).all()
        if not ids:
            return []
        query = query.where(Reminder.id.in_(ids)).order_by(Reminder.next_attempt_at)
    rows = session.execute(query).all()
    return [
        Item(
            id=r[0],
            recipient_id=r[1],
            kind=r[2],
            source_type=r[3],
            source_id=r[4],
            params=dict(r[5] or {}),
            attempts=r[6],
            locale=catalog_name(r[7] or ctx.default_locale),
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


def _taken_days(session: Session, items: list[Item]) -> set[tuple[uuid.UUID, dt.date]]:
    """(regimen, day) pairs of the batch with a "taken" check-in: one query."""
    from backend.regimens.models import CheckIn

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
    from backend.regimens.models import RegimenStatus

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


# --- rendering, per (kind, locale) --------------------------------------------------------------


@functools.cache
def _date(value: dt.date, locale: str) -> str:
    return format_date(value, format="long", locale="zh_Hans_CN" if locale == "zh_CN" else locale)


def _babel(locale: str) -> str:
    return "zh_Hans_CN" if locale == "zh_CN" else locale


def _templates(kind: str, locale: str) -> tuple[str, str]:
    """The title and body of a kind in a locale, translated once per group."""
    with force_locale(_babel(locale)):
        return {
            ReminderKind.STEP_BEFORE: (
                _("Coming up: %(name)s"),
                _("%(name)s opens on %(opens)s. Book it with your health centre."),
            ),
            ReminderKind.STEP_DUE: (
                _("Due now: %(name)s"),
                _("Now is the time for %(name)s, by %(due)s."),
            ),
            ReminderKind.STEP_NUDGE: (
                _("Still to do: %(name)s"),
                _("%(name)s was due on %(due)s. You can still do it until %(closes)s."),
            ),
            ReminderKind.STEP_ESCALATION: (
                _("Long overdue: %(name)s"),
                _("%(name)s was due on %(due)s and is still not done."),
            ),
            ReminderKind.LESSON_NEW: (
                _("New for you: %(title)s"),
                _("A new lesson for your stage is ready to read."),
            ),
            ReminderKind.REGIMEN_DAILY: (
                _("Folic acid today"),
                _("Time for your folic acid. Tick it off once you have taken it."),
            ),
        }[ReminderKind(kind)]


def _lesson_titles(session: Session, items: list[Item]) -> dict[uuid.UUID, dict[str, str]]:
    """Published titles per lesson and locale for the batch's lesson reminders: one query."""
    ids = {uuid.UUID(i.params["lesson_id"]) for i in items if "lesson_id" in i.params}
    if not ids:
        return {}
    from backend.education.models import LessonVariant, LessonVersion

    titles: dict[uuid.UUID, dict[str, str]] = defaultdict(dict)
    for lesson_id, locale, title in session.execute(
        select(LessonVersion.lesson_id, LessonVariant.locale, LessonVariant.title)
        .join(LessonVersion, LessonVersion.id == LessonVariant.version_id)
        .where(LessonVersion.lesson_id.in_(ids), LessonVersion.status == "published")
    ):
        titles[lesson_id][locale] = title
    return titles


def _render_all(session: Session, items: list[Item], ctx: Context) -> None:
    """Set each item's message, in her locale, rendered now (not when it was planned)."""
    lessons = _lesson_titles(session, items)
    names: dict[tuple[str, dt.date, str], str] = {}
    templates: dict[tuple[str, str], tuple[str, str]] = {}
    for item in items:
        key = (item.kind, item.locale)
        if key not in templates:
            templates[key] = _templates(item.kind, item.locale)
        title, body = templates[key]
        data = dict(item.params)
        values: dict[str, str] = {}
        if item.step is not None:
            step_id, _state, code, opens_on, due_on, closes_on, subject_kind, subject_id = item.step
            name_key = (code, opens_on, item.locale)
            if name_key not in names:
                title_of = ctx.protocols.item(code, on=opens_on).title
                names[name_key] = title_of.get(item.locale) or title_of.get("zh_CN") or code
            values = {
                "name": names[name_key],
                "opens": _date(opens_on, item.locale),
                "due": _date(due_on, item.locale),
                "closes": _date(closes_on, item.locale),
            }
            data |= {
                "step_id": str(step_id),
                "subject_kind": subject_kind,
                "subject_id": str(subject_id),
            }
        elif item.kind == ReminderKind.LESSON_NEW:
            if "lesson_id" in data:
                found = lessons.get(uuid.UUID(data["lesson_id"]), {})
                lesson = found.get(item.locale) or found.get("zh_CN") or data.get("slug", "")
            else:
                lesson = data.get("title", "")
            values = {"title": str(lesson)}
        item.message = channels.Message(
            str(item.id),
            item.kind,
            title % values,
            body % values,
            item.locale,
            data,
        )


# --- recording ----------------------------------------------------------------------------------


def _mark(
    session: Session,
    groups: Mapping[tuple[Any, ...], list[uuid.UUID]],
    *,
    worker: str | None,
    now: dt.datetime,
) -> None:
    """One UPDATE per distinct outcome: (status, channel, effect_deadline, error, retry_at);
    with `worker`, only the rows this worker still holds under its lease."""
    for (status, channel, deadline, error, retry_at), ids in groups.items():
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
        if status == ReminderStatus.PENDING:
            values["next_attempt_at"] = retry_at
        stmt = update(Reminder).where(_in(session, Reminder.id, ids))
        if worker is not None:
            stmt = stmt.where(
                Reminder.claimed_by == worker, Reminder.status == ReminderStatus.CLAIMED
            )
        session.execute(stmt.values(**values).execution_options(synchronize_session=False))


def _backoff(attempts: int, rules: Rules) -> dt.timedelta:
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
    from backend.access.models import Consent

    latest: dict[tuple[uuid.UUID, str], bool] = {}
    for user_id, channel, granted in session.execute(
        select(Consent.user_id, Consent.channel, Consent.granted)
        .where(_in(session, Consent.user_id, user_ids), Consent.purpose == "reminders")
        .order_by(Consent.at, Consent.id)
    ):
        if channel is not None:  # a consent for no channel in particular opens none
            latest[(user_id, channel)] = granted
    return {key for key, granted in latest.items() if granted}


def _external(session: Session, items: list[Item], ctx: Context) -> dict[uuid.UUID, list[str]]:
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
        if session.get_bind().dialect.name == "postgresql":
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


@dataclass
class Batch:
    """What one batch did."""

    claimed: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)

    def add(self, outcome: str, n: int = 1) -> None:
        if n:
            self.outcomes[outcome] = self.outcomes.get(outcome, 0) + n


def process_batch(
    session: Session,
    *,
    items: list[Item],
    worker: str,
    ctx: Context,
    should_stop: Callable[[], bool] = lambda: False,
    now: dt.datetime | None = None,
) -> Batch:
    """Deliver a batch taken by _select_batch with a constant number of statements: one
    transaction for the inbox, a second for what went through the gateway."""
    now = now or utcnow()
    batch = Batch(claimed=len(items))
    if not items:
        session.commit()
        return batch
    taken = _taken_days(session, items)
    todays: dict[str | None, dt.date] = {}
    for item in items:
        if item.timezone not in todays:
            todays[item.timezone] = clock.today(item.timezone, ctx.default_tz)
    needed = [i for i in items if still_needed(i, today=todays[i.timezone], taken=taken)]
    _render_all(session, needed, ctx)

    # 1. In one transaction: cancel the unneeded, put every message in the inbox, record it,
    #    and mark delivered whatever needs no gateway.
    needed_ids = {i.id for i in needed}
    cancelled = [i.id for i in items if i.id not in needed_ids]
    groups: dict[tuple[Any, ...], list[uuid.UUID]] = defaultdict(list)
    if cancelled:
        groups[(ReminderStatus.CANCELLED, None, None, None, None)] = cancelled
        batch.add("cancelled", len(cancelled))
    escalations = [i for i in needed if i.kind == ReminderKind.STEP_ESCALATION]
    messages = [i for i in needed if i.kind != ReminderKind.STEP_ESCALATION]
    _insert_rows(
        session,
        Escalation,
        [
            {
                "step_id": i.source_id,
                "person_id": i.recipient_id,
                "created_at": now,
            }
            for i in escalations
        ],
        unique="step_id",
    )
    new_inbox = set(
        _insert_rows(
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
    _insert_rows(
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
    usable = _external(session, messages, ctx)

    def deadline_of(item: Item) -> dt.date | None:
        if item.source_type != "care_step":
            return None
        return todays[item.timezone] + dt.timedelta(days=ctx.rules.effect_window_days)

    for item in needed:
        if item.id in usable:
            continue
        channel = "worklist" if item.kind == ReminderKind.STEP_ESCALATION else "inbox"
        groups[(ReminderStatus.DELIVERED, channel, deadline_of(item), None, None)].append(item.id)
    batch.add("delivered", len(needed) - len(usable))
    _mark(session, groups, worker=None, now=now)  # rows held by this transaction
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
        return batch

    # 2. The gateway: concurrently, bounded; then one more transaction records the outcomes.
    plans = _plans(session, [i for i in messages if i.id in usable], usable, ctx)
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
    groups = defaultdict(list)
    for plan, result in zip(plans, results, strict=True):
        item = plan.item
        if result is None:
            released.append(item.id)
            continue
        sent_by, made = result
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
        if sent_by == "miniprogram" and plan.opt_in is not None:
            used[plan.opt_in] += 1
        key: tuple[ReminderStatus, str | None, dt.date | None, str | None, dt.datetime | None]
        if sent_by is not None or not failures:
            key = (ReminderStatus.DELIVERED, sent_by or "inbox", deadline_of(item), error, None)
            batch.add("delivered")
        elif attempt >= ctx.rules.max_attempts:
            key = (ReminderStatus.DEAD, None, None, error, None)
            batch.add("dead")
        else:
            key = (ReminderStatus.PENDING, None, None, error, now + _backoff(attempt, ctx.rules))
            batch.add("retry")
        groups[key].append(item.id)
    _insert_rows(session, Delivery, deliveries)
    for (user_id, template), n in used.items():
        session.execute(
            update(MiniprogramOptIn)
            .where(MiniprogramOptIn.user_id == user_id, MiniprogramOptIn.template_id == template)
            .values(remaining=MiniprogramOptIn.remaining - n, updated_at=now)
        )
    _mark(session, groups, worker=worker, now=now)
    session.commit()
    if released:
        release(session, worker=worker, ids=released)
        batch.add("released", len(released))
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
    items = _select_batch(session, worker=worker, ctx=ctx, now=now)
    if should_stop():
        session.rollback()
        return {}
    return process_batch(
        session, items=items, worker=worker, ctx=ctx, should_stop=should_stop, now=now
    ).outcomes


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
        now = utcnow()
        items = _select_batch(session, worker=worker, ctx=ctx, now=now)
        if should_stop():
            session.rollback()
            break
        outcomes = process_batch(
            session, items=items, worker=worker, ctx=ctx, should_stop=should_stop, now=now
        ).outcomes
        for outcome, n in outcomes.items():
            total[outcome] = total.get(outcome, 0) + n
        if len(items) < ctx.batch_size or time.monotonic() - started >= ctx.drain_seconds:
            break
    return total
