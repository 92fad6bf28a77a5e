"""Care schedules in the database: sync the engine's plan, read schedules, log results and risk.

The engine (`engine.plan`) is pure; this module gathers a subject's facts, asks the engine, and
applies the plan idempotently: adds steps, moves windows (keeping their history), cancels what
no longer applies, and never rewrites a done or declined step.
"""

from __future__ import annotations

import datetime as dt
import itertools
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, and_, case, func, insert, or_, select
from sqlalchemy.orm import Session, aliased

from backend import clock, content
from backend.auth.models import Registration, User
from backend.care import engine, signals
from backend.care.models import (
    CareOptions,
    CareResult,
    CareStep,
    Measurement,
    RiskAssessment,
    StepState,
    StepWindowChange,
    SubjectKind,
)
from backend.care.protocols import (
    RISK_COLOURS,
    AllOf,
    AnyOf,
    Item,
    ProtocolSet,
    ResultOf,
    StepAnchor,
    check_result,
    interpret,
)
from backend.db import LIKE_ESCAPE, escape_like, utcnow
from backend.errors import Conflict, InvalidInput, NotFound, invalid
from backend.handbook import service as handbook_service
from backend.handbook.models import Child, Guardian, GuardianRelation, Pregnancy, PregnancyStatus
from backend.i18n import _, _l

# --- subjects and their facts -----------------------------------------------------------------


@dataclass(frozen=True)
class Subject:
    """One schedulable subject and the person whose handbook holds it."""

    kind: str
    id: uuid.UUID
    person: User
    record: Any

    def today(self, default_tz: str) -> dt.date:
        """Today where the person lives."""
        return clock.today(self.person.timezone, default_tz)

    def enrolled_on(self, default_tz: str) -> dt.date:
        """The day the subject entered the handbook, in her zone (late registration)."""
        created = getattr(self.record, "created_at", None) or utcnow()
        return created.astimezone(clock.zone(self.person.timezone, default_tz)).date()


def pregnancy_subject(pregnancy: Pregnancy) -> Subject:
    """A pregnancy as a subject of the pregnancy and postpartum programmes."""
    return Subject(SubjectKind.PREGNANCY, pregnancy.id, pregnancy.woman, pregnancy)


def child_subject(session: Session, child: Child) -> Subject:
    """A child as a subject; her mother (else her first guardian) holds the handbook."""
    guardians = sorted(
        child.guardians, key=lambda g: (g.relation != GuardianRelation.MOTHER, g.created_at)
    )
    if not guardians:
        raise NotFound(_l("No such record."))
    person = session.get(User, guardians[0].user_id)
    assert person is not None
    return Subject(SubjectKind.CHILD, child.id, person, child)


def woman_subject(woman: User) -> Subject:
    """The woman herself (pre-pregnancy, IUD follow-up)."""
    return Subject(SubjectKind.WOMAN, woman.id, woman, woman)


def _options(session: Session, subject: Subject) -> CareOptions | None:
    return session.get(CareOptions, (subject.kind, subject.id))


def latest_risk(session: Session, pregnancy_id: uuid.UUID) -> RiskAssessment | None:
    """The risk grade in force: the latest assessment."""
    return session.scalars(
        select(RiskAssessment)
        .where(RiskAssessment.pregnancy_id == pregnancy_id)
        .order_by(RiskAssessment.seq.desc())
        .limit(1)
    ).first()


@dataclass
class Preloaded:
    """What the sync needs about many subjects, read with a fixed number of queries."""

    steps: dict[tuple[str, uuid.UUID], list[CareStep]]
    options: dict[tuple[str, uuid.UUID], CareOptions]
    risks: dict[uuid.UUID, RiskAssessment]
    values: dict[uuid.UUID, dict[str, Any]]


def _subject_filter(model: Any, subjects: Sequence[Subject]) -> Any:
    by_kind: dict[str, list[uuid.UUID]] = {}
    for subject in subjects:
        by_kind.setdefault(subject.kind, []).append(subject.id)
    return or_(
        *(
            and_(model.subject_kind == kind, model.subject_id.in_(ids))
            for kind, ids in by_kind.items()
        )
    )


