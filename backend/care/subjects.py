"""A care subject (pregnancy, child, woman) and the facts the engine plans from, read in batches."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from backend import clock
from backend.auth.models import User
from backend.care import engine
from backend.care.models import (
    CareOptions,
    CareResult,
    CareStep,
    RiskAssessment,
    StepState,
    SubjectKind,
)
from backend.db import utcnow
from backend.errors import NotFound
from backend.handbook import service as handbook_service
from backend.handbook.models import Child, GuardianRelation, Pregnancy, PregnancyStatus
from backend.i18n import _l

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
