"""Children: entered by a guardian or created by a recorded birth, and corrected.

A recent child entered by its mother also records the delivery it implies (`_delivery_of`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.auth.models import User
from backend.clock import person_today
from backend.errors import invalid
from backend.handbook import dating, signals
from backend.handbook.models import (
    Child,
    DatingDecision,
    DatingSource,
    Guardian,
    GuardianRelation,
    Pregnancy,
    PregnancyStatus,
    Sex,
)
from backend.handbook.pregnancies import add_revision
from backend.handbook.service import flush, ga_days, touch
from backend.i18n import _l
from backend.paging import paginate


def list_children(
    session: Session, *, guardian: User, page: int, page_size: int
) -> tuple[list[Child], int]:
    """A page of the children the user is guardian of, the eldest first, and their total."""
    where = Guardian.user_id == guardian.id
    stmt = (
        select(Child)
        .join(Guardian, Guardian.child_id == Child.id)
        .where(where)
        .order_by(Child.birth_date, Child.birth_order, Child.id)
    )
    return paginate(session, stmt, page=page, page_size=page_size)


def _check_child_facts(data: Mapping[str, Any], *, today: dt.date) -> None:
    birth_date = data.get("birth_date")
    if birth_date is None:
        return
    if birth_date > today:
        raise invalid("birth_date", _l("The birth date cannot be in the future."))
    max_age = int(dating.plausibility()["child"]["max_age_years"])
    if dating.age_in_years(birth_date, today) >= max_age:
        raise invalid(
            "birth_date", _l("The handbook follows children up to %(years)s years.", years=max_age)
        )


def _child_values(data: Mapping[str, Any]) -> dict[str, Any]:
    values = {
        k: data[k]
        for k in ("name", "sex", "birth_date", "birth_weight_g", "birth_length_cm")
        if k in data
    }
    if "ga_weeks" in data:
        weeks = data["ga_weeks"]
        values["ga_at_birth_days"] = None if weeks is None else ga_days(weeks, data.get("ga_days"))
    return values


def create_child(
    session: Session, *, guardian: User, data: Mapping[str, Any], default_tz: str
) -> Child:
    """Enter a child born before the family joined; the user becomes its guardian."""
    _check_child_facts(data, today=person_today(guardian, default_tz))
    relation = data.get("relation") or (
        GuardianRelation.FATHER if guardian.sex == Sex.MALE else GuardianRelation.MOTHER
    )
    child = Child(
        **_child_values(data),
        birth_order=data.get("birth_order", 1),
        guardians=[Guardian(user_id=guardian.id, relation=relation)],
    )
    session.add(child)
    flush(session)
    delivery = None
    if relation == GuardianRelation.MOTHER:
        delivery = _delivery_of(session, mother=guardian, child=child, default_tz=default_tz)
    if delivery is not None and len(delivery.children) == 1:
        signals.birth_recorded.send(delivery, session=session, pregnancy=delivery, children=[child])
    signals.child_added.send(child, session=session, child=child)
    return child


def _delivery_of(
    session: Session, *, mother: User, child: Child, default_tz: str
) -> Pregnancy | None:
    """A recent child entered by its mother is also her birth: record the delivery it implies.

    Her postpartum care, contraception advice and benefits all read deliveries, so a mother who
    joins after the birth gets them like one who recorded her pregnancy (clinical audit, issue 9).
    Nothing is invented: the EDD is the birth date shifted by the gestational age when given,
    the delivery mode and breastfeeding stay unknown. A twin entered later joins the same birth.
    """
    limit = int(dating.plausibility()["child"]["mother_entry_is_birth_below_years"])
    if dating.age_in_years(child.birth_date, person_today(mother, default_tz)) >= limit:
        return None
    delivery = session.scalars(
        select(Pregnancy).where(
            Pregnancy.woman_id == mother.id,
            Pregnancy.status == PregnancyStatus.DELIVERED,
            Pregnancy.ended_on == child.birth_date,
        )
    ).first()
    if delivery is None:
        ga = child.ga_at_birth_days
        edd = child.birth_date + dt.timedelta(days=dating.term_days() - ga if ga else 0)
        delivery = Pregnancy(
            woman_id=mother.id,
            woman=mother,
            edd=edd,
            edd_source=DatingSource.BIRTH,
            status=PregnancyStatus.DELIVERED,
            ended_on=child.birth_date,
            ga_at_end_days=ga,
            dating_history=[],
            children=[],
        )
        add_revision(
            delivery,
            mother,
            None,
            source=DatingSource.BIRTH,
            proposed_edd=edd,
            previous_edd=None,
            edd=edd,
            replaced=True,
            decision=DatingDecision.INITIAL,
        )
        session.add(delivery)
    delivery.children.append(child)
    flush(session)
    return delivery


def update_child(
    session: Session, *, child: Child, actor: User, data: Mapping[str, Any], default_tz: str
) -> Child:
    """Correct a child's facts (dates are checked in the zone of whoever enters them)."""
    _check_child_facts(data, today=person_today(actor, default_tz))
    for key, value in _child_values(data).items():
        setattr(child, key, value)
    if "birth_order" in data:
        child.birth_order = data["birth_order"]
    touch(child)
    flush(session)
    signals.child_changed.send(child, session=session, child=child)
    return child