def preload(session: Session, subjects: Sequence[Subject]) -> Preloaded:
    """Steps, options, latest risk grades and result values of the subjects (four queries)."""
    steps: dict[tuple[str, uuid.UUID], list[CareStep]] = {(s.kind, s.id): [] for s in subjects}
    for step in session.scalars(select(CareStep).where(_subject_filter(CareStep, subjects))):
        steps[(step.subject_kind, step.subject_id)].append(step)
    options = {
        (o.subject_kind, o.subject_id): o
        for o in session.scalars(select(CareOptions).where(_subject_filter(CareOptions, subjects)))
    }
    pregnancy_ids = [s.id for s in subjects if s.kind == SubjectKind.PREGNANCY]
    risks: dict[uuid.UUID, RiskAssessment] = {}
    if pregnancy_ids:
        for risk in session.scalars(
            select(RiskAssessment).where(RiskAssessment.pregnancy_id.in_(pregnancy_ids))
        ):
            held = risks.get(risk.pregnancy_id)
            if held is None or risk.seq > held.seq:
                risks[risk.pregnancy_id] = risk
    done = [st.id for group in steps.values() for st in group if st.state == StepState.DONE]
    values: dict[uuid.UUID, dict[str, Any]] = {}
    if done:
        for result in session.scalars(
            select(CareResult).where(CareResult.step_id.in_(done)).order_by(CareResult.recorded_at)
        ):
            values[result.step_id] = dict(result.values)
    return Preloaded(steps, options, risks, values)


def _completions(
    steps: Iterable[CareStep], values: Mapping[uuid.UUID, dict[str, Any]]
) -> dict[str, engine.Completion]:
    return {
        s.code: engine.Completion(s.done_on, s.interpretation, values.get(s.id, {}))
        for s in steps
        if s.state == StepState.DONE and s.done_on is not None
    }


def subject_facts(subject: Subject, pre: Preloaded, default_tz: str) -> engine.SubjectFacts:
    """What the engine needs to know about the subject, from the handbook and care."""
    key = (subject.kind, subject.id)
    options = pre.options.get(key)
    anchors: dict[str, dt.date] = {
        name: dt.date.fromisoformat(value)
        for name, value in (options.anchors if options else {}).items()
    }
    common: dict[str, Any] = {
        "kind": subject.kind,
        "enrolled_on": subject.enrolled_on(default_tz),
        "completed": _completions(pre.steps.get(key, []), pre.values),
        "vaccine_choices": dict(options.vaccine_choices) if options else {},
        "flags": dict(options.flags) if options else {},
    }
    record = subject.record
    if isinstance(record, Pregnancy):
        anchors.update(
            {
                k: v
                for k, v in (
                    ("lmp", record.lmp),
                    ("edd", record.edd),
                    ("discharge", record.discharged_on),
                )
                if v
            }
        )
        if record.ended_on and handbook_service.is_birth_for_mother(
            record.status, record.end_kind, record.ga_at_end_days
        ):
            # A stillbirth or a loss at 28 weeks or more keeps the postpartum care (issue 9).
            anchors["birth"] = record.ended_on
        risk = pre.risks.get(record.id)
        colours: set[str] = set()
        if risk is not None:
            anchors["risk_assessment"] = risk.assessed_on
            colours = {risk.colour} | ({"purple"} if risk.purple else set())
        ended = record.ended_on if record.status != PregnancyStatus.ONGOING else None
        if record.status == PregnancyStatus.ENDED and record.ended_on:
            anchors["pregnancy_end"] = record.ended_on
            if "birth" not in anchors:  # a loss, not a birth for her care: post-loss steps
                common["flags"] = {**common["flags"], "pregnancy_end_kind": record.end_kind}
        return engine.SubjectFacts(
            anchors=anchors,
            risk_colours=frozenset(colours),
            ended_on=ended,
            mother_birth_date=subject.person.birth_date,
            **common,
        )
    if isinstance(record, Child):
        anchors["birth"] = record.birth_date
        if record.ga_at_birth_days is not None:
            anchors["lmp"] = record.birth_date - dt.timedelta(days=record.ga_at_birth_days)
        return engine.SubjectFacts(
            anchors=anchors,
            sex=record.sex,
            ga_at_birth_days=record.ga_at_birth_days,
            birth_weight_g=record.birth_weight_g,
            **common,
        )
    return engine.SubjectFacts(anchors=anchors, sex=record.sex, **common)


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
        # One multi-row INSERT, without building ORM objects the request does not need.
        session.execute(insert(CareStep), new_rows)
    if report.changed:
        signals.schedule_changed.send(
            None, session=session, person_ids={s.person.id for s in subjects}
        )
    return report


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


