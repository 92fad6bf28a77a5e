"""Regimen services: her folic acid plan, its lifecycle from the handbook, check-ins, adherence.

Functions take the session explicitly, flush and never commit, raise backend.errors domain
errors, and send backend.regimens.signals after flushing. Dates are her local dates: "today" is
computed in her own time zone (the app's default for people who set none). The clinical rules
(tiers, lead times, the last day) come from backend.regimens.folic_acid.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import case, or_, select
from sqlalchemy.orm import Session, selectinload

from backend import clock, content
from backend.auth.models import User
from backend.clock import person_today
from backend.content.models import ReminderRules
from backend.errors import Conflict, invalid
from backend.handbook import dating
from backend.handbook.models import Pregnancy, PregnancyStatus
from backend.i18n import _l
from backend.regimens import signals
from backend.regimens.folic_acid import FolicAcid, Tier
from backend.regimens.models import (
    CheckIn,
    Regimen,
    RegimenKind,
    RegimenStatus,
    RiskFactorRecord,
    StopReason,
)

KIND = RegimenKind.FOLIC_ACID
DEFAULT_REMINDER_TIME = dt.time(8, 30)


def default_quiet_hours() -> tuple[dt.time, dt.time]:
    """The reminders' default quiet hours (content/reminders.yaml), her local time."""
    quiet = content.typed(ReminderRules).quiet_hours
    return quiet.start, quiet.end


ONE_DAY = dt.timedelta(days=1)


# --- reading --------------------------------------------------------------------------------------


def active(session: Session, *, user_id: uuid.UUID) -> Regimen | None:
    """Her active folic acid regimen (stored as active), if any."""
    return session.scalars(
        select(Regimen).where(
            Regimen.user_id == user_id,
            Regimen.kind == KIND,
            Regimen.status == RegimenStatus.ACTIVE,
        )
    ).first()


def latest(session: Session, *, user_id: uuid.UUID) -> Regimen | None:
    """Her active folic acid regimen, else the one she had last."""
    return session.scalars(
        select(Regimen)
        .where(Regimen.user_id == user_id, Regimen.kind == KIND)
        .order_by(
            case((Regimen.status == RegimenStatus.ACTIVE, 0), else_=1),
            Regimen.created_at.desc(),
            Regimen.starts_on.desc(),
        )
        .limit(1)
    ).first()


def status_on(regimen: Regimen, *, today: dt.date) -> str:
    """The status as she sees it: an active regimen whose last day has passed is completed."""
    if regimen.status == RegimenStatus.ACTIVE and regimen.ends_on and today > regimen.ends_on:
        return RegimenStatus.COMPLETED
    return regimen.status


def last_day(regimen: Regimen) -> dt.date | None:
    """The last day the regimen covers: the day it stopped, else its planned end (None: open)."""
    if regimen.status != RegimenStatus.ACTIVE:
        return regimen.stopped_on
    return regimen.ends_on


def recorded_risk_factors(session: Session, *, user_id: uuid.UUID) -> list[str]:
    """The folic acid risk factors she or her doctor recorded (none when never recorded)."""
    record = session.get(RiskFactorRecord, (user_id, str(KIND)))
    return list(record.codes) if record else []


def _ongoing_pregnancy(session: Session, woman_id: uuid.UUID) -> Pregnancy | None:
    return session.scalars(
        select(Pregnancy).where(
            Pregnancy.woman_id == woman_id, Pregnancy.status == PregnancyStatus.ONGOING
        )
    ).first()


def _linked(session: Session, pregnancy_id: uuid.UUID) -> list[Regimen]:
    """The regimens that followed this pregnancy, the active one first."""
    return list(
        session.scalars(
            select(Regimen)
            .where(Regimen.pregnancy_id == pregnancy_id, Regimen.kind == KIND)
            .order_by(
                case((Regimen.status == RegimenStatus.ACTIVE, 0), else_=1),
                Regimen.created_at.desc(),
            )
        )
    )


# --- checks -----------------------------------------------------------------------------------


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


def in_quiet_hours(value: dt.time, quiet: tuple[dt.time, dt.time] | None = None) -> bool:
    """True when a local time falls in the quiet hours (which may run past midnight)."""
    start, end = quiet or default_quiet_hours()
    if start <= end:
        return start <= value < end
    return value >= start or value < end


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


# --- writing ----------------------------------------------------------------------------------


