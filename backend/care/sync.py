"""Sync: apply the engine's plan to a subject's stored steps, idempotently.

Adds steps, moves windows (keeping their history), cancels what no longer applies, and never
rewrites a done or declined step.
"""

from __future__ import annotations

import datetime as dt
import itertools
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.auth.models import User
from backend.care import engine, signals
from backend.care.models import (
    CareOptions,
    CareStep,
    StepState,
    StepWindowChange,
    SubjectKind,
)
from backend.care.protocols import (
    Item,
    ProtocolSet,
    ResultOf,
    StepAnchor,
)
from backend.care.subjects import (
    Subject,
    child_subject,
    pregnancy_subject,
    preload,
    subject_facts,
    woman_subject,
)
from backend.conditions import AllOf, AnyOf
from backend.db import utcnow
from backend.handbook.models import Child, Pregnancy
from backend.reminders import bulk  # generic set-based statements (no reminder logic)

# --- sync: apply the plan ---------------------------------------------------------------------


@dataclass
class SyncReport:
    """What a sync changed."""

    added: int = 0
    moved: int = 0
    cancelled: int = 0
    reopened: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.added or self.moved or self.cancelled or self.reopened)


def _follows_up(item: Item | None, completed: Mapping[str, engine.Completion]) -> str | None:
    """The step whose result this item follows up: the latest done step it depends on."""
    if item is None:
        return None
    candidates: list[str] = []
    if isinstance(item.anchor, StepAnchor):
        candidates += item.anchor.step.steps

    def walk(cond: Any) -> None:
        if isinstance(cond, ResultOf):
            candidates.extend(cond.step.steps)
        elif isinstance(cond, AllOf | AnyOf):
            for term in cond.terms:
                walk(term)

    walk(item.when)
    done = [c for c in candidates if c in completed]
    if not done:
        return None
    return max(done, key=lambda c: completed[c].done_on)


def sync(
    session: Session, *, subject: Subject, protocols: ProtocolSet, default_tz: str
) -> SyncReport:
    """Bring one subject's stored steps in line with the engine's plan; idempotent."""
    return sync_many(session, subjects=[subject], protocols=protocols, default_tz=default_tz)


def sync_many(
    session: Session, *, subjects: Sequence[Subject], protocols: ProtocolSet, default_tz: str
) -> SyncReport:
    """Re-plan many subjects with a fixed number of reads and one flush (batch work)."""
    pre = preload(session, subjects)
    report = SyncReport()
    now = utcnow()
    new_rows: list[dict[str, Any]] = []
    for subject in subjects:
        existing = {s.code: s for s in pre.steps[(subject.kind, subject.id)]}
        facts = subject_facts(subject, pre, default_tz)
        planned = engine.plan(facts, protocols, subject.today(default_tz))
        for step in planned:
            stored = existing.pop(step.code, None)
            if step.status == engine.DONE or step.opens_on is None:
                continue
            state = StepState.CANCELLED if step.status == engine.CANCELLED else StepState.PENDING
            if stored is None:
                if state == StepState.PENDING:
                    new_rows.append(_new_row(subject, step, facts.completed, now))
                    report.added += 1
                continue
            if stored.state in (StepState.DONE, StepState.DECLINED):
                continue
            _apply(session, stored, step, state, now, report)
            stored.follows_up = _follows_up(step.item, facts.completed)
        for stored in existing.values():
            if stored.state == StepState.PENDING:
                stored.state = StepState.CANCELLED
                stored.updated_at = now
                report.cancelled += 1
    session.flush()
    if new_rows:
        # One statement (PostgreSQL: unnest of one array per column), without ORM objects the
        # request does not need; an executemany sent one INSERT per step.
        bulk.insert_rows(session, CareStep, new_rows)
    if report.changed:
        signals.schedule_changed.send(
            None,
            session=session,
            person_ids={s.person.id for s in subjects},
            steps=_synced(subjects, pre.steps, new_rows),
        )
    return report


def _synced(
    subjects: Sequence[Subject],
    stored: Mapping[tuple[str, uuid.UUID], Sequence[CareStep]],
    new_rows: Sequence[Mapping[str, Any]],
) -> signals.SyncedSteps:
    """The subjects' steps as just flushed, so that planning does not read them back."""
    keys = list(dict.fromkeys((s.kind, s.id) for s in subjects))
    facts = [signals.StepFacts.of(s) for key in keys for s in stored[key]]
    facts += [signals.StepFacts(*(r[name] for name in signals.StepFacts._fields)) for r in new_rows]
    return signals.SyncedSteps(frozenset(keys), tuple(facts))


def _new_row(
    subject: Subject,
    step: engine.PlannedStep,
    completed: Mapping[str, engine.Completion],
    now: dt.datetime,
) -> dict[str, Any]:
    return {
        "id": uuid.uuid4(),
        "subject_kind": subject.kind,
        "subject_id": subject.id,
        "person_id": subject.person.id,
        "code": step.code,
        "programme": step.programme,
        "version": step.version,
        "opens_on": step.opens_on,
        "due_on": step.due_on,
        "closes_on": step.closes_on,
        "state": StepState.PENDING,
        "closed_before_enrolment": step.closed_before_enrolment,
        "follows_up": _follows_up(step.item, completed),
        "reason": step.reason.as_dict(),
        "created_at": now,
        "updated_at": now,
    }