def delete_subject(session: Session, *, kind: str, subject_id: uuid.UUID) -> None:
    """Remove a subject's steps (its record was deleted)."""
    for step in session.scalars(
        select(CareStep).where(CareStep.subject_kind == kind, CareStep.subject_id == subject_id)
    ):
        session.delete(step)
    session.flush()


# --- reading schedules ------------------------------------------------------------------------

TIME_STATUSES = (engine.UPCOMING, engine.DUE, engine.OVERDUE, engine.MISSED)


def display_status(step: CareStep, today: dt.date) -> str:
    """The status shown: stored for done/declined/cancelled, from the window and today else."""
    if step.state == StepState.DONE:
        return engine.DONE
    if step.state == StepState.DECLINED:
        return engine.NOT_APPLICABLE
    if step.state == StepState.CANCELLED:
        return engine.CANCELLED
    if today < step.opens_on:
        return engine.UPCOMING
    if today <= step.due_on:
        return engine.DUE
    if today <= step.closes_on:
        return engine.OVERDUE
    return engine.MISSED


def status_clause(status: str, today: dt.date) -> Any:
    """SQL for one display status (so filters and worklists page in the database)."""
    pending = CareStep.state == StepState.PENDING
    return {
        engine.DONE: CareStep.state == StepState.DONE,
        engine.NOT_APPLICABLE: CareStep.state == StepState.DECLINED,
        engine.CANCELLED: CareStep.state == StepState.CANCELLED,
        engine.UPCOMING: and_(pending, CareStep.opens_on > today),
        engine.DUE: and_(pending, CareStep.opens_on <= today, CareStep.due_on >= today),
        engine.OVERDUE: and_(pending, CareStep.due_on < today, CareStep.closes_on >= today),
        engine.MISSED: and_(pending, CareStep.closes_on < today),
    }[status]


def subjects_of(session: Session, person: User) -> list[tuple[str, uuid.UUID]]:
    """The person herself, her pregnancies and the children she is guardian of."""
    subjects: list[tuple[str, uuid.UUID]] = [(SubjectKind.WOMAN, person.id)]
    subjects += [
        (SubjectKind.PREGNANCY, pid)
        for pid in session.scalars(select(Pregnancy.id).where(Pregnancy.woman_id == person.id))
    ]
    subjects += [
        (SubjectKind.CHILD, cid)
        for cid in session.scalars(select(Guardian.child_id).where(Guardian.user_id == person.id))
    ]
    return subjects


def schedule(
    session: Session,
    *,
    person: User,
    today: dt.date,
    page: int,
    page_size: int,
    subject_id: uuid.UUID | None = None,
    status: Sequence[str] | None = None,
    since: dt.date | None = None,
    until: dt.date | None = None,
) -> tuple[list[CareStep], int]:
    """A page of the person's steps (hers, her pregnancies', her children's), by date.

    One query for the page and its total (a window count), her subjects as subqueries: the
    round trips of a GET /me/schedule do not grow with her history."""
    if subject_id is None:
        mine = or_(
            and_(CareStep.subject_kind == SubjectKind.WOMAN, CareStep.subject_id == person.id),
            and_(
                CareStep.subject_kind == SubjectKind.PREGNANCY,
                CareStep.subject_id.in_(
                    select(Pregnancy.id).where(Pregnancy.woman_id == person.id)
                ),
            ),
            and_(
                CareStep.subject_kind == SubjectKind.CHILD,
                CareStep.subject_id.in_(
                    select(Guardian.child_id).where(Guardian.user_id == person.id)
                ),
            ),
        )
    else:
        subjects = [s for s in subjects_of(session, person) if s[1] == subject_id]
        if not subjects:
            raise invalid("subject", _l("No such record."))
        mine = and_(CareStep.subject_kind == subjects[0][0], CareStep.subject_id == subject_id)
    stmt: Select[Any] = select(CareStep).where(mine)
    if status:
        stmt = stmt.where(or_(*(status_clause(s, today) for s in status)))
    if since is not None:
        stmt = stmt.where(CareStep.closes_on >= since)
    if until is not None:
        stmt = stmt.where(CareStep.opens_on <= until)
    rows = session.execute(
        stmt.add_columns(func.count().over().label("total"))
        .order_by(CareStep.due_on, CareStep.opens_on, CareStep.code)
        .limit(page_size)
        .offset((page - 1) * page_size)
    ).all()
    if rows:
        return [row[0] for row in rows], int(rows[0].total)
    if page == 1:
        return [], 0
    # Past the last page: the window count has no row to ride on.
    return [], session.scalar(select(func.count()).select_from(stmt.subquery())) or 0


