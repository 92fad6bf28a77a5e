"""Her folic acid regimen as the others read it: the active or latest one, its status and last
day, her recorded risk factors, and what the reminder planner needs.

The writes live in modules named for their job: `plans` (her plan, her doctor's risk factors),
`lifecycle` (created, stopped, completed; following her pregnancy) and `adherence` (check-ins,
adherence, her overview). Functions take the session explicitly. Dates are her local dates:
"today" is computed in her own time zone (the app's default for people who set none). The
clinical rules (tiers, lead times, the last day) come from backend.regimens.folic_acid.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence

from sqlalchemy import case, or_, select
from sqlalchemy.orm import Session, selectinload

from backend import clock, content
from backend.content.models import ReminderRules
from backend.handbook.models import Pregnancy, PregnancyStatus
from backend.regimens.models import CheckIn, Regimen, RegimenKind, RegimenStatus, RiskFactorRecord

KIND = RegimenKind.FOLIC_ACID
DEFAULT_REMINDER_TIME = dt.time(8, 30)
ONE_DAY = dt.timedelta(days=1)


def default_quiet_hours() -> tuple[dt.time, dt.time]:
    """The reminders' default quiet hours (content/reminders.yaml), her local time."""
    quiet = content.typed(ReminderRules).quiet_hours
    return quiet.start, quiet.end


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


def ongoing_pregnancy(session: Session, woman_id: uuid.UUID) -> Pregnancy | None:
    """Her ongoing pregnancy, if any: a regimen then follows it rather than a plan."""
    return session.scalars(
        select(Pregnancy).where(
            Pregnancy.woman_id == woman_id, Pregnancy.status == PregnancyStatus.ONGOING
        )
    ).first()


def of_pregnancy(session: Session, pregnancy_id: uuid.UUID) -> list[Regimen]:
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


def in_quiet_hours(value: dt.time, quiet: tuple[dt.time, dt.time] | None = None) -> bool:
    """True when a local time falls in the quiet hours (which may run past midnight)."""
    start, end = quiet or default_quiet_hours()
    if start <= end:
        return start <= value < end
    return value >= start or value < end


# --- for the reminder planner ---------------------------------------------------------------------


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
