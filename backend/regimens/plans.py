"""Her folic acid plan: the planned date, the reminder time and her risk factors (hers or her
doctor's), checked and saved; a change of tier moves the start of a regimen not yet begun."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from sqlalchemy.orm import Session

from backend import clock
from backend.auth.models import User
from backend.clock import person_today
from backend.errors import Conflict, invalid
from backend.handbook import dating
from backend.i18n import _l
from backend.regimens.folic_acid import FolicAcid
from backend.regimens.lifecycle import changed, complete_if_past, create, snapshot
from backend.regimens.models import Regimen, RiskFactorRecord
from backend.regimens.service import (
    KIND,
    active,
    default_quiet_hours,
    in_quiet_hours,
    ongoing_pregnancy,
    recorded_risk_factors,
)

# --- checks ---------------------------------------------------------------------------------------


def _checked_risk_factors(codes: Sequence[str], content: FolicAcid) -> list[str]:
    """Known codes, each once, in the order given; 422 naming risk_factors otherwise."""
    unknown = content.unknown_risk_factors(codes)
    if unknown:
        raise invalid(
            "risk_factors",
            _l(
                "Unknown risk factor: %(code)s. Use one of: %(known)s.",
                code=unknown[0],
                known=", ".join(content.risk_factors),
            ),
        )
    return list(dict.fromkeys(codes))


def _check_reminder_time(value: dt.time) -> None:
    if in_quiet_hours(value):
        start, end = (t.strftime("%H:%M") for t in default_quiet_hours())
        raise invalid(
            "reminder_time",
            _l(
                "No reminders are sent from %(start)s to %(end)s: choose a time outside these "
                "hours.",
                start=start,
                end=end,
            ),
        )


def _check_plan_date(plan_date: dt.date, *, today: dt.date) -> None:
    if plan_date < today:
        raise invalid("planned_pregnancy_on", _l("The planned date cannot be in the past."))
    if plan_date > dating.latest_plan_date(today):
        raise invalid(
            "planned_pregnancy_on", _l("The planned date can be at most one year from today.")
        )


def _plan_start(
    plan_date: dt.date, *, codes: Collection[str], content: FolicAcid, today: dt.date
) -> dt.date:
    """Her tier's lead time before the planned date, and never before today."""
    return max(plan_date - dt.timedelta(days=content.lead_days_for(codes)), today)


# --- writing --------------------------------------------------------------------------------------


def _record_risk_factors(
    session: Session, *, woman: User, actor: User, codes: list[str]
) -> RiskFactorRecord:
    record = session.get(RiskFactorRecord, (woman.id, str(KIND)))
    if record is None:
        record = RiskFactorRecord(user_id=woman.id, kind=KIND)
        session.add(record)
    record.codes = codes
    record.recorded_by = actor.id
    record.recorded_by_role = actor.role
    record.updated_at = clock.now()
    return record


def _retier(regimen: Regimen, *, codes: list[str], content: FolicAcid) -> None:
    regimen.risk_factors = list(codes)
    regimen.tier = content.tier_for(codes).code


def _replan_start(regimen: Regimen, *, content: FolicAcid, today: dt.date) -> None:
    """Before it has begun, a planned regimen starts its tier's lead time before the plan."""
    if regimen.plan_date is not None and regimen.pregnancy_id is None and regimen.starts_on > today:
        regimen.starts_on = _plan_start(
            regimen.plan_date, codes=regimen.risk_factors, content=content, today=today
        )


def save_plan(
    session: Session,
    *,
    woman: User,
    data: Mapping[str, Any],
    content: FolicAcid,
    default_tz: str,
) -> Regimen:
    """Create or update her plan: the planned date, the reminder time, her risk factors.

    Without an active regimen a new one starts (a planned date is then required, unless she is
    pregnant: the regimen then follows her pregnancy from today).
    """
    today = person_today(woman, default_tz)
    if data.get("reminder_time") is not None:
        _check_reminder_time(data["reminder_time"])
    codes: list[str] | None = None
    if data.get("risk_factors") is not None:
        codes = _checked_risk_factors(data["risk_factors"], content)
        _record_risk_factors(session, woman=woman, actor=woman, codes=codes)
    plan_date: dt.date | None = data.get("planned_pregnancy_on")
    pregnancy = ongoing_pregnancy(session, woman.id)
    if pregnancy is not None and plan_date is not None:
        raise invalid(
            "planned_pregnancy_on",
            _l("You are pregnant: the regimen now follows your pregnancy, not a plan."),
        )
    if plan_date is not None:
        _check_plan_date(plan_date, today=today)
    regimen = active(session, user_id=woman.id)
    if regimen is not None and complete_if_past(session, regimen, today=today):
        regimen = None
    if codes is None:
        codes = recorded_risk_factors(session, user_id=woman.id)
    if regimen is None:
        if pregnancy is not None:
            ends_on = content.ends_on(pregnancy.edd)
            if today > ends_on:
                raise Conflict(
                    _l("The folic acid regimen ends with the first trimester of pregnancy.")
                )
            return create(
                session,
                woman=woman,
                content=content,
                codes=codes,
                starts_on=today,
                pregnancy_id=pregnancy.id,
                ends_on=ends_on,
                reminder_time=data.get("reminder_time"),
            )
        if plan_date is None:
            raise invalid(
                "planned_pregnancy_on",
                _l("Enter the date you plan to start trying for a pregnancy."),
            )
        return create(
            session,
            woman=woman,
            content=content,
            codes=codes,
            starts_on=_plan_start(plan_date, codes=codes, content=content, today=today),
            plan_date=plan_date,
            reminder_time=data.get("reminder_time"),
        )
    before = snapshot(regimen)
    if plan_date is not None:
        regimen.plan_date = plan_date
    if data.get("risk_factors") is not None:
        _retier(regimen, codes=codes, content=content)
    if data.get("reminder_time") is not None:
        regimen.reminder_time = data["reminder_time"]
    _replan_start(regimen, content=content, today=today)
    session.flush()
    if snapshot(regimen) != before:
        changed(session, regimen)
    return regimen


def set_risk_factors(
    session: Session,
    *,
    woman: User,
    actor: User,
    codes: Sequence[str],
    content: FolicAcid,
    default_tz: str,
) -> tuple[RiskFactorRecord, Regimen | None]:
    """Record her risk factors (her doctor does); her active regimen takes the new tier."""
    checked = _checked_risk_factors(codes, content)
    record = _record_risk_factors(session, woman=woman, actor=actor, codes=checked)
    today = person_today(woman, default_tz)
    regimen = active(session, user_id=woman.id)
    if regimen is not None and not complete_if_past(session, regimen, today=today):
        before = snapshot(regimen)
        _retier(regimen, codes=checked, content=content)
        _replan_start(regimen, content=content, today=today)
        session.flush()
        if snapshot(regimen) != before:
            changed(session, regimen)
    else:
        regimen = None
    session.flush()
    return record, regimen