def get_step(session: Session, *, step_id: uuid.UUID) -> CareStep | None:
    """A step with the owners the policy checks (a child's guardians, else the woman)."""
    step = session.get(CareStep, step_id)
    if step is None:
        return None
    if step.subject_kind == SubjectKind.CHILD:
        owners = tuple(
            session.scalars(select(Guardian.user_id).where(Guardian.child_id == step.subject_id))
        )
    else:
        owners = (step.person_id,)
    step.access_owners = owners  # type: ignore[attr-defined]
    return step


# --- results, not done, risk ------------------------------------------------------------------


def _values_errors(item: Item, values: Mapping[str, Any]) -> dict[str, list[str]]:
    """Localized field errors for a result's values (names as values.<field>)."""
    messages = {
        "unknown field for this step": _("This step does not take this value."),
        "required": _("Missing data for required field."),
        "must be true or false": _("Not a valid boolean."),
        "must be text": _("Not a valid string."),
        "must be a whole number": _("Not a valid integer."),
        "must be a number": _("Not a valid number."),
        "must be a ratio such as 1/270": _("Give a ratio such as 1/270."),
        "must give a value per side: {left: ..., right: ...}": _(
            "Give a value for each side: left and right."
        ),
    }
    errors: dict[str, list[str]] = {}
    for name, message in check_result(item, values).items():
        if message in messages:
            text = messages[message]
        elif message.startswith("must be one of"):
            text = _("Must be one of the allowed values.")
        elif message.startswith("must be at least"):
            text = _("This value is impossibly low: %(limit)s.", limit=message.split("least ")[1])
        elif message.startswith("must be at most"):
            text = _("This value is impossibly high: %(limit)s.", limit=message.split("most ")[1])
        else:
            text = message
        errors[f"values.{name}"] = [text]
    return errors


def log_result(
    session: Session,
    *,
    step: CareStep,
    actor: User,
    values: Mapping[str, Any],
    performed_on: dt.date,
    protocols: ProtocolSet,
    default_tz: str,
    today: dt.date,
    interpretation: str | None = None,
    note: str | None = None,
) -> CareResult:
    """Log a result: validate against the protocol, interpret, mark done, re-plan follow-ups."""
    if step.state == StepState.CANCELLED:
        raise Conflict(_l("This step was cancelled."))
    if performed_on > today:
        raise invalid("performed_on", _l("This date cannot be in the future."))
    item = protocols.item(step.code, on=step.opens_on)
    errors = _values_errors(item, values)
    if errors:
        raise InvalidInput(_l("Some fields are invalid."), errors=errors)
    result = CareResult(
        step_id=step.id,
        values=dict(values),
        interpretation=interpretation or interpret(item, values),
        performed_on=performed_on,
        note=note,
        recorded_by=actor.id,
    )
    session.add(result)
    step.state = StepState.DONE
    step.done_on = performed_on
    step.interpretation = result.interpretation
    step.not_done_reason = None
    step.updated_at = utcnow()
    session.flush()
    sync_subject_of(session, step, protocols=protocols, default_tz=default_tz)
    signals.schedule_changed.send(None, session=session, person_ids={step.person_id})
    return result


def mark_not_done(
    session: Session,
    *,
    step: CareStep,
    reason: str,
    done_on: dt.date | None,
    note: str | None,
    protocols: ProtocolSet,
    default_tz: str,
    today: dt.date,
) -> CareStep:
    """Declined, or done elsewhere (with its date, which then counts as done)."""
    if step.state == StepState.DONE and step.not_done_reason is None:
        raise Conflict(_l("This step already has a result."))
    if reason == "done_elsewhere":
        if done_on is None:
            raise invalid("done_on", _l("Give the date it was done."))
        if done_on > today:
            raise invalid("done_on", _l("This date cannot be in the future."))
        step.state, step.done_on = StepState.DONE, done_on
    else:
        step.state, step.done_on = StepState.DECLINED, None
    step.not_done_reason, step.note = reason, note
    step.updated_at = utcnow()
    session.flush()
    sync_subject_of(session, step, protocols=protocols, default_tz=default_tz)
    signals.schedule_changed.send(None, session=session, person_ids={step.person_id})
    return step