def _snapshot(regimen: Regimen) -> tuple[Any, ...]:
    """What the reminder planner reads: a change to any of these re-plans."""
    return (
        regimen.status,
        regimen.starts_on,
        regimen.ends_on,
        regimen.stopped_on,
        regimen.reminder_time,
        regimen.tier,
    )


def _changed(session: Session, regimen: Regimen) -> None:
    session.flush()
    signals.regimen_changed.send(regimen, session=session, regimen=regimen)


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


def _last_reminder_time(session: Session, woman_id: uuid.UUID) -> dt.time | None:
    """The time she chose for her previous regimen, kept when she starts again."""
    regimen = latest(session, user_id=woman_id)
    return regimen.reminder_time if regimen else None


def _create(
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
    _changed(session, regimen)
    return regimen


def _finish(session: Session, regimen: Regimen, *, status: str, reason: str, on: dt.date) -> None:
    """Stop or complete the regimen; `on` is the last day it covered."""
    regimen.status = status
    regimen.stop_reason = reason
    regimen.stopped_on = on
    _changed(session, regimen)


def _retier(regimen: Regimen, *, codes: list[str], content: FolicAcid) -> None:
    regimen.risk_factors = list(codes)
    regimen.tier = content.tier_for(codes).code


def _replan_start(regimen: Regimen, *, content: FolicAcid, today: dt.date) -> None:
    """Before it has begun, a planned regimen starts its tier's lead time before the plan."""
    if regimen.plan_date is not None and regimen.pregnancy_id is None and regimen.starts_on > today:
        regimen.starts_on = _plan_start(
            regimen.plan_date, codes=regimen.risk_factors, content=content, today=today
        )


def _complete_if_past(session: Session, regimen: Regimen, *, today: dt.date) -> bool:
    """Persist the completion of an active regimen whose last day has passed."""
    if regimen.status == RegimenStatus.ACTIVE and regimen.ends_on and today > regimen.ends_on:
        _finish(
            session,
            regimen,
            status=RegimenStatus.COMPLETED,
            reason=StopReason.END_OF_SPAN,
            on=regimen.ends_on,
        )
        return True
    return False


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
    pregnancy = _ongoing_pregnancy(session, woman.id)
    if pregnancy is not None and plan_date is not None:
        raise invalid(
            "planned_pregnancy_on",
            _l("You are pregnant: the regimen now follows your pregnancy, not a plan."),
        )
    if plan_date is not None:
        _check_plan_date(plan_date, today=today)
    regimen = active(session, user_id=woman.id)
    if regimen is not None and _complete_if_past(session, regimen, today=today):
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
            return _create(
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
        return _create(
            session,
            woman=woman,
            content=content,
            codes=codes,
            starts_on=_plan_start(plan_date, codes=codes, content=content, today=today),
            plan_date=plan_date,
            reminder_time=data.get("reminder_time"),
        )
    before = _snapshot(regimen)
    if plan_date is not None:
        regimen.plan_date = plan_date
    if data.get("risk_factors") is not None:
        _retier(regimen, codes=codes, content=content)
    if data.get("reminder_time") is not None:
        regimen.reminder_time = data["reminder_time"]
    _replan_start(regimen, content=content, today=today)
    session.flush()
    if _snapshot(regimen) != before:
        _changed(session, regimen)
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
    if regimen is not None and not _complete_if_past(session, regimen, today=today):
        before = _snapshot(regimen)
        _retier(regimen, codes=checked, content=content)
        _replan_start(regimen, content=content, today=today)
        session.flush()
        if _snapshot(regimen) != before:
            _changed(session, regimen)
    else:
        regimen = None
    session.flush()
    return record, regimen


# --- the lifecycle, from the handbook's signals -----------------------------------------------


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
    linked = _linked(session, pregnancy.id)
    regimen = linked[0] if linked else current
    if regimen is None:
        if today > ends_on:
            return None  # recorded after the first trimester: nothing left to take
        return _create(
            session,
            woman=woman,
            content=content,
            codes=recorded_risk_factors(session, user_id=woman.id),
            starts_on=today,
            pregnancy_id=pregnancy.id,
            ends_on=ends_on,
        )
    before = _snapshot(regimen)
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
    if not _complete_if_past(session, regimen, today=today) and _snapshot(regimen) != before:
        _changed(session, regimen)
    return regimen


def stop_for_loss(session: Session, *, pregnancy: Pregnancy) -> None:
    """The pregnancy ended without a birth: its regimen stops at once (kept as history)."""
    ended_on = pregnancy.ended_on
    assert ended_on is not None
    for regimen in _linked(session, pregnancy.id):
        if regimen.status != RegimenStatus.ACTIVE:
            continue
        if regimen.ends_on is not None and regimen.ends_on < ended_on:
            _finish(
                session,
                regimen,
                status=RegimenStatus.COMPLETED,
                reason=StopReason.END_OF_SPAN,
                on=regimen.ends_on,
            )
        else:
            _finish(
                session, regimen, status=RegimenStatus.STOPPED, reason=StopReason.LOSS, on=ended_on
            )


def complete_at_birth(session: Session, *, pregnancy: Pregnancy) -> None:
    """A birth closes the pregnancy: a regimen still active completes."""
    born_on = pregnancy.ended_on
    assert born_on is not None
    for regimen in _linked(session, pregnancy.id):
        if regimen.status != RegimenStatus.ACTIVE:
            continue
        if regimen.ends_on is not None and regimen.ends_on < born_on:
            reason, last = StopReason.END_OF_SPAN, regimen.ends_on
        else:
            reason, last = StopReason.BIRTH, born_on
        _finish(session, regimen, status=RegimenStatus.COMPLETED, reason=reason, on=last)


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
        if _complete_if_past(session, regimen, today=person_today(regimen.user, default_tz))
    ]


# --- check-ins and adherence ------------------------------------------------------------------


def check_in(
    session: Session, *, regimen: Regimen, on: dt.date | None, taken: bool, default_tz: str
) -> CheckIn:
    """Record whether she took it on a day (her today by default); a second answer updates."""
    today = person_today(regimen.user, default_tz)
    day = on or today
    if day > today:
        raise invalid("on", _l("This date cannot be in the future."))
    if day < regimen.starts_on:
        raise invalid("on", _l("Your regimen had not started on this date."))
    end = last_day(regimen)
    if end is not None and day > end:
        raise invalid("on", _l("Your regimen had ended by this date."))
    record = session.scalars(
        select(CheckIn).where(CheckIn.regimen_id == regimen.id, CheckIn.on == day)
    ).first()
    if record is None:
        record = CheckIn(regimen=regimen, on=day, taken=taken, at=clock.now())
        session.add(record)
    else:
        record.taken = taken
        record.at = clock.now()
    session.flush()
    signals.regimen_checked_in.send(regimen, session=session, regimen=regimen, check_in=record)
    return record


@dataclass(frozen=True)
class Adherence:
    """Days taken over a period: the period counted, the percentage and the streaks in it."""

    since: dt.date | None
    until: dt.date | None
    days: int
    taken_days: int
    percent: float | None
    current_streak: int
    longest_streak: int


def measure(taken: Collection[dt.date], *, since: dt.date, until: dt.date) -> Adherence:
    """Adherence over [since, until] from the days taken; the current streak ends at `until`."""
    if until < since:
        return Adherence(None, None, 0, 0, None, 0, 0)
    days = (until - since).days + 1
    run = longest = 0
    previous: dt.date | None = None
    for day in sorted(d for d in taken if since <= d <= until):
        run = run + 1 if previous is not None and day - previous == ONE_DAY else 1
        longest = max(longest, run)
        previous = day
    count = sum(1 for d in taken if since <= d <= until)
    return Adherence(
        since=since,
        until=until,
        days=days,
        taken_days=count,
        percent=round(100 * count / days, 1),
        current_streak=run if previous == until else 0,
        longest_streak=longest,
    )


def answers(session: Session, *, regimen: Regimen) -> dict[dt.date, bool]:
    """Her answers for every day of the regimen."""
    rows = session.execute(
        select(CheckIn.on, CheckIn.taken).where(CheckIn.regimen_id == regimen.id)
    )
    return {row.on: row.taken for row in rows}


def counted_until(regimen: Regimen, answered: Collection[dt.date], *, today: dt.date) -> dt.date:
    """The last day adherence counts: today once she answered for it, else yesterday."""
    end = today if today in answered else today - ONE_DAY
    last = last_day(regimen)
    return min(end, last) if last is not None else end


def adherence(
    session: Session,
    *,
    regimen: Regimen,
    since: dt.date | None,
    until: dt.date | None,
    today: dt.date,
) -> Adherence:
    """Adherence over a period (the whole regimen by default), within the regimen's days."""
    answered = answers(session, regimen=regimen)
    taken = {day for day, was_taken in answered.items() if was_taken}
    end = counted_until(regimen, answered, today=today)
    start = max(since or regimen.starts_on, regimen.starts_on)
    return measure(taken, since=start, until=min(until or end, end))


def overview(
    session: Session, *, regimen: Regimen, content: FolicAcid, locale: str, default_tz: str
) -> dict[str, Any]:
    """Her regimen as she sees it today: status, dose, today's answer, adherence and streaks."""
    today = person_today(regimen.user, default_tz)
    answered = answers(session, regimen=regimen)
    taken = {day for day, was_taken in answered.items() if was_taken}
    end = counted_until(regimen, answered, today=today)
    whole = measure(taken, since=regimen.starts_on, until=end)
    status = status_on(regimen, today=today)
    derived_end = status != regimen.status
    tier: Tier = content.tier(regimen.tier)
    last = last_day(regimen)

    def last_days(n: int) -> Adherence:
        return measure(
            taken, since=max(end - dt.timedelta(days=n - 1), regimen.starts_on), until=end
        )

    return {
        "id": regimen.id,
        "kind": regimen.kind,
        "status": status,
        "stop_reason": StopReason.END_OF_SPAN if derived_end else regimen.stop_reason,
        "stopped_on": regimen.ends_on if derived_end else regimen.stopped_on,
        "tier": tier.code,
        "dose": tier.dose_in(locale),
        "ask_doctor": tier.ask_doctor,
        "risk_factors": list(regimen.risk_factors),
        "planned_pregnancy_on": regimen.plan_date,
        "pregnancy_id": regimen.pregnancy_id,
        "starts_on": regimen.starts_on,
        "ends_on": regimen.ends_on,
        "reminder_time": regimen.reminder_time,
        "today": {
            "date": today,
            "in_regimen": regimen.starts_on <= today and (last is None or today <= last),
            "taken": answered.get(today),
        },
        "last_7_days": last_days(7),
        "last_30_days": last_days(30),
        "current_streak": whole.current_streak,
        "longest_streak": whole.longest_streak,
        "source": {
            "ids": list(tier.provenance.source.ids),
            "title": tier.provenance.source.title,
            "verified": tier.provenance.verified,
        },
        "created_at": regimen.created_at,
    }


# --- for the reminder planner -----------------------------------------------------------------


def active_regimens(
    session: Session, *, user_ids: Sequence[uuid.UUID] | None = None
) -> list[Regimen]:
    """Active regimens not yet past their end (of these users), with their recent check-ins.

    Only the check-ins "taken" from yesterday (UTC) on are loaded into `check_ins`, which is all
    that reminder_dates reads; read the full history through `answers`.
    """
    if user_ids is not None and not user_ids:
        return []
    # No one's local date is earlier than the UTC date minus one day.
    since = clock.now().date() - ONE_DAY
    query = (
        select(Regimen)
        .where(
            Regimen.status == RegimenStatus.ACTIVE,
            or_(Regimen.ends_on.is_(None), Regimen.ends_on >= since),
        )
        .options(selectinload(Regimen.check_ins.and_(CheckIn.on >= since, CheckIn.taken.is_(True))))
        .order_by(Regimen.user_id, Regimen.id)
    )
    if user_ids is not None:
        query = query.where(Regimen.user_id.in_(list(user_ids)))
    return list(session.scalars(query))


def reminder_dates(regimen: Regimen, *, today: dt.date, horizon_days: int) -> list[dt.date]:
    """Her local dates from today to today + horizon_days (inclusive) that need a reminder.

    That is every day of the active regimen in that range (from its start, up to its end)
    without a "taken" check-in yet.
    """
    if regimen.status != RegimenStatus.ACTIVE:
        return []
    first = max(today, regimen.starts_on)
    last = today + dt.timedelta(days=horizon_days)
    if regimen.ends_on is not None:
        last = min(last, regimen.ends_on)
    taken = {c.on for c in regimen.check_ins if c.taken}
    return [
        first + dt.timedelta(days=i)
        for i in range((last - first).days + 1)
        if first + dt.timedelta(days=i) not in taken
    ]
