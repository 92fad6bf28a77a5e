"""Reading schedules: date-derived statuses, a person's schedule and the view of one step."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from backend.auth.models import User
from backend.care import engine
from backend.care.models import (
    CareResult,
    CareStep,
    StepState,
    StepWindowChange,
    SubjectKind,
)
from backend.care.protocols import (
    ProtocolSet,
)
from backend.errors import invalid
from backend.handbook.models import Guardian, Pregnancy
from backend.i18n import _l
from backend.paging import AnySelect

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
    stmt: AnySelect = select(CareStep).where(mine)
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


def step_history(
    session: Session, *, step: CareStep
) -> tuple[list[CareResult], list[StepWindowChange]]:
    """A step's results and the changes of its window, oldest first (two queries)."""
    results = session.scalars(
        select(CareResult).where(CareResult.step_id == step.id).order_by(CareResult.recorded_at)
    ).all()
    changes = session.scalars(
        select(StepWindowChange)
        .where(StepWindowChange.step_id == step.id)
        .order_by(StepWindowChange.at)
    ).all()
    return list(results), list(changes)


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