GRADED = tuple(c for c in RISK_COLOURS if c != "purple")


def assess_risk(
    session: Session,
    *,
    pregnancy: Pregnancy,
    actor: User,
    colours: Sequence[str],
    conditions: Sequence[str],
    assessed_on: dt.date,
    note: str | None,
    protocols: ProtocolSet,
    default_tz: str,
    today: dt.date,
) -> RiskAssessment:
    """Record a five-colour grade: the highest colour wins, purple can co-exist."""
    if pregnancy.status != PregnancyStatus.ONGOING:
        raise Conflict(_l("This pregnancy is closed."))
    if assessed_on > today:
        raise invalid("assessed_on", _l("This date cannot be in the future."))
    graded = [c for c in colours if c in GRADED]
    highest = max(graded, key=GRADED.index) if graded else "green"
    previous = latest_risk(session, pregnancy.id)
    assessment = RiskAssessment(
        pregnancy_id=pregnancy.id,
        seq=previous.seq + 1 if previous else 1,
        colour=highest,
        purple="purple" in colours,
        conditions=list(conditions),
        note=note,
        assessed_on=assessed_on,
        assessed_by=actor.id,
    )
    session.add(assessment)
    session.flush()
    sync_pregnancy(session, pregnancy=pregnancy, protocols=protocols, default_tz=default_tz)
    return assessment


def risk_history(session: Session, *, pregnancy: Pregnancy) -> list[RiskAssessment]:
    """Every grade of the pregnancy, newest first."""
    return list(
        session.scalars(
            select(RiskAssessment)
            .where(RiskAssessment.pregnancy_id == pregnancy.id)
            .order_by(RiskAssessment.seq.desc())
        )
    )


def _check_options(
    protocols: ProtocolSet,
    *,
    vaccine_choices: Mapping[str, str] | None,
    flags: Mapping[str, Any] | None,
) -> None:
    """Only choices and flags the protocols declare, with values they allow (422 otherwise)."""
    groups = {
        name: group
        for versions in protocols.programmes.values()
        for version in versions
        for name, group in version.choices.items()
    }
    errors: dict[str, list[Any]] = {}
    for name, value in (vaccine_choices or {}).items():
        if name not in groups or value not in groups[name].options:
            errors[f"vaccine_choices.{name}"] = [_l("Must be one of the allowed values.")]
    declared = protocols.definitions.flags
    for name, value in (flags or {}).items():
        if name not in declared or value not in declared[name].values:
            errors[f"flags.{name}"] = [_l("Must be one of the allowed values.")]
    if errors:
        raise InvalidInput(_l("Some fields are invalid."), errors=errors)


def set_options(
    session: Session,
    *,
    subject: Subject,
    vaccine_choices: Mapping[str, str] | None,
    flags: Mapping[str, Any] | None,
    anchors: Mapping[str, dt.date] | None,
    protocols: ProtocolSet,
    default_tz: str,
) -> CareOptions:
    """Record a subject's vaccine choices, flags or extra dates, then re-plan."""
    _check_options(protocols, vaccine_choices=vaccine_choices, flags=flags)
    options = _options(session, subject)
    if options is None:
        options = CareOptions(
            subject_kind=subject.kind,
            subject_id=subject.id,
            vaccine_choices={},
            flags={},
            anchors={},
        )
        session.add(options)
    if vaccine_choices is not None:
        options.vaccine_choices = {**options.vaccine_choices, **vaccine_choices}
    if flags is not None:
        options.flags = {**options.flags, **flags}
    if anchors is not None:
        merged = dict(options.anchors)
        for name, value in anchors.items():
            if value is None:
                merged.pop(name, None)
            else:
                merged[name] = value.isoformat()
        options.anchors = merged
    options.updated_at = utcnow()
    session.flush()
    sync(session, subject=subject, protocols=protocols, default_tz=default_tz)
    return options


# --- home measurements --------------------------------------------------------------------------


def measurement_kinds() -> dict[str, dict[str, Any]]:
    """The kinds of home measurement and their fields' plausible ranges (content/, at start-up)."""
    return dict(content.raw("measurements")["kinds"])


