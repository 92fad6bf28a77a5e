"""Doctors' worklists: due, overdue, abnormal, high-risk and ungraded, set-based and paged."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import Session, aliased

from backend.auth.models import Registration, User
from backend.care.models import (
    CareStep,
    RiskAssessment,
    StepState,
    SubjectKind,
)
from backend.care.protocols import (
    ProtocolSet,
)
from backend.db import LIKE_ESCAPE, escape_like
from backend.handbook.models import Pregnancy, PregnancyStatus
from backend.paging import AnySelect, paginate_rows

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


def _page(session: Session, stmt: AnySelect, page: int, page_size: int) -> tuple[list[Any], int]:
    return paginate_rows(session, stmt, page=page, page_size=page_size)


def _filters(
    stmt: AnySelect, *, programme: str | None, subject_kind: str | None, q: str | None
) -> AnySelect:
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