def _apply(
    session: Session,
    stored: CareStep,
    step: engine.PlannedStep,
    state: str,
    now: dt.datetime,
    report: SyncReport,
) -> None:
    """Move a pending or cancelled step to the plan's window and state, keeping history."""
    window = (step.opens_on, step.due_on, step.closes_on)
    if window != (stored.opens_on, stored.due_on, stored.closes_on) or (
        step.version != stored.version
    ):
        session.add(
            StepWindowChange(
                step_id=stored.id,
                old_opens_on=stored.opens_on,
                old_due_on=stored.due_on,
                old_closes_on=stored.closes_on,
                new_opens_on=step.opens_on,
                new_due_on=step.due_on,
                new_closes_on=step.closes_on,
                old_version=stored.version,
                new_version=step.version,
            )
        )
        stored.opens_on, stored.due_on, stored.closes_on = window  # type: ignore[assignment]
        stored.version = step.version
        stored.reason = step.reason.as_dict()
        stored.closed_before_enrolment = step.closed_before_enrolment
        stored.updated_at = now
        report.moved += 1
    if stored.state != state:
        report.cancelled += state == StepState.CANCELLED
        report.reopened += state == StepState.PENDING
        stored.state = state
        stored.updated_at = now


def sync_pregnancy(
    session: Session, *, pregnancy: Pregnancy, protocols: ProtocolSet, default_tz: str
) -> SyncReport:
    """Re-plan a pregnancy (created, redated, risk graded, result logged, birth, loss)."""
    return sync(
        session, subject=pregnancy_subject(pregnancy), protocols=protocols, default_tz=default_tz
    )


def sync_child(
    session: Session, *, child: Child, protocols: ProtocolSet, default_tz: str
) -> SyncReport:
    """Re-plan a child (added, corrected, result logged)."""
    return sync(
        session, subject=child_subject(session, child), protocols=protocols, default_tz=default_tz
    )


def sync_woman(
    session: Session, *, woman: User, protocols: ProtocolSet, default_tz: str
) -> SyncReport:
    """Re-plan the woman's own steps (pre-pregnancy check, IUD follow-up)."""
    return sync(session, subject=woman_subject(woman), protocols=protocols, default_tz=default_tz)


def sync_subject_of(
    session: Session, step: CareStep, *, protocols: ProtocolSet, default_tz: str
) -> SyncReport:
    """Re-plan the subject a step belongs to."""
    if step.subject_kind == SubjectKind.PREGNANCY:
        pregnancy = session.get(Pregnancy, step.subject_id)
        assert pregnancy is not None
        return sync_pregnancy(
            session, pregnancy=pregnancy, protocols=protocols, default_tz=default_tz
        )
    if step.subject_kind == SubjectKind.CHILD:
        child = session.get(Child, step.subject_id)
        assert child is not None
        return sync_child(session, child=child, protocols=protocols, default_tz=default_tz)
    woman = session.get(User, step.subject_id)
    assert woman is not None
    return sync_woman(session, woman=woman, protocols=protocols, default_tz=default_tz)


def resync_all(
    session: Session, *, protocols: ProtocolSet, default_tz: str, batch: int = 200
) -> SyncReport:
    """Re-plan every enrolled subject (after a protocol file changed version).

    Works in batches (a fixed number of queries and one commit per batch) so that a long run
    keeps its progress; done steps are never touched.
    """
    total = SyncReport()

    def run(subjects: list[Subject]) -> None:
        report = sync_many(session, subjects=subjects, protocols=protocols, default_tz=default_tz)
        for name in ("added", "moved", "cancelled", "reopened"):
            setattr(total, name, getattr(total, name) + getattr(report, name))
        session.commit()

    for offset in itertools.count(0, batch):
        pregnancies = session.scalars(
            select(Pregnancy).order_by(Pregnancy.id).limit(batch).offset(offset)
        ).all()
        if not pregnancies:
            break
        run([pregnancy_subject(p) for p in pregnancies])
    for offset in itertools.count(0, batch):
        children = session.scalars(
            select(Child).order_by(Child.id).limit(batch).offset(offset)
        ).all()
        if not children:
            break
        guardian_ids = {g.user_id for c in children for g in c.guardians}
        session.scalars(select(User).where(User.id.in_(guardian_ids))).all()  # identity map
        run([child_subject(session, c) for c in children])
    women = session.scalars(
        select(User)
        .join(CareOptions, CareOptions.subject_id == User.id)
        .where(CareOptions.subject_kind == SubjectKind.WOMAN)
    ).all()
    for i in range(0, len(women), batch):
        run([woman_subject(w) for w in women[i : i + batch]])
    return total


def reassign_child_steps(session: Session, *, child: Child, successor_id: uuid.UUID) -> None:
    """A child stays with another guardian: her steps move to that guardian's handbook."""
    for step in session.scalars(
        select(CareStep).where(
            CareStep.subject_kind == SubjectKind.CHILD, CareStep.subject_id == child.id
        )
    ):
        step.person_id = successor_id
    session.flush()
