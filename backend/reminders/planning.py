"""Reminder planning from care steps, regimens and newly published lessons.

Planning is incremental and idempotent: every reminder has one key (recipient + source +
occurrence); re-planning after a change computes the wanted set, inserts what is new, moves
what changed, and cancels what is obsolete. Nothing is planned for an instant already past, so
a late registrant gets no reminders for closed windows.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple, cast
from zoneinfo import ZoneInfo

from sqlalchemy import Table, and_, bindparam, not_, null, or_, select, union_all, update
from sqlalchemy import cast as cast_
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from backend import clock
from backend.auth.models import User
from backend.care.models import CareStep, StepState
from backend.care.protocols import ProtocolSet
from backend.care.signals import StepFacts, SyncedSteps
from backend.db import utcnow
from backend.education import feed
from backend.education.models import Lesson, LessonVersion
from backend.regimens import service as regimen_service
from backend.reminders import bulk
from backend.reminders.models import Reminder, ReminderKind, ReminderPreference, ReminderStatus
from backend.reminders.preferences import (
    Preferences,
    StoredPreferences,
    fire_at,
    preferences_of,
)
from backend.reminders.rules import Offset, Rules

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


class Wanted(NamedTuple):
    kind: str
    fire_at: dt.datetime
    params: dict[str, Any]


Key = tuple[uuid.UUID, str, uuid.UUID, str]
OPEN_STATES = (ReminderStatus.PENDING, ReminderStatus.CANCELLED)


class InScope(NamedTuple):
    """A stored reminder within a planning scope: what deciding its fate needs."""

    id: uuid.UUID
    key: Key
    status: str
    fire_at: dt.datetime


def _read_scope(session: Session, scope: Any) -> list[InScope]:
    """The reminders within `scope` (a where clause), as plain columns."""
    return [
        InScope(
            row.id,
            (row.recipient_id, row.source_type, row.source_id, row.occurrence),
            row.status,
            row.fire_at,
        )
        for row in session.execute(
            select(
                Reminder.id,
                Reminder.recipient_id,
                Reminder.source_type,
                Reminder.source_id,
                Reminder.occurrence,
                Reminder.status,
                Reminder.fire_at,
            ).where(scope)
        )
    ]


def _apply_plan(
    session: Session,
    *,
    wanted: dict[Key, Wanted],
    scope: Any = None,
    in_scope: Sequence[InScope] | None = None,
    now: dt.datetime,
    report: PlanReport,
    late: Collection[Key] = (),
) -> None:
    """Insert, move, revive and cancel reminders within `scope` (a where clause), or among
    `in_scope` (every reminder of the scope, read by the caller).

    `late` holds the keys that would be wanted but for their age: a pending reminder with such a
    key is left as it is, for the dispatcher to send late (its still-needed check decides), and
    none is inserted for them. The rows in scope are read as plain columns and changed with one
    statement per kind of change, not as ORM objects (a sync plans dozens per subject).
    """
    if in_scope is None:
        in_scope = _read_scope(session, scope)
    # Pending or cancelled rows may change; the others only say which occurrences already went
    # out (never planned again).
    present: set[Key] = set()
    cancelled: list[uuid.UUID] = []
    moved: list[dict[str, Any]] = []
    for row in in_scope:
        key = row.key
        present.add(key)
        if row.status not in OPEN_STATES:
            continue
        want = wanted.get(key)
        if want is None:
            if row.status == ReminderStatus.PENDING and key not in late:
                cancelled.append(row.id)
        elif row.status == ReminderStatus.CANCELLED or row.fire_at != want.fire_at:
            moved.append({"b_id": row.id, "b_fire_at": want.fire_at, "b_params": want.params})
    if cancelled:
        session.execute(
            update(Reminder)
            # Still pending: a dispatcher may have sent it since it was read (it holds the row
            # while it does; this then skips it rather than cancel what went out).
            .where(
                bulk.in_(session, Reminder.id, cancelled), Reminder.status == ReminderStatus.PENDING
            )
            .values(status=ReminderStatus.CANCELLED, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        report.cancelled += len(cancelled)
    if moved:
        session.execute(_MOVE.values(updated_at=now), moved)  # one executemany
        report.moved += len(moved)
    _expire_loaded(session, cancelled + [m["b_id"] for m in moved])
    rows = [
        {
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
        if key not in present
    ]
    if rows:
        # One statement, however many rows; the ids are made by the database (PostgreSQL) or
        # the column's default.
        bulk.insert_rows(session, Reminder, rows)
        report.added += len(rows)


_table = cast(Table, Reminder.__table__)
# A pending or cancelled reminder moved to its wanted instant (and revived), by id.
_MOVE = (
    update(_table)
    .where(_table.c.id == bindparam("b_id", type_=_table.c.id.type))
    # Not one sent since it was read (two equalities: an IN list cannot go in an executemany).
    .where(or_(*(_table.c.status == state for state in OPEN_STATES)))
    .values(
        status=ReminderStatus.PENDING,
        fire_at=bindparam("b_fire_at", type_=_table.c.fire_at.type),
        next_attempt_at=bindparam("b_fire_at", type_=_table.c.fire_at.type),
        params=bindparam("b_params", type_=_table.c.params.type),
        attempts=0,
    )
)


def _expire_loaded(session: Session, ids: Iterable[uuid.UUID]) -> None:
    """Changed behind the ORM's back: reminders this session holds are read again on use."""
    for reminder_id in ids:
        loaded = session.identity_map.get(identity_key(Reminder, reminder_id))
        if loaded is not None:
            session.expire(loaded)


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