def _measurement_errors(kind: str, values: Mapping[str, Any]) -> dict[str, list[str]]:
    spec = measurement_kinds()[kind]["fields"]
    errors: dict[str, list[str]] = {}
    for name in values:
        if name not in spec:
            errors[f"values.{name}"] = [_("Unknown field.")]
    for name, rule in spec.items():
        value = values.get(name)
        key = f"values.{name}"
        if value is None:
            if rule.get("required"):
                errors[key] = [_("Missing data for required field.")]
            continue
        integer = rule["type"] == "integer"
        if isinstance(value, bool) or not isinstance(value, int if integer else int | float):
            errors[key] = [_("Not a valid integer.") if integer else _("Not a valid number.")]
        elif not rule["min"] <= value <= rule["max"]:
            errors[key] = [
                _(
                    "Enter a value from %(min)s to %(max)s %(unit)s.",
                    min=rule["min"],
                    max=rule["max"],
                    unit=rule["unit"],
                )
            ]
    sys, dia = values.get("systolic_mmhg"), values.get("diastolic_mmhg")
    if not errors and isinstance(sys, int) and isinstance(dia, int) and dia >= sys:
        errors["values.diastolic_mmhg"] = [_("The lower pressure must be below the upper one.")]
    return errors


def record_measurement(
    session: Session,
    *,
    subject: Subject,
    actor: User,
    kind: str,
    values: Mapping[str, Any],
    measured_at: dt.datetime,
) -> Measurement:
    """A home measurement, marked self-reported unless a doctor logged it."""
    if measured_at > utcnow() + dt.timedelta(minutes=5):
        raise invalid("measured_at", _l("This date cannot be in the future."))
    errors = _measurement_errors(kind, values)
    if errors:
        raise InvalidInput(_l("Some fields are invalid."), errors=errors)
    row = Measurement(
        subject_kind=subject.kind,
        subject_id=subject.id,
        person_id=subject.person.id,
        kind=kind,
        values=dict(values),
        measured_at=measured_at,
        self_reported=actor.role == "citizen",
        recorded_by=actor.id,
    )
    session.add(row)
    session.flush()
    return row


def measurements(
    session: Session, *, person: User, page: int, page_size: int, kind: str | None = None
) -> tuple[list[Measurement], int]:
    """A page of the person's measurements, newest first."""
    stmt = select(Measurement).where(Measurement.person_id == person.id)
    if kind:
        stmt = stmt.where(Measurement.kind == kind)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(
        stmt.order_by(Measurement.measured_at.desc(), Measurement.id)
        .limit(page_size)
        .offset((page - 1) * page_size)
    ).all()
    return list(rows), total


# --- doctors' worklists -------------------------------------------------------------------------

WORKLIST_HORIZON_DAYS = 7  # "due this week"
SEVERE = ("abnormal", "critical")


def _patients_of(doctor: User) -> Any:
    """The ids of citizens registered (建册) at the doctor's institution, as a subquery."""
    return select(Registration.user_id).where(
        Registration.institution_id == doctor.institution_id, Registration.left_at.is_(None)
    )


def _name_or_phone(q: str) -> Any:
    """Her name contains `q`, or her phone starts with it (`%` and `_` taken literally)."""
    text = escape_like(q)
    return or_(
        User.name.ilike(f"%{text}%", escape=LIKE_ESCAPE),
        User.phone.like(f"{text}%", escape=LIKE_ESCAPE),
    )


def _page(session: Session, stmt: Select[Any], page: int, page_size: int) -> tuple[list[Any], int]:
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    rows = session.execute(stmt.limit(page_size).offset((page - 1) * page_size)).all()
    return [tuple(r) for r in rows], total


def _filters(
    stmt: Select[Any], *, programme: str | None, subject_kind: str | None, q: str | None
) -> Select[Any]:
    if programme:
        stmt = stmt.where(CareStep.programme == programme)
    if subject_kind:
        stmt = stmt.where(CareStep.subject_kind == subject_kind)
    if q:
        stmt = stmt.where(_name_or_phone(q))
    return stmt


def _worklist(
    session: Session,
    *,
    doctor: User,
    where: Sequence[Any],
    order_by: Sequence[Any],
    page: int,
    page_size: int,
    programme: str | None,
    subject_kind: str | None,
    q: str | None,
) -> tuple[list[tuple[CareStep, User]], int]:
    """Steps of the doctor's patients matching `where`, with the patient, one page."""
    stmt = (
        select(CareStep, User)
        .join(User, User.id == CareStep.person_id)
        .where(CareStep.person_id.in_(_patients_of(doctor)), *where)
        .order_by(*order_by, CareStep.id)
    )
    stmt = _filters(stmt, programme=programme, subject_kind=subject_kind, q=q)
    return _page(session, stmt, page, page_size)


