"""Reminder planning, preferences, the inbox, opt-ins, dead letters and effectiveness.

Planning is incremental and idempotent: every reminder has one key (recipient + source +
occurrence); re-planning after a change computes the wanted set, inserts what is new, moves
what changed, and cancels what is obsolete. Nothing is planned for an instant already past, so
a late registrant gets no reminders for closed windows.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session

from backend import clock
from backend.auth.models import Institution, Registration, User
from backend.care.models import CareStep, StepState
from backend.care.protocols import ProtocolSet
from backend.db import utcnow
from backend.errors import Conflict, NotFound, invalid
from backend.i18n import _l
from backend.paging import AnySelect, paginate, paginate_rows, window
from backend.reminders import bulk
from backend.reminders.models import (
    Escalation,
    MiniprogramOptIn,
    Notification,
    Reminder,
    ReminderKind,
    ReminderPreference,
    ReminderStatus,
)
from backend.reminders.rules import Rules

CHANNELS = ("miniprogram", "sms", "inbox")
DEFAULT_CHANNELS = ["miniprogram", "sms", "inbox"]
DEFAULT_OPTED_OUT = ["lesson_new"]
# Nothing new is planned for an instant more than this far in the past (a late registrant gets
# no stream of stale reminders); a reminder already planned is never cancelled for its age.
GRACE = dt.timedelta(hours=1)
STEP_KIND = {
    "before": ReminderKind.STEP_BEFORE,
    "due": ReminderKind.STEP_DUE,
    "nudge_1": ReminderKind.STEP_NUDGE,
    "nudge_2": ReminderKind.STEP_NUDGE,
    "escalation": ReminderKind.STEP_ESCALATION,
}


# --- time: her day, her send time, her quiet hours ------------------------------------------


def after_quiet_hours(local: dt.datetime, start: dt.time, end: dt.time) -> dt.datetime:
    """Move a local instant that falls in the quiet hours to their end."""
    t = local.time()
    if start == end:
        return local
    if start > end:  # overnight, e.g. 21:00-08:00
        if t >= start:
            return dt.datetime.combine(local.date() + dt.timedelta(days=1), end, local.tzinfo)
        if t < end:
            return dt.datetime.combine(local.date(), end, local.tzinfo)
        return local
    if start <= t < end:
        return dt.datetime.combine(local.date(), end, local.tzinfo)
    return local


def fire_at(day: dt.date, prefs: Preferences, tz: ZoneInfo) -> dt.datetime:
    """The UTC instant of a reminder for her local `day`, out of her quiet hours."""
    local = dt.datetime.combine(day, prefs.send_time, tz)
    return after_quiet_hours(local, prefs.quiet_start, prefs.quiet_end).astimezone(dt.UTC)


@dataclass(frozen=True)
class Preferences:
    """Her reminder preferences, with the defaults filled in."""

    channels: list[str]
    quiet_start: dt.time
    quiet_end: dt.time
    send_time: dt.time
    opted_out: list[str]


def preferences_of(row: ReminderPreference | None, rules: Rules) -> Preferences:
    """Stored preferences or the defaults of content/reminders.yaml."""
    if row is None:
        return Preferences(
            list(DEFAULT_CHANNELS), rules.quiet_start, rules.quiet_end, rules.send_time, []
        )
    return Preferences(
        list(row.channels), row.quiet_start, row.quiet_end, row.send_time, list(row.opted_out)
    )


def get_preferences(session: Session, *, user: User, rules: Rules) -> Preferences:
    """Her preferences (defaults when she never set any)."""
    return preferences_of(session.get(ReminderPreference, user.id), rules)


def set_preferences(
    session: Session, *, user: User, rules: Rules, data: Mapping[str, Any]
) -> Preferences:
    """Change her preferences; the caller re-plans her reminders."""
    current = get_preferences(session, user=user, rules=rules)
    channels = list(data.get("channels", current.channels))
    if "inbox" not in channels:
        channels.append("inbox")  # the in-app inbox is always on
    if len(set(channels)) != len(channels):
        raise invalid("channels", _l("Name each channel once."))
    send_time = data.get("send_time", current.send_time)
    quiet_start = data.get("quiet_start", current.quiet_start)
    quiet_end = data.get("quiet_end", current.quiet_end)
    row = session.get(ReminderPreference, user.id)
    if row is None:
        row = ReminderPreference(user_id=user.id)
        session.add(row)
    row.channels = channels
    row.send_time, row.quiet_start, row.quiet_end = send_time, quiet_start, quiet_end
    row.opted_out = sorted(set(data.get("opted_out", current.opted_out)))
    row.updated_at = utcnow()
    session.flush()
    return preferences_of(row, rules)


# --- planning ----------------------------------------------------------------------------------


@dataclass
class PlanReport:
    """What a planning run changed."""

    added: int = 0
    moved: int = 0
    cancelled: int = 0


@dataclass(frozen=True)
class Wanted:
    kind: str
    fire_at: dt.datetime
    params: dict[str, Any]


Key = tuple[uuid.UUID, str, uuid.UUID, str]


def _apply_plan(
    session: Session,
    *,
    wanted: dict[Key, Wanted],
    scope: Any,
    now: dt.datetime,
    report: PlanReport,
    late: Collection[Key] = (),
) -> None:
    """Insert, move, revive and cancel reminders within `scope` (a where clause).

    `late` holds the keys that would be wanted but for their age: a pending reminder with such a
    key is left as it is, for the dispatcher to send late (its still-needed check decides), and
    none is inserted for them.
    """
    # One read of everything in scope: pending or cancelled rows may change, the others only
    # say which occurrences already went out.
    rows_in_scope = session.scalars(select(Reminder).where(scope)).all()
    open_states = (ReminderStatus.PENDING, ReminderStatus.CANCELLED)
    existing = [r for r in rows_in_scope if r.status in open_states]
    delivered_keys = {
        (r.recipient_id, r.source_type, r.source_id, r.occurrence)
        for r in rows_in_scope
        if r.status not in open_states
    }
    seen: set[Key] = set()
    for row in existing:
        key = (row.recipient_id, row.source_type, row.source_id, row.occurrence)
        seen.add(key)
        want = wanted.get(key)
        if want is None:
            if key in late:
                continue
            if row.status == ReminderStatus.PENDING:
                row.status = ReminderStatus.CANCELLED
                row.updated_at = now
                report.cancelled += 1
            continue
        if row.status == ReminderStatus.CANCELLED or row.fire_at != want.fire_at:
            row.status = ReminderStatus.PENDING
            row.fire_at = row.next_attempt_at = want.fire_at
            row.params = want.params
            row.attempts = 0
            row.updated_at = now
            report.moved += 1
    rows = [
        {
            "id": uuid.uuid4(),
            "recipient_id": key[0],
            "source_type": key[1],
            "source_id": key[2],
            "occurrence": key[3],
            "kind": want.kind,
            "fire_at": want.fire_at,
            "next_attempt_at": want.fire_at,
            "status": ReminderStatus.PENDING,
            "attempts": 0,
            "params": want.params,
            "created_at": now,
            "updated_at": now,
        }
        for key, want in wanted.items()
        if key not in seen and key not in delivered_keys
    ]
    session.flush()
    if rows:
        bulk.insert_rows(session, Reminder, rows)  # one statement, however many rows
        report.added += len(rows)


def _people(
    session: Session, person_ids: Collection[uuid.UUID]
) -> tuple[dict[uuid.UUID, User], dict[uuid.UUID, ReminderPreference]]:
    """The people and their stored preferences, in one query."""
    users: dict[uuid.UUID, User] = {}
    prefs: dict[uuid.UUID, ReminderPreference] = {}
    for user, pref in session.execute(
        select(User, ReminderPreference)
        .outerjoin(ReminderPreference, ReminderPreference.user_id == User.id)
        .where(bulk.in_(session, User.id, person_ids))
    ):
        users[user.id] = user
        if pref is not None:
            prefs[user.id] = pref
    return users, prefs


def plan_steps(
    session: Session,
    *,
    person_ids: Collection[uuid.UUID],
    protocols: ProtocolSet,
    rules: Rules,
    default_tz: str,
    now: dt.datetime | None = None,
) -> PlanReport:
    """(Re-)plan the care-step reminders of these people (a fixed number of queries)."""
    now = now or utcnow()
    report = PlanReport()
    if not person_ids:
        return report
    users, pref_rows = _people(session, person_ids)
    steps = session.scalars(
        select(CareStep).where(
            CareStep.person_id.in_(person_ids),
            CareStep.state == StepState.PENDING,
            CareStep.closed_before_enrolment.is_(False),
        )
    ).all()
    wanted: dict[Key, Wanted] = {}
    late: set[Key] = set()
    for step in steps:
        user = users[step.person_id]
        prefs = preferences_of(pref_rows.get(user.id), rules)
        tz = clock.zone(user.timezone, default_tz)
        item = protocols.item(step.code, on=step.opens_on)
        for name, offset in rules.offsets_for(step.code).items():
            kind = STEP_KIND[name]
            escalation = kind == ReminderKind.STEP_ESCALATION
            if not escalation and (
                kind in prefs.opted_out or (rules.family_only and item.actor != "family")
            ):
                continue
            day = offset.date(step.opens_on, step.due_on)
            if not escalation and day > step.closes_on:
                continue  # no nudges once the window has closed
            when = fire_at(day, prefs, tz)
            key = (user.id, "care_step", step.id, f"{name}:{day.isoformat()}")
            if when < now - GRACE:
                late.add(key)
                continue
            wanted[key] = Wanted(kind, when, {"code": step.code, "day": day.isoformat()})
    scope = and_(Reminder.recipient_id.in_(person_ids), Reminder.source_type == "care_step")
    _apply_plan(session, wanted=wanted, scope=scope, now=now, report=report, late=late)
    return report


def plan_regimens(
    session: Session,
    *,
    regimens: Sequence[Any],
    user_ids: Collection[uuid.UUID],
    rules: Rules,
    default_tz: str,
    now: dt.datetime | None = None,
) -> PlanReport:
    """(Re-)plan daily regimen reminders over the horizon for these users."""
    from backend.regimens import service as regimen_service

    now = now or utcnow()
    report = PlanReport()
    if not user_ids:
        return report
    users, pref_rows = _people(session, user_ids)
    wanted: dict[Key, Wanted] = {}
    late: set[Key] = set()
    lookback = dt.timedelta(days=rules.regimen_horizon_days)
    for regimen in regimens:
        user = users.get(regimen.user_id)
        if user is None:
            continue
        prefs = preferences_of(pref_rows.get(user.id), rules)
        if ReminderKind.REGIMEN_DAILY in prefs.opted_out:
            continue
        tz = clock.zone(user.timezone, default_tz)
        today = now.astimezone(tz).date()
        daily = Preferences(
            prefs.channels,
            prefs.quiet_start,
            prefs.quiet_end,
            regimen.reminder_time,
            prefs.opted_out,
        )
        # From a horizon back: the days already past are late, not obsolete (the dispatcher's
        # still-needed check cancels a day once it is ticked off or the regimen is over).
        for day in regimen_service.reminder_dates(
            regimen,
            today=today - lookback,
            horizon_days=lookback.days + rules.regimen_horizon_days,
        ):
            when = fire_at(day, daily, tz)
            key = (user.id, "regimen", regimen.id, f"daily:{day.isoformat()}")
            if when < now - GRACE:
                late.add(key)
                continue
            wanted[key] = Wanted(
                ReminderKind.REGIMEN_DAILY, when, {"regimen": regimen.kind, "day": day.isoformat()}
            )
    scope = and_(Reminder.recipient_id.in_(user_ids), Reminder.source_type == "regimen")
    _apply_plan(session, wanted=wanted, scope=scope, now=now, report=report, late=late)
    return report


# --- the in-app inbox ----------------------------------------------------------------------------


def inbox(
    session: Session, *, user: User, page: int, page_size: int, unread_only: bool = False
) -> tuple[list[Notification], int, int]:
    """A page of her notifications, newest first, the total and the unread count."""
    stmt = select(Notification).where(Notification.user_id == user.id)
    if unread_only:
        stmt = stmt.where(Notification.read_at.is_(None))
    counts = session.execute(
        select(func.count(), func.count(case((Notification.read_at.is_(None), 1)))).where(
            Notification.user_id == user.id
        )
    ).one()
    total = counts[1] if unread_only else counts[0]
    stmt = stmt.order_by(Notification.created_at.desc(), Notification.id)
    rows = session.scalars(window(stmt, page=page, page_size=page_size)).all()
    return list(rows), total, counts[1]


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


# --- newly published lessons (for those who asked for them) ------------------------------------

LOSS_TOPIC = "pregnancy-loss"


def plan_lessons(
    session: Session,
    *,
    rules: Rules,
    default_tz: str,
    since: dt.datetime,
    now: dt.datetime | None = None,
) -> PlanReport:
    """Remind the citizens who want lesson news of lessons published since `since` that fit
    one of their stages now (a loss lesson only after a loss). Runs in the dispatcher."""
    from backend.education import feed
    from backend.education.models import Lesson, LessonVersion

    now = now or utcnow()
    report = PlanReport()
    versions = session.execute(
        select(LessonVersion, Lesson)
        .join(Lesson, Lesson.id == LessonVersion.lesson_id)
        .where(LessonVersion.status == "published", LessonVersion.published_at >= since)
    ).all()
    if not versions:
        return report
    wanting = [
        row.user_id
        for row in session.scalars(select(ReminderPreference))
        if ReminderKind.LESSON_NEW not in row.opted_out
    ]
    users, pref_rows = _people(session, wanting)
    wanted: dict[Key, Wanted] = {}
    for user in users.values():
        prefs = preferences_of(pref_rows.get(user.id), rules)
        tz = clock.zone(user.timezone, default_tz)
        today = now.astimezone(tz).date()
        positions = feed.positions(session, person=user, today=today)
        for version, lesson in versions:
            loss_lesson = LOSS_TOPIC in version.topics
            fits = any(
                p.stage == lesson.stage
                and p.after_loss == loss_lesson
                and version.clock in p.clocks
                and feed.placement(
                    version.clock, version.window_from, version.window_to, p.clocks[version.clock]
                )
                == "now"
                for p in positions
            )
            if not fits:
                continue
            when = max(fire_at(today, prefs, tz), now)
            key = (user.id, "lesson", lesson.id, f"v{version.number}")
            wanted[key] = Wanted(
                ReminderKind.LESSON_NEW, when, {"lesson_id": str(lesson.id), "slug": lesson.slug}
            )
    lesson_ids = [lesson.id for _, lesson in versions]
    scope = and_(
        Reminder.source_type == "lesson",
        Reminder.source_id.in_(lesson_ids),
        Reminder.recipient_id.in_(list(users) or [uuid.uuid4()]),
    )
    _apply_plan(session, wanted=wanted, scope=scope, now=now, report=report)
    return report