def _subjects_clause(subjects: Collection[tuple[str, uuid.UUID]]) -> Any:
    by_kind: dict[str, list[uuid.UUID]] = {}
    for kind, subject_id in subjects:
        by_kind.setdefault(kind, []).append(subject_id)
    return or_(
        *(
            and_(CareStep.subject_kind == kind, CareStep.subject_id.in_(ids))
            for kind, ids in by_kind.items()
        )
    )


People = dict[uuid.UUID, tuple[ZoneInfo, Preferences]]


def _nothing(column: Any) -> Any:
    """A typed NULL standing for `column` in the other parts of a UNION ALL."""
    return cast_(null(), column.type).label(column.key)


# The three parts of `_read_for_steps`, each with typed NULLs for the others' columns.
_PERSON_COLUMNS = (
    User.timezone,
    ReminderPreference.user_id.label("has_preferences"),
    ReminderPreference.channels,
    ReminderPreference.quiet_start,
    ReminderPreference.quiet_end,
    ReminderPreference.send_time,
    ReminderPreference.opted_out,
)
_STEP_COLUMNS = (
    CareStep.id.label("step_id"),
    CareStep.code,
    CareStep.opens_on,
    CareStep.due_on,
    CareStep.closes_on,
)
_REMINDER_COLUMNS = (
    Reminder.id.label("reminder_id"),
    Reminder.source_id,
    Reminder.occurrence,
    Reminder.status,
    Reminder.fire_at,
)
_NO_PERSON = tuple(map(_nothing, _PERSON_COLUMNS))
_NO_STEP = tuple(map(_nothing, _STEP_COLUMNS))
_NO_REMINDER = tuple(map(_nothing, _REMINDER_COLUMNS))


