"""Reminder planning from care steps, regimens and newly published lessons.

Planning is incremental and idempotent: every reminder has one key (recipient + source +
occurrence); re-planning after a change computes the wanted set, inserts what is new, moves
what changed, and cancels what is obsolete. Nothing is planned for an instant already past, so
a late registrant gets no reminders for closed windows.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from backend import clock
from backend.auth.models import User
from backend.care.models import CareStep, StepState
from backend.care.protocols import ProtocolSet
from backend.db import utcnow
from backend.education import feed
from backend.education.models import Lesson, LessonVersion
from backend.regimens import service as regimen_service
from backend.reminders import bulk
from backend.reminders.models import Reminder, ReminderKind, ReminderPreference, ReminderStatus
from backend.reminders.preferences import Preferences, fire_at, preferences_of
from backend.reminders.rules import Rules

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
