"""A regimen's lifecycle: created, stopped or completed, and following her pregnancy.

The handbook's signals drive it (backend.regimens.receivers): a pregnancy recorded or redated
dates the regimen's end by the first trimester, a loss stops it, a birth completes it; the daily
job completes the regimens whose last day has passed. `plans` creates and finishes regimens
through the same functions. Each change sends `regimen_changed` after flushing.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend import clock
from backend.auth.models import User
from backend.clock import person_today
from backend.handbook.models import Pregnancy, PregnancyStatus
from backend.regimens import signals
from backend.regimens.folic_acid import FolicAcid
from backend.regimens.models import Regimen, RegimenStatus, StopReason
from backend.regimens.service import (
    DEFAULT_REMINDER_TIME,
    KIND,
    active,
    latest,
    of_pregnancy,
    recorded_risk_factors,
)


def snapshot(regimen: Regimen) -> tuple[Any, ...]:
    """What the reminder planner reads: a change to any of these re-plans."""
    return (
        regimen.status,
        regimen.starts_on,
        regimen.ends_on,
        regimen.stopped_on,
        regimen.reminder_time,
        regimen.tier,
    )


def changed(session: Session, regimen: Regimen) -> None:
    """Flush, then tell the reminder planner (`regimen_changed`)."""
    session.flush()
    signals.regimen_changed.send(regimen, session=session, regimen=regimen)


def _last_reminder_time(session: Session, woman_id: uuid.UUID) -> dt.time | None:
    """The time she chose for her previous regimen, kept when she starts again."""
    regimen = latest(session, user_id=woman_id)
    return regimen.reminder_time if regimen else None


def create(
    session: Session,
    *,
    woman: User,
    content: FolicAcid,
    codes: list[str],
    starts_on: dt.date,
    plan_date: dt.date | None = None,
    pregnancy_id: uuid.UUID | None = None,
    ends_on: dt.date | None = None,
    reminder_time: dt.time | None = None,
) -> Regimen:
    regimen = Regimen(
        user_id=woman.id,
        user=woman,
        kind=KIND,
        tier=content.tier_for(codes).code,
        risk_factors=list(codes),
        plan_date=plan_date,
        pregnancy_id=pregnancy_id,
        starts_on=starts_on,
        ends_on=ends_on,
        reminder_time=reminder_time
        or _last_reminder_time(session, woman.id)
        or DEFAULT_REMINDER_TIME,
        status=RegimenStatus.ACTIVE,
    )
    session.add(regimen)
    changed(session, regimen)
    return regimen


def finish(session: Session, regimen: Regimen, *, status: str, reason: str, on: dt.date) -> None:
    """Stop or complete the regimen; `on` is the last day it covered."""
    regimen.status = status
    regimen.stop_reason = reason
    regimen.stopped_on = on
    changed(session, regimen)


def complete_if_past(session: Session, regimen: Regimen, *, today: dt.date) -> bool:
    """Persist the completion of an active regimen whose last day has passed."""
    if regimen.status == RegimenStatus.ACTIVE and regimen.ends_on and today > regimen.ends_on:
        finish(
            session,
            regimen,
            status=RegimenStatus.COMPLETED,
            reason=StopReason.END_OF_SPAN,
            on=regimen.ends_on,
        )
        return True
    return False


# --- following her pregnancy, from the handbook's signals -----------------------------------------


def follow_pregnancy(
    session: Session, *, pregnancy: Pregnancy, content: FolicAcid, default_tz: str
) -> Regimen | None:
    """A pregnancy was recorded or redated: date her regimen's end by it, or start one today."""
    if pregnancy.status != PregnancyStatus.ONGOING:
        return None
    woman = pregnancy.woman
    today = person_today(woman, default_tz)
    ends_on = content.ends_on(pregnancy.edd)
    current = active(session, user_id=woman.id)
    linked = of_pregnancy(session, pregnancy.id)
    regimen = linked[0] if linked else current
    if regimen is None:
        if today > ends_on:
            return None  # recorded after the first trimester: nothing left to take
        return create(
            session,
            woman=woman,
            content=content,
            codes=recorded_risk_factors(session, user_id=woman.id),
            starts_on=today,
            pregnancy_id=pregnancy.id,
            ends_on=ends_on,
        )
    before = snapshot(regimen)
    reopen = (
        regimen.status == RegimenStatus.COMPLETED
        and regimen.stop_reason == StopReason.END_OF_SPAN
        and today <= ends_on
        and current is None
    )
    if regimen.status != RegimenStatus.ACTIVE and not reopen:
        return regimen
    if reopen:
        # A redating moved the end of the first trimester past today: it runs again.
        regimen.status, regimen.stop_reason, regimen.stopped_on = RegimenStatus.ACTIVE, None, None
    regimen.pregnancy_id = pregnancy.id
    regimen.ends_on = ends_on
    regimen.starts_on = min(regimen.starts_on, today)
    session.flush()
    if not complete_if_past(session, regimen, today=today) and snapshot(regimen) != before:
        changed(session, regimen)
    return regimen


def stop_for_loss(session: Session, *, pregnancy: Pregnancy) -> None:
    """The pregnancy ended without a birth: its regimen stops at once (kept as history)."""
    ended_on = pregnancy.ended_on
    assert ended_on is not None
    for regimen in of_pregnancy(session, pregnancy.id):
        if regimen.status != RegimenStatus.ACTIVE:
            continue
        if regimen.ends_on is not None and regimen.ends_on < ended_on:
            finish(
                session,
                regimen,
                status=RegimenStatus.COMPLETED,
                reason=StopReason.END_OF_SPAN,
                on=regimen.ends_on,
            )
        else:
            finish(
                session, regimen, status=RegimenStatus.STOPPED, reason=StopReason.LOSS, on=ended_on
            )


def complete_at_birth(session: Session, *, pregnancy: Pregnancy) -> None:
    """A birth closes the pregnancy: a regimen still active completes."""
    born_on = pregnancy.ended_on
    assert born_on is not None
    for regimen in of_pregnancy(session, pregnancy.id):
        if regimen.status != RegimenStatus.ACTIVE:
            continue
        if regimen.ends_on is not None and regimen.ends_on < born_on:
            reason, last = StopReason.END_OF_SPAN, regimen.ends_on
        else:
            reason, last = StopReason.BIRTH, born_on
        finish(session, regimen, status=RegimenStatus.COMPLETED, reason=reason, on=last)


def complete_past_end(session: Session, *, default_tz: str) -> list[Regimen]:
    """Persist as completed every active regimen whose last day has passed (the daily job)."""
    # No one's local date is later than the UTC date plus one day.
    horizon = clock.now().date()
    candidates = session.scalars(
        select(Regimen).where(
            Regimen.status == RegimenStatus.ACTIVE,
            Regimen.ends_on.is_not(None),
            Regimen.ends_on <= horizon,
        )
    ).all()
    return [
        regimen
        for regimen in candidates
        if complete_if_past(session, regimen, today=person_today(regimen.user, default_tz))
    ]
