"""Family benefits from her record: the leave for each birth or loss on record (or a planned
birth) and the childcare subsidy of each child."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from backend.auth.models import User
from backend.benefits.leave import BirthFacts, leave_for
from backend.benefits.rules import BenefitRules
from backend.benefits.subsidy import childcare_subsidy
from backend.errors import invalid
from backend.handbook import service as handbook_service
from backend.handbook.models import PregnancyStatus
from backend.i18n import _l
from backend.localized import plain


def planned_birth(args: Mapping[str, Any]) -> tuple[dt.date, int] | None:
    """The planned birth of the query: its date and child order, given together or not at all."""
    if "birth_date" not in args and "child_order" not in args:
        return None
    if "birth_date" not in args:
        raise invalid("birth_date", _l("Give the birth date with the child order."))
    if "child_order" not in args:
        raise invalid("child_order", _l("Give the child order with the birth date."))
    return args["birth_date"], args["child_order"]


def benefits(
    session: Session,
    *,
    woman: User,
    rules: BenefitRules,
    today: dt.date,
    locale: str,
    planned: tuple[dt.date, int] | None = None,
) -> dict[str, Any]:
    """Leave for every birth or loss on record (or a planned birth), and each child's subsidy."""
    pregnancies, children = handbook_service.all_records(session, person=woman)
    events: list[dict[str, Any]] = []
    for p in sorted(pregnancies, key=lambda p: p.ended_on or dt.date.max):
        if p.ended_on is None or p.status == PregnancyStatus.ONGOING:
            continue
        if p.status == PregnancyStatus.DELIVERED:
            earlier = len({c.birth_date for c in children if c.birth_date < p.ended_on})
            facts = BirthFacts(
                date=p.ended_on,
                child_order=earlier + 1,
                babies=max(len(p.children), 1),
                caesarean=p.delivery_mode == "caesarean",
            )
            event = "birth"
        else:
            # A stillbirth too: no live baby, so no nursing time or parental leave; the bands of
            # pregnancy_loss decide, and at 28 weeks or more they say it is unsettled (issue 9).
            facts = BirthFacts(date=p.ended_on, loss_ga_weeks=(p.ga_at_end_days or 0) // 7)
            event = "loss"
        events.append(
            {
                "event": event,
                "pregnancy_id": str(p.id),
                "date": p.ended_on.isoformat(),
                "leave": plain(leave_for(facts, rules), locale),
            }
        )
    for child in children:
        if child.pregnancy_id is not None:
            continue  # its birth is on record with its pregnancy above
        same_day = [c for c in children if c.birth_date == child.birth_date]
        if child is not min(same_day, key=lambda c: (c.birth_order, str(c.id))):
            continue  # twins entered one by one: one birth
        earlier = len({c.birth_date for c in children if c.birth_date < child.birth_date})
        facts = BirthFacts(date=child.birth_date, child_order=earlier + 1, babies=len(same_day))
        events.append(
            {
                "event": "birth",
                "pregnancy_id": None,
                "date": child.birth_date.isoformat(),
                "leave": plain(leave_for(facts, rules), locale),
            }
        )
    events.sort(key=lambda e: e["date"])
    result: dict[str, Any] = {
        "events": events,
        "children": [
            {
                "child_id": str(c.id),
                "name": c.name,
                "birth_date": c.birth_date.isoformat(),
                "childcare_subsidy": plain(childcare_subsidy(c.birth_date, rules, today), locale),
            }
            for c in children
        ],
        "planned": None,
    }
    if planned is not None:
        birth_date, child_order = planned
        facts = BirthFacts.planned(birth_date, child_order)
        result["planned"] = {
            "birth_date": birth_date.isoformat(),
            "child_order": child_order,
            "leave": plain(leave_for(facts, rules), locale),
            "childcare_subsidy": plain(childcare_subsidy(birth_date, rules, today), locale),
        }
    return result
