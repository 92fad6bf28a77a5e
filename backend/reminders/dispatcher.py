"""The dispatcher: claim due reminders in batches, deliver them, record the outcome.

At-least-once, shown once: a reminder is claimed with a lease inside a transaction
(PostgreSQL: FOR UPDATE SKIP LOCKED, so several dispatchers share the work; SQLite: one atomic
UPDATE, one dispatcher). Each reminder is then delivered and marked in its own transaction: the
inbox row is unique per reminder, so a crash between delivery and commit can only cause a
retry, never a second message in the inbox; gateways get the same Idempotency-Key on retries.
A claim whose dispatcher died is taken again when its lease runs out.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import socket
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from babel.dates import format_date
from flask_babel import force_locale
from sqlalchemy import and_, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend import clock
from backend.auth.models import User
from backend.care.models import CareStep, StepState
from backend.care.protocols import ProtocolSet
from backend.db import utcnow
from backend.i18n import _, catalog_name
from backend.reminders import channels
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
from backend.reminders.service import preferences_of


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
        )


# --- claiming -----------------------------------------------------------------------------------


def _claimable(now: dt.datetime) -> Any:
    return or_(
        and_(Reminder.status == ReminderStatus.PENDING, Reminder.next_attempt_at <= now),
        and_(Reminder.status == ReminderStatus.CLAIMED, Reminder.lease_until < now),
    )


def claim(
    session: Session, *, worker: str, limit: int, lease_seconds: int, now: dt.datetime | None = None
) -> list[uuid.UUID]:
    """Claim up to `limit` due reminders for `worker` and commit; returns their ids."""
    now = now or utcnow()
    lease = now + dt.timedelta(seconds=lease_seconds)
    due = _claimable(now)
    if session.get_bind().dialect.name == "postgresql":
        rows = session.scalars(
            select(Reminder)
            .where(due)
            .order_by(Reminder.next_attempt_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).all()
        for row in rows:
            row.status, row.claimed_by, row.lease_until = ReminderStatus.CLAIMED, worker, lease
        ids = [row.id for row in rows]
    else:
        # SQLite serialises writers: one UPDATE claims atomically (a single dispatcher is the
        # supported set-up there).
        subquery = (
            select(Reminder.id)
            .where(due)
            .order_by(Reminder.next_attempt_at)
            .limit(limit)
            .scalar_subquery()
        )
        session.execute(
            update(Reminder)
            .where(Reminder.id.in_(subquery), due)
            .values(status=ReminderStatus.CLAIMED, claimed_by=worker, lease_until=lease)
            .execution_options(synchronize_session=False)
        )
        ids = list(
            session.scalars(
                select(Reminder.id).where(
                    Reminder.claimed_by == worker,
                    Reminder.status == ReminderStatus.CLAIMED,
                    Reminder.lease_until == lease,
                )
            )
        )
    session.commit()
    return ids


def release(session: Session, *, worker: str, ids: list[uuid.UUID] | None = None) -> int:
    """Give back claims this worker will not process (graceful stop)."""
    stmt = update(Reminder).where(
        Reminder.claimed_by == worker, Reminder.status == ReminderStatus.CLAIMED
    )
    if ids is not None:
        stmt = stmt.where(Reminder.id.in_(ids))
    result = session.execute(
        stmt.values(
            status=ReminderStatus.PENDING, claimed_by=None, lease_until=None
        ).execution_options(synchronize_session=False)
    )
    session.commit()
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


# --- rendering ----------------------------------------------------------------------------------


def _date(value: str, locale: str) -> str:
    return format_date(
        dt.date.fromisoformat(value),
        format="long",
        locale="zh_Hans_CN" if locale == "zh_CN" else locale,
    )


def render(
    session: Session,
    reminder: Reminder,
    *,
    recipient: User,
    step: CareStep | None,
    ctx: Context,
) -> channels.Message:
    """The message in the recipient's locale, rendered now (not when it was planned)."""
    locale = catalog_name(recipient.locale or ctx.default_locale)
    with force_locale("zh_Hans_CN" if locale == "zh_CN" else locale):
        data: dict[str, Any] = dict(reminder.params)
        if step is not None:
            item = ctx.protocols.item(step.code, on=step.opens_on)
            name = item.title.get(locale) or item.title.get("zh_CN") or step.code
            dates = {
                "opens": _date(step.opens_on.isoformat(), locale),
                "due": _date(step.due_on.isoformat(), locale),
                "closes": _date(step.closes_on.isoformat(), locale),
            }
            data |= {
                "step_id": str(step.id),
                "subject_kind": step.subject_kind,
                "subject_id": str(step.subject_id),
            }
            title, body = {
                ReminderKind.STEP_BEFORE: (
                    _("Coming up: %(name)s", name=name),
                    _(
                        "%(name)s opens on %(opens)s. Book it with your health centre.",
                        name=name,
                        **dates,
                    ),
                ),
                ReminderKind.STEP_DUE: (
                    _("Due now: %(name)s", name=name),
                    _("Now is the time for %(name)s, by %(due)s.", name=name, **dates),
                ),
                ReminderKind.STEP_NUDGE: (
                    _("Still to do: %(name)s", name=name),
                    _(
                        "%(name)s was due on %(due)s. You can still do it until %(closes)s.",
                        name=name,
                        **dates,
                    ),
                ),
                ReminderKind.STEP_ESCALATION: (
                    _("Long overdue: %(name)s", name=name),
                    _("%(name)s was due on %(due)s and is still not done.", name=name, **dates),
                ),
            }[ReminderKind(reminder.kind)]
        elif reminder.kind == ReminderKind.LESSON_NEW:
            title = _("New for you: %(title)s", title=_lesson_title(session, data, locale))
            body = _("A new lesson for your stage is ready to read.")
        else:
            title = _("Folic acid today")
            body = _("Time for your folic acid. Tick it off once you have taken it.")
    return channels.Message(str(reminder.id), reminder.kind, str(title), str(body), locale, data)


