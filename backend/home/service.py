"""What the home screen shows, each part read by the domain that owns it, in a fixed number of
queries whatever the number of children, steps or lessons (a slow phone makes one request)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.auth.models import User
from backend.auth.policy import Action, authorize
from backend.care import service as care_service
from backend.care.protocols import ProtocolSet
from backend.clock import person_today
from backend.education import feed
from backend.handbook import dating
from backend.handbook import service as handbook_service
from backend.handbook.models import Child, Guardian, Pregnancy, PregnancyStatus
from backend.months import add_months
from backend.regimens import service as regimen_service
from backend.regimens.folic_acid import FolicAcid
from backend.reminders import service as reminder_service

NEXT_STEPS = 3
OPEN_STATUSES = ("overdue", "due", "upcoming")


def child_age(birth: dt.date, today: dt.date) -> dict[str, int]:
    """A child's age as years, months and days (months the way parents count them)."""
    months = feed.age_in_months(birth, today)
    anniversary = add_months(birth, months)
    return {"years": months // 12, "months": months % 12, "days": (today - anniversary).days}


def _pregnancy(session: Session, user: User, today: dt.date) -> dict[str, Any] | None:
    row = session.scalars(
        select(Pregnancy).where(
            Pregnancy.woman_id == user.id, Pregnancy.status == PregnancyStatus.ONGOING
        )
    ).first()
    if row is None:
        return None
    risk = care_service.latest_risk(session, row.id)
    return {
        "id": row.id,
        "edd": row.edd,
        "gestational_age": dating.gestational_age(row.edd, today),
        "risk_colour": risk.colour if risk else None,
        "risk_purple": bool(risk and risk.purple),
    }


def _children(session: Session, user: User, today: dt.date) -> list[dict[str, Any]]:
    rows = session.execute(
        select(Child.id, Child.name, Child.sex, Child.birth_date)
        .join(Guardian, Guardian.child_id == Child.id)
        .where(Guardian.user_id == user.id)
        .order_by(Child.birth_date)
    )
    return [
        {
            "id": r.id,
            "name": r.name,
            "sex": r.sex,
            "birth_date": r.birth_date,
            "age": child_age(r.birth_date, today),
        }
        for r in rows
    ]


def _folic_acid(
    session: Session, user: User, content: FolicAcid, locale: str, default_tz: str
) -> dict[str, Any] | None:
    regimen = regimen_service.latest(session, user_id=user.id)
    if regimen is None:
        return None
    authorize(session, user, Action.READ, regimen)
    view = regimen_service.overview(
        session, regimen=regimen, content=content, locale=locale, default_tz=default_tz
    )
    keys = ("id", "status", "dose", "ask_doctor", "today", "current_streak", "ends_on")
    return {key: view[key] for key in keys}


def _lesson(session: Session, user: User, today: dt.date, locale: str) -> dict[str, Any] | None:
    """This week's lesson: the first one that fits now and is not read yet, else the first."""
    sections, _ = feed.feed(
        session, person=user, today=today, locale=locale, page=1, page_size=50, next_limit=0
    )
    fitting = [item for s in sections for item in s["now"]]
    unread = [item for item in fitting if item["read_at"] is None]
    first: dict[str, Any] | None = (unread or fitting or [None])[0]
    return first


def home(
    session: Session,
    *,
    user: User,
    protocols: ProtocolSet,
    folic_acid: FolicAcid,
    locale: str,
    default_tz: str,
) -> dict[str, Any]:
    """The home screen of a citizen, as of her today."""
    today = person_today(user, default_tz)
    steps, _ = care_service.schedule(
        session,
        person=user,
        today=today,
        page=1,
        page_size=NEXT_STEPS,
        status=list(OPEN_STATUSES),
    )
    _, _, unread = reminder_service.inbox(session, user=user, page=1, page_size=1)
    return {
        "today": today,
        "name": user.name,
        "life_stages": handbook_service.life_stages(session, person=user, today=today),
        "pregnancy": _pregnancy(session, user, today),
        "children": _children(session, user, today),
        "next_steps": [
            care_service.step_view(s, protocols=protocols, locale=locale, today=today)
            for s in steps
        ],
        "folic_acid": _folic_acid(session, user, folic_acid, locale, default_tz),
        "unread_count": unread,
        "lesson": _lesson(session, user, today, locale),
    }
