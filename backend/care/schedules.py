"""Reading schedules: date-derived statuses, a person's schedule and the view of one step."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import uuid
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import orjson
from sqlalchemy import (
    BindParameter,
    String,
    Subquery,
    Uuid,
    and_,
    bindparam,
    func,
    literal,
    or_,
    select,
    union_all,
)
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
from backend.care.protocols import ProtocolSet
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


def subjects_query(person_id: uuid.UUID | BindParameter[uuid.UUID]) -> Subquery:
    """Her subjects as (kind, id) rows, in SQL: herself, her pregnancies, her wards."""
    person = person_id if isinstance(person_id, BindParameter) else literal(person_id, Uuid())
    return union_all(
        select(
            literal(SubjectKind.WOMAN.value, String(16)).label("kind"),
            person.label("id"),
        ),
        select(literal(SubjectKind.PREGNANCY.value, String(16)), Pregnancy.id).where(
            Pregnancy.woman_id == person_id
        ),
        select(literal(SubjectKind.CHILD.value, String(16)), Guardian.child_id).where(
            Guardian.user_id == person_id
        ),
    ).subquery("subjects")


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
    compact: bool = False,
) -> tuple[list[Any], int]:
    """A page of the person's steps (hers, her pregnancies', her children's), by date.

    One query for the page and its total (a window count): the round trips of a GET
    /me/schedule do not grow with her history. Her subjects come as a small (kind, id) list
    joined on ix_care_steps_subject, so each is an index probe; an OR of the three kinds would
    make PostgreSQL scan every pregnancy's and child's step of the city and filter them.
    `compact`: rows of COMPACT_COLUMNS instead of CareStep objects, for compact step views."""
    entities: tuple[Any, ...] = COMPACT_COLUMNS if compact else (CareStep,)
    if subject_id is None and not status and since is None and until is None:
        # What a phone polls: a statement built once (building it cost as much as running it);
        # plain columns run on the session's connection (Core), without the ORM's per-call
        # set-up, which cost a third of the statement: CareStep objects need the session.
        run = session.connection().execute if compact else session.execute
        rows = run(
            _whole_schedule(compact),
            {"person": person.id, "limit": page_size, "offset": (page - 1) * page_size},
        ).all()
        everything = _whole_schedule(compact, paged=False)
        return _page_of(rows, compact, page, session, everything, {"person": person.id})
    if subject_id is None:
        stmt: AnySelect = select(*entities).join(
            mine := subjects_query(person.id),
            and_(CareStep.subject_kind == mine.c.kind, CareStep.subject_id == mine.c.id),
        )
    else:
        subjects = [s for s in subjects_of(session, person) if s[1] == subject_id]
        if not subjects:
            raise invalid("subject", _l("No such record."))
        stmt = select(*entities).where(
            CareStep.subject_kind == subjects[0][0], CareStep.subject_id == subject_id
        )
    if status:
        stmt = stmt.where(or_(*(status_clause(s, today) for s in status)))
    if since is not None:
        stmt = stmt.where(CareStep.closes_on >= since)
    if until is not None:
        stmt = stmt.where(CareStep.opens_on <= until)
    rows = session.execute(_paged(stmt).limit(page_size).offset((page - 1) * page_size)).all()
    return _page_of(rows, compact, page, session, stmt, {})


def _paged(stmt: AnySelect) -> AnySelect:
    """The page's rows with the total (a window count), in the schedule's order."""
    return stmt.add_columns(func.count().over().label("total")).order_by(
        CareStep.due_on, CareStep.opens_on, CareStep.code
    )


@functools.cache
def _whole_schedule(compact: bool, paged: bool = True) -> AnySelect:
    """All her steps (bound: person; paged: limit and offset), built once per shape."""
    entities: tuple[Any, ...] = COMPACT_COLUMNS if compact else (CareStep,)
    mine = subjects_query(bindparam("person", type_=Uuid()))
    stmt: AnySelect = select(*entities).join(
        mine, and_(CareStep.subject_kind == mine.c.kind, CareStep.subject_id == mine.c.id)
    )
    if not paged:
        return stmt
    return _paged(stmt).limit(bindparam("limit")).offset(bindparam("offset"))


def _page_of(
    rows: Sequence[Any],
    compact: bool,
    page: int,
    session: Session,
    stmt: AnySelect,
    params: dict[str, Any],
) -> tuple[list[Any], int]:
    """The page's steps (rows for `compact`) and the total of `stmt` (run with `params`)."""
    if rows:
        if compact:
            return [CompactStep._make(row) for row in rows], int(rows[0].total)
        return [row[0] for row in rows], int(rows[0].total)
    if page == 1:
        return [], 0
    # Past the last page: the window count has no row to ride on.
    return [], session.scalar(select(func.count()).select_from(stmt.subquery()), params) or 0


# What a compact view reads: selected as plain rows (attribute names as on CareStep), since an
# ORM object per step, or deferred columns on it, cost more than the rest of the request.
COMPACT_COLUMNS = (
    CareStep.id,
    CareStep.code,
    CareStep.subject_kind,
    CareStep.subject_id,
    CareStep.opens_on,
    CareStep.due_on,
    CareStep.closes_on,
    CareStep.state,
    CareStep.closed_before_enrolment,
    CareStep.done_on,
    CareStep.interpretation,
    CareStep.not_done_reason,
)


class CompactStep(NamedTuple):
    """A row of COMPACT_COLUMNS and the page's total, as a plain tuple: a page reads each
    field several times (its view, status and ETag), and a SQLAlchemy row's attribute costs
    ten times a tuple's."""

    id: uuid.UUID
    code: str
    subject_kind: str
    subject_id: uuid.UUID
    opens_on: dt.date
    due_on: dt.date
    closes_on: dt.date
    state: str
    closed_before_enrolment: bool
    done_on: dt.date | None
    interpretation: str | None
    not_done_reason: str | None
    total: int


assert CompactStep._fields[:-1] == tuple(c.key for c in COMPACT_COLUMNS)


def page_version(steps: Sequence[Any], total: int, *, compact: bool) -> str:
    """What a page of steps shows, from the loaded rows, for its ETag: the same rows give the
    same body (with the same day, language and protocols), without building it. A digest of
    the rows written as JSON (orjson: a tenth of the time `repr` took for a page of 50)."""
    rows: list[tuple[Any, ...]] = (
        [tuple(s) for s in steps]  # CompactStep: the columns as read
        if compact
        else [
            (
                s.id,
                s.code,
                s.subject_kind,
                s.subject_id,
                s.opens_on,
                s.due_on,
                s.closes_on,
                s.state,
                s.closed_before_enrolment,
                s.done_on,
                s.interpretation,
                s.not_done_reason,
                s.programme,
                s.version,
                s.follows_up,
                s.reason,
            )
            for s in steps
        ]
    )
    written = orjson.dumps([total, rows], option=orjson.OPT_NON_STR_KEYS)
    return hashlib.blake2b(written, digest_size=16).hexdigest()


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
    (compact: without LIST_DETAIL, for schedule lists; then `step` may be a row of
    COMPACT_COLUMNS)."""
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