def _lesson_title(session: Session, data: Mapping[str, Any], locale: str) -> str:
    """The lesson's title in her language (the lesson may have changed since planning)."""
    if "lesson_id" not in data:
        return str(data.get("title", ""))
    from backend.education.models import LessonVariant, LessonVersion

    rows = session.execute(
        select(LessonVariant.locale, LessonVariant.title)
        .join(LessonVersion, LessonVersion.id == LessonVariant.version_id)
        .where(
            LessonVersion.lesson_id == uuid.UUID(data["lesson_id"]),
            LessonVersion.status == "published",
        )
    ).all()
    titles = dict(rows)
    return str(titles.get(locale) or titles.get("zh_CN") or data.get("slug", ""))


# --- delivery -----------------------------------------------------------------------------------


def _still_needed(
    session: Session, reminder: Reminder, today: dt.date
) -> tuple[bool, CareStep | None]:
    """Re-check at send time: the step still pending, the day not ticked off."""
    if reminder.source_type == "care_step":
        step = session.get(CareStep, reminder.source_id)
        if step is None or step.state != StepState.PENDING:
            return False, step
        if reminder.kind != ReminderKind.STEP_ESCALATION and today > step.closes_on:
            return False, step
        return True, step
    if reminder.source_type == "regimen":
        from backend.regimens import service as regimen_service
        from backend.regimens.models import Regimen

        regimen = session.get(Regimen, reminder.source_id)
        day = dt.date.fromisoformat(reminder.params["day"])
        if regimen is None:
            return False, None
        return day in regimen_service.reminder_dates(regimen, today=day, horizon_days=0), None
    return True, None


def _backoff(attempts: int, rules: Rules) -> dt.timedelta:
    base = min(rules.backoff_seconds * 2 ** max(attempts - 1, 0), rules.backoff_max_seconds)
    return dt.timedelta(seconds=base * (1 + random.uniform(-rules.jitter, rules.jitter)))


def _inbox(session: Session, reminder: Reminder, message: channels.Message) -> bool:
    """Put the message in the in-app inbox once; False when it is already there."""
    exists = session.scalar(select(Notification.id).where(Notification.reminder_id == reminder.id))
    if exists is not None:
        return False
    session.add(
        Notification(
            user_id=reminder.recipient_id,
            reminder_id=reminder.id,
            kind=reminder.kind,
            title=message.title,
            body=message.body,
            locale=message.locale,
            data=dict(message.data),
        )
    )
    session.flush()
    return True


def _external(
    session: Session,
    *,
    reminder: Reminder,
    recipient: User,
    channel: str,
    message: channels.Message,
    ctx: Context,
) -> str | None:
    """Try one external channel; None when it does not apply to her (falls through)."""
    from backend.access.service import has_consent

    if not ctx.webhook_url or not has_consent(
        session, user_id=recipient.id, purpose="reminders", channel=channel
    ):
        return None
    if channel == "sms":
        if not recipient.phone:
            return None
        return channels.post_webhook(
            url=ctx.webhook_url,
            secret=ctx.webhook_secret,
            timeout=ctx.webhook_timeout,
            channel="sms",
            message=message,
            recipient={"phone": recipient.phone},
        )
    if channel == "miniprogram":
        template = ctx.rules.miniprogram_templates.get(reminder.kind)
        if not recipient.miniprogram_openid or not template:
            return None
        opt_in = session.get(
            MiniprogramOptIn,
            (recipient.id, template),
            with_for_update=session.get_bind().dialect.name == "postgresql",
        )
        if opt_in is None or opt_in.remaining <= 0:
            return None  # no one-time subscription left: fall back to the next channel
        detail = channels.post_webhook(
            url=ctx.webhook_url,
            secret=ctx.webhook_secret,
            timeout=ctx.webhook_timeout,
            channel="miniprogram",
            message=message,
            template_id=template,
            recipient={"openid": recipient.miniprogram_openid},
        )
        opt_in.remaining -= 1
        return detail
    return None


