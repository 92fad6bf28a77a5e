"""Check-ins and adherence: her daily answers, the share of days taken and her streaks, and
her regimen as she sees it today."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend import clock
from backend.clock import person_today
from backend.errors import invalid
from backend.i18n import _l
from backend.regimens import signals
from backend.regimens.folic_acid import FolicAcid, Tier
from backend.regimens.models import CheckIn, Regimen, StopReason
from backend.regimens.service import ONE_DAY, last_day, status_on


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