def worklist_due(
    session: Session, *, doctor: User, today: dt.date, **args: Any
) -> tuple[list[tuple[CareStep, User]], int]:
    """Steps open now or opening within the week, soonest deadline first."""
    horizon = today + dt.timedelta(days=WORKLIST_HORIZON_DAYS)
    return _worklist(
        session,
        doctor=doctor,
        where=[
            CareStep.state == StepState.PENDING,
            CareStep.opens_on <= horizon,
            CareStep.due_on >= today,
        ],
        order_by=[CareStep.due_on, CareStep.opens_on],
        **_worklist_args(args),
    )


def worklist_overdue(
    session: Session, *, doctor: User, today: dt.date, **args: Any
) -> tuple[list[tuple[CareStep, User]], int]:
    """Steps past their due date whose window is still open: the longest overdue first."""
    return _worklist(
        session,
        doctor=doctor,
        where=[
            CareStep.state == StepState.PENDING,
            CareStep.due_on < today,
            CareStep.closes_on >= today,
        ],
        order_by=[CareStep.due_on, CareStep.closes_on],
        **_worklist_args(args),
    )


def worklist_abnormal(
    session: Session, *, doctor: User, **args: Any
) -> tuple[list[tuple[CareStep, User]], int]:
    """Abnormal or critical results whose follow-up is not done yet: critical first."""
    follow_up = aliased(CareStep)
    followed = (
        select(follow_up.id)
        .where(
            follow_up.subject_kind == CareStep.subject_kind,
            follow_up.subject_id == CareStep.subject_id,
            follow_up.follows_up == CareStep.code,
            follow_up.state == StepState.DONE,
        )
        .exists()
    )
    critical_first = case((CareStep.interpretation == "critical", 0), else_=1)
    return _worklist(
        session,
        doctor=doctor,
        where=[CareStep.state == StepState.DONE, CareStep.interpretation.in_(SEVERE), ~followed],
        order_by=[critical_first, CareStep.done_on.desc()],
        **_worklist_args(args),
    )


def _worklist_args(args: Mapping[str, Any]) -> dict[str, Any]:
    """Paging and filters of a worklist query, with their defaults."""
    return {
        "page": args["page"],
        "page_size": args["page_size"],
        "programme": args.get("programme"),
        "subject_kind": args.get("subject_kind"),
        "q": args.get("q"),
    }


def worklist_high_risk(
    session: Session, *, doctor: User, page: int, page_size: int, q: str | None = None
) -> tuple[list[tuple[Pregnancy, User, RiskAssessment]], int]:
    """Ongoing pregnancies graded orange, red or purple (专案管理): red first, then by EDD."""
    latest = (
        select(func.max(RiskAssessment.seq))
        .where(RiskAssessment.pregnancy_id == Pregnancy.id)
        .correlate(Pregnancy)
        .scalar_subquery()
    )
    severity = case(
        (RiskAssessment.colour == "red", 0), (RiskAssessment.colour == "orange", 1), else_=2
    )
    stmt = (
        select(Pregnancy, User, RiskAssessment)
        .join(User, User.id == Pregnancy.woman_id)
        .join(RiskAssessment, RiskAssessment.pregnancy_id == Pregnancy.id)
        .where(
            Pregnancy.woman_id.in_(_patients_of(doctor)),
            Pregnancy.status == PregnancyStatus.ONGOING,
            RiskAssessment.seq == latest,
            or_(RiskAssessment.colour.in_(["orange", "red"]), RiskAssessment.purple.is_(True)),
        )
        .order_by(severity, Pregnancy.edd, Pregnancy.id)
    )
    if q:
        stmt = stmt.where(_name_or_phone(q))
    return _page(session, stmt, page, page_size)


SCREENING_CODES = ("risk_screening", "risk_screening_catch_up")