def _read_for_steps(
    session: Session,
    person_ids: Collection[uuid.UUID],
    *,
    rules: Rules,
    default_tz: str,
    skip: Collection[tuple[str, uuid.UUID]],
) -> tuple[People, list[StepFacts], list[InScope]]:
    """Each person's zone and preferences, her pending steps to remind outside the `skip`
    subjects (those the caller holds), and her step reminders: ONE statement, a UNION ALL of
    three parts (after a sync, planning's cost is mostly its round trips). Each part is driven
    by her ids on an index (no join to the steps), so even a generic plan reads only hers;
    the ids go as plain `IN`, since a generic plan of `= ANY(array)` guesses their number."""
    people_part = (
        select(User.id.label("person_id"), *_PERSON_COLUMNS, *_NO_STEP, *_NO_REMINDER)
        .outerjoin(ReminderPreference, ReminderPreference.user_id == User.id)
        .where(User.id.in_(person_ids))
    )
    steps_part = select(CareStep.person_id, *_NO_PERSON, *_STEP_COLUMNS, *_NO_REMINDER).where(
        CareStep.person_id.in_(person_ids),
        CareStep.state == StepState.PENDING,
        CareStep.closed_before_enrolment.is_(False),
    )
    if skip:
        steps_part = steps_part.where(not_(_subjects_clause(skip)))
    reminders_part = select(
        Reminder.recipient_id, *_NO_PERSON, *_NO_STEP, *_REMINDER_COLUMNS
    ).where(Reminder.recipient_id.in_(person_ids), Reminder.source_type == "care_step")
    people: People = {}
    steps: list[StepFacts] = []
    in_scope: list[InScope] = []
    row: Any
    for row in session.execute(union_all(people_part, steps_part, reminders_part)):
        if row.reminder_id is not None:
            key = (row.person_id, "care_step", row.source_id, row.occurrence)
            in_scope.append(InScope(row.reminder_id, key, row.status, row.fire_at))
        elif row.step_id is not None:
            steps.append(
                StepFacts(
                    row.step_id,
                    row.person_id,
                    row.code,
                    row.opens_on,
                    row.due_on,
                    row.closes_on,
                    StepState.PENDING,
                    False,
                )
            )
        else:
            stored = None
            if row.has_preferences is not None:
                stored = StoredPreferences(
                    row.channels, row.quiet_start, row.quiet_end, row.send_time, row.opted_out
                )
            zone = clock.zone(row.timezone, default_tz)
            people[row.person_id] = (zone, preferences_of(stored, rules))
    return people, steps, in_scope


def plan_steps(
    session: Session,
    *,
    person_ids: Collection[uuid.UUID],
    protocols: ProtocolSet,
    rules: Rules,
    default_tz: str,
    now: dt.datetime | None = None,
    synced: SyncedSteps | None = None,
) -> PlanReport:
    """(Re-)plan the care-step reminders of these people: one read, one insert, and one
    statement each for the cancels and the moves when there are any.

    `synced` (from a sync's signal) holds every step of the subjects it synced, as flushed:
    those are taken from it and not read back; her steps in other subjects are read with her
    preferences and reminders. The reminders planned are the same either way.
    """
    now = now or utcnow()
    report = PlanReport()
    if not person_ids:
        return report
    people, steps, in_scope = _read_for_steps(
        session,
        person_ids,
        rules=rules,
        default_tz=default_tz,
        skip=synced.subjects if synced else (),
    )
    if synced is not None:
        steps += [
            s
            for s in synced.steps
            if s.person_id in people
            and s.state == StepState.PENDING
            and not s.closed_before_enrolment
        ]
    wanted: dict[Key, Wanted] = {}
    late: set[Key] = set()
    offsets_of: dict[str, list[tuple[str, str, Offset]]] = {}
    earliest = now - GRACE
    for step in steps:
        tz, prefs = people[step.person_id]
        offsets = offsets_of.get(step.code)
        if offsets is None:
            offsets = offsets_of[step.code] = [
                (name, STEP_KIND[name], offset)
                for name, offset in rules.offsets_for(step.code).items()
            ]
        item = protocols.item(step.code, on=step.opens_on)
        not_family = rules.family_only and item.actor != "family"
        for name, kind, offset in offsets:
            escalation = kind == ReminderKind.STEP_ESCALATION
            if not escalation and (kind in prefs.opted_out or not_family):
                continue
            day = offset.date(step.opens_on, step.due_on)
            if not escalation and day > step.closes_on:
                continue  # no nudges once the window has closed
            when = fire_at(day, prefs, tz)
            key = (step.person_id, "care_step", step.id, f"{name}:{day.isoformat()}")
            if when < earliest:
                late.add(key)
                continue
            wanted[key] = Wanted(kind, when, {"code": step.code, "day": day.isoformat()})
    _apply_plan(session, wanted=wanted, in_scope=in_scope, now=now, report=report, late=late)
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