def process(
    session: Session,
    *,
    reminder_id: uuid.UUID,
    worker: str,
    ctx: Context,
    now: dt.datetime | None = None,
) -> str:
    """Deliver one claimed reminder and commit; returns the outcome."""
    now = now or utcnow()
    # populate_existing: the claim was a Core UPDATE; never trust a stale object in the session.
    stmt = (
        select(Reminder).where(Reminder.id == reminder_id).execution_options(populate_existing=True)
    )
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    reminder = session.scalars(stmt).first()
    if (
        reminder is None
        or reminder.status != ReminderStatus.CLAIMED
        or (reminder.claimed_by != worker)
    ):
        session.rollback()
        return "skipped"
    recipient = session.get(User, reminder.recipient_id)
    assert recipient is not None
    today = clock.today(recipient.timezone, ctx.default_tz)
    needed, step = _still_needed(session, reminder, today)
    if not needed:
        reminder.status = ReminderStatus.CANCELLED
        reminder.updated_at = now
        session.commit()
        return "cancelled"
    message = render(session, reminder, recipient=recipient, step=step, ctx=ctx)
    attempt = reminder.attempts + 1
    delivered_on: str | None = None
    failures: list[str] = []
    if reminder.kind == ReminderKind.STEP_ESCALATION:
        if (
            session.scalar(select(Escalation.id).where(Escalation.step_id == reminder.source_id))
            is None
        ):
            session.add(Escalation(step_id=reminder.source_id, person_id=reminder.recipient_id))
        delivered_on = "worklist"
    else:
        prefs = preferences_of(session.get(ReminderPreference, recipient.id), ctx.rules)
        if _inbox(session, reminder, message):
            session.add(
                Delivery(
                    reminder_id=reminder.id,
                    attempt=attempt,
                    channel="inbox",
                    ok=True,
                    worker=worker,
                )
            )
        for channel in prefs.channels:
            if channel == "inbox":
                continue
            try:
                detail = _external(
                    session,
                    reminder=reminder,
                    recipient=recipient,
                    channel=channel,
                    message=message,
                    ctx=ctx,
                )
            except channels.ChannelError as exc:
                failures.append(f"{channel}: {exc}")
                session.add(
                    Delivery(
                        reminder_id=reminder.id,
                        attempt=attempt,
                        channel=channel,
                        ok=False,
                        detail=str(exc)[:500],
                        worker=worker,
                    )
                )
                continue
            if detail is not None:
                session.add(
                    Delivery(
                        reminder_id=reminder.id,
                        attempt=attempt,
                        channel=channel,
                        ok=True,
                        detail=detail,
                        worker=worker,
                    )
                )
                delivered_on = channel
                break
        delivered_on = delivered_on or (None if failures else "inbox")
    reminder.attempts = attempt
    reminder.updated_at = now
    reminder.claimed_by, reminder.lease_until = None, None
    if delivered_on is not None:
        reminder.status = ReminderStatus.DELIVERED
        reminder.delivered_at = now
        reminder.channel = delivered_on
        reminder.last_error = "; ".join(failures)[:500] or None
        if reminder.source_type == "care_step":
            reminder.effect_deadline = today + dt.timedelta(days=ctx.rules.effect_window_days)
        outcome = "delivered"
    elif attempt >= ctx.rules.max_attempts:
        reminder.status = ReminderStatus.DEAD
        reminder.last_error = "; ".join(failures)[:500]
        outcome = "dead"
    else:
        reminder.status = ReminderStatus.PENDING
        reminder.next_attempt_at = now + _backoff(attempt, ctx.rules)
        reminder.last_error = "; ".join(failures)[:500]
        outcome = "retry"
    try:
        session.commit()
    except IntegrityError:
        # Another dispatcher delivered it after our lease ran out: it shows once anyway.
        session.rollback()
        return "skipped"
    return outcome


def dispatch_once(
    session: Session,
    *,
    worker: str,
    ctx: Context,
    should_stop: Callable[[], bool] = lambda: False,
    on_claimed: Callable[[list[uuid.UUID]], None] | None = None,
) -> dict[str, int]:
    """Claim one batch and deliver it; a stop request releases what is left of the batch."""
    ids = claim(session, worker=worker, limit=ctx.batch_size, lease_seconds=ctx.lease_seconds)
    if on_claimed is not None:
        on_claimed(ids)
    outcomes: dict[str, int] = {}
    for n, reminder_id in enumerate(ids):
        if should_stop():
            release(session, worker=worker, ids=ids[n:])
            break
        outcome = process(session, reminder_id=reminder_id, worker=worker, ctx=ctx)
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return outcomes