def worklist_ungraded(
    session: Session,
    *,
    doctor: User,
    today: dt.date,
    protocols: ProtocolSet,
    page: int,
    page_size: int,
    q: str | None = None,
) -> tuple[list[tuple[Pregnancy, User]], int]:
    """Ongoing pregnancies past the regular screening window with no grade: the oldest first.

    Past the window means beyond `risk_screening`'s closing offset (12+6, content/protocols/
    risk_management.yaml); no grade means no risk assessment and no negative (green) screening.
    A late registrant therefore reaches the doctor however late she booked (clinical audit).
    """
    closes = protocols.item("risk_screening").window.closes
    term = protocols.definitions.term_gestation.days
    # GA today > closes  ⇔  EDD − term + closes < today  ⇔  EDD < today + term − closes.
    latest_edd = today + dt.timedelta(days=term - closes.days)
    graded = select(RiskAssessment.id).where(RiskAssessment.pregnancy_id == Pregnancy.id).exists()
    screened_green = (
        select(CareStep.id)
        .where(
            CareStep.subject_kind == SubjectKind.PREGNANCY,
            CareStep.subject_id == Pregnancy.id,
            CareStep.code.in_(SCREENING_CODES),
            CareStep.state == StepState.DONE,
            CareStep.interpretation == "normal",
        )
        .exists()
    )
    stmt = (
        select(Pregnancy, User)
        .join(User, User.id == Pregnancy.woman_id)
        .where(
            Pregnancy.woman_id.in_(_patients_of(doctor)),
            Pregnancy.status == PregnancyStatus.ONGOING,
            Pregnancy.edd < latest_edd,
            ~graded,
            ~screened_green,
        )
        .order_by(Pregnancy.edd, Pregnancy.id)
    )
    if q:
        stmt = stmt.where(or_(User.name.ilike(f"%{q}%"), User.phone.like(f"{q}%")))
    return _page(session, stmt, page, page_size)


# --- presentation -------------------------------------------------------------------------------


def _text(text: Mapping[str, str] | None, locale: str) -> str | None:
    if not text:
        return None
    return text.get(locale) or text.get("zh_CN") or next(iter(text.values()))


# What a phone's list screen does not show: in the step's own view (and with view=full).
LIST_DETAIL = ("programme", "version", "why", "source", "follows_up", "reason")


def step_view(
    step: CareStep,
    *,
    protocols: ProtocolSet,
    locale: str,
    today: dt.date,
    detail: bool = False,
    compact: bool = False,
) -> dict[str, Any]:
    """A step as clients see it: window, status, localized title and why, and the source
    (compact: without LIST_DETAIL, for schedule lists)."""
    item = protocols.item(step.code, on=step.opens_on)
    if compact:
        return {
            "id": step.id,
            "code": step.code,
            "subject": {"kind": step.subject_kind, "id": step.subject_id},
            "opens_on": step.opens_on,
            "due_on": step.due_on,
            "closes_on": step.closes_on,
            "status": display_status(step, today),
            "title": _text(item.title, locale),
            "optional": item.optional,
            "actor": item.actor,
            "closed_before_enrolment": step.closed_before_enrolment,
            "done_on": step.done_on,
            "interpretation": step.interpretation,
            "not_done_reason": step.not_done_reason,
        }
    view = {
        "id": step.id,
        "code": step.code,
        "subject": {"kind": step.subject_kind, "id": step.subject_id},
        "programme": step.programme,
        "version": step.version,
        "opens_on": step.opens_on,
        "due_on": step.due_on,
        "closes_on": step.closes_on,
        "status": display_status(step, today),
        "title": _text(item.title, locale),
        "why": _text(item.why, locale),
        "source": {
            "ids": list(item.source.ids),
            "title": item.source.title,
            "verified": item.verified,
            **(item.signoff or {}),
        },
        "optional": item.optional,
        "actor": item.actor,
        "closed_before_enrolment": step.closed_before_enrolment,
        "follows_up": step.follows_up,
        "done_on": step.done_on,
        "interpretation": step.interpretation,
        "not_done_reason": step.not_done_reason,
        "reason": step.reason,
    }
    if detail:  # what a doctor needs to log a result; lists stay light
        view["result_fields"] = [
            {
                "name": f.name,
                "type": f.type,
                "unit": f.unit,
                "min": f.min,
                "max": f.max,
                "values": list(f.values),
                "per_side": f.per_side,
                "required": f.required,
                "label": _text(f.label, locale),
            }
            for f in item.results
        ]
        view["parts"] = [
            {
                "code": p.code,
                "title": _text(p.title, locale),
                "required": p.required,
                "sexes": list(p.sexes),
            }
            for p in item.parts
        ]
    return view
