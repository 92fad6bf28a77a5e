"""Pregnancies: recorded, dated and redated (LMP, EDD, ultrasound), closed by a birth or a loss.

"Today" is the woman's own local date: callers pass the app's default time zone for people who
set none. Each write bumps the row version and sends its handbook signal after flushing.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from backend import clock
from backend.auth.models import User
from backend.clock import person_today
from backend.errors import Conflict, InvalidInput, invalid
from backend.handbook import dating, signals
from backend.handbook.models import (
    Child,
    DatingDecision,
    DatingSource,
    EddRevision,
    Guardian,
    GuardianRelation,
    Pregnancy,
    PregnancyStatus,
)
from backend.handbook.service import flush, ga_days, touch
from backend.i18n import _l
from backend.paging import paginate

DATES_SOURCES = (DatingSource.LMP, DatingSource.EDD)


def _nested_invalid(path: Sequence[str | int], message: Any) -> InvalidInput:
    """A 422 naming a nested field, shaped like marshmallow's nested errors."""
    errors: Any = [message]
    for key in reversed(path[1:]):
        errors = {str(key): errors}
    return InvalidInput(_l("Some fields are invalid."), errors={str(path[0]): errors})


def list_pregnancies(
    session: Session, *, woman: User, page: int, page_size: int
) -> tuple[list[Pregnancy], int]:
    """A page of the woman's pregnancies, the latest first, and their total."""
    where = Pregnancy.woman_id == woman.id
    stmt = (
        select(Pregnancy)
        .where(where)
        .order_by(Pregnancy.edd.desc(), Pregnancy.created_at.desc(), Pregnancy.id)
    )
    return paginate(session, stmt, page=page, page_size=page_size)


@dataclass(frozen=True)
class _Dates:
    """A menstrual dating: from the LMP she remembers, or from an EDD she was given."""

    source: DatingSource
    lmp: dt.date | None
    cycle_length: int | None
    edd: dt.date


def _dates(data: Mapping[str, Any], *, today: dt.date) -> _Dates:
    """Check and turn {lmp, cycle_length?} or {edd} into a dating (422 naming the field)."""
    max_days = dating.max_ongoing_days()
    weeks = dating.naegele()["max_ongoing_weeks"]
    lmp = data.get("lmp")
    if lmp is not None:
        if lmp > today:
            raise invalid("lmp", _l("The LMP cannot be in the future."))
        if (today - lmp).days > max_days:
            raise invalid(
                "lmp", _l("The LMP cannot be more than %(weeks)s weeks ago.", weeks=weeks)
            )
        cycle_length = data.get("cycle_length")
        edd = dating.edd_from_lmp(lmp, cycle_length)
        if dating.dating_lmp(edd) > today:
            raise invalid(
                "cycle_length",
                _l("With this cycle length, the pregnancy would begin in the future."),
            )
        return _Dates(DatingSource.LMP, lmp, cycle_length, edd)
    edd = data["edd"]
    implied = dating.dating_lmp(edd)
    if implied > today:
        raise invalid("edd", _l("This due date implies an LMP in the future."))
    if (today - implied).days > max_days:
        raise invalid(
            "edd", _l("This due date implies an LMP more than %(weeks)s weeks ago.", weeks=weeks)
        )
    return _Dates(DatingSource.EDD, None, None, edd)


def _check_history(data: Mapping[str, Any], pregnancy: Pregnancy | None = None) -> None:
    gravidity = data.get("gravidity", pregnancy.gravidity if pregnancy else None)
    parity = data.get("parity", pregnancy.parity if pregnancy else None)
    if gravidity is not None and parity is not None and parity >= gravidity:
        raise invalid("parity", _l("Parity counts earlier births, so it is below gravidity."))


def _has_ongoing(session: Session, woman_id: uuid.UUID) -> bool:
    return bool(
        session.scalar(
            select(
                exists().where(
                    Pregnancy.woman_id == woman_id, Pregnancy.status == PregnancyStatus.ONGOING
                )
            )
        )
    )


def add_revision(
    pregnancy: Pregnancy, actor: User | None, reason: str | None, **values: Any
) -> EddRevision:
    """Append one entry to the dating history."""
    revision = EddRevision(
        seq=len(pregnancy.dating_history) + 1,
        actor_id=actor.id if actor else None,
        actor_role=actor.role if actor else None,
        reason=reason,
        **values,
    )
    pregnancy.dating_history.append(revision)
    return revision


def create_pregnancy(
    session: Session, *, woman: User, actor: User, data: Mapping[str, Any], default_tz: str
) -> Pregnancy:
    """Record a pregnancy dated from the LMP (Naegele, optional cycle length) or a given EDD."""
    dates = _dates(data, today=person_today(woman, default_tz))
    _check_history(data)
    if _has_ongoing(session, woman.id):
        raise Conflict(_l("A pregnancy is already ongoing; record its birth or its end first."))
    pregnancy = Pregnancy(
        woman_id=woman.id,
        woman=woman,
        lmp=dates.lmp,
        cycle_length=dates.cycle_length,
        edd=dates.edd,
        edd_source=dates.source,
        gravidity=data.get("gravidity"),
        parity=data.get("parity"),
        status=PregnancyStatus.ONGOING,
        dating_history=[],
        children=[],
    )
    add_revision(
        pregnancy,
        actor,
        None,
        source=dates.source,
        lmp=dates.lmp,
        cycle_length=dates.cycle_length,
        proposed_edd=dates.edd,
        previous_edd=None,
        edd=dates.edd,
        replaced=True,
        decision=DatingDecision.INITIAL,
    )
    session.add(pregnancy)
    flush(session)
    signals.pregnancy_created.send(pregnancy, session=session, pregnancy=pregnancy)
    return pregnancy


def _menstrual_dating(pregnancy: Pregnancy) -> EddRevision:
    """The latest LMP/EDD evidence: the baseline an ultrasound is compared with."""
    return next(r for r in reversed(pregnancy.dating_history) if r.source in DATES_SOURCES)


def _first_scan(pregnancy: Pregnancy) -> EddRevision | None:
    scans = [r for r in pregnancy.dating_history if r.source == DatingSource.ULTRASOUND]
    return min(scans, key=lambda r: (r.scan_date, r.seq)) if scans else None


def _add_ultrasound(
    pregnancy: Pregnancy, *, actor: User, us: Mapping[str, Any], reason: str | None, today: dt.date
) -> EddRevision:
    """Weigh an ultrasound against the menstrual dating by the redating rule."""
    scan_date: dt.date = us["scan_date"]
    ga = ga_days(us["ga_weeks"], us.get("ga_days"))
    if scan_date > today:
        raise _nested_invalid(
            ("ultrasound", "scan_date"), _l("The scan date cannot be in the future.")
        )
    baseline = _menstrual_dating(pregnancy)
    if scan_date < dating.dating_lmp(baseline.proposed_edd):
        raise _nested_invalid(
            ("ultrasound", "scan_date"), _l("The scan date is before the start of the pregnancy.")
        )
    if (today - (scan_date - dt.timedelta(days=ga))).days > dating.max_ongoing_days():
        raise _nested_invalid(
            ("ultrasound", "ga_weeks"),
            _l(
                "This gestational age dates the pregnancy more than %(weeks)s weeks back.",
                weeks=dating.naegele()["max_ongoing_weeks"],
            ),
        )
    rule = dating.redating_rule()
    assessment = dating.assess_ultrasound(
        dates_edd=baseline.proposed_edd, scan_date=scan_date, ga_days=ga
    )
    first = _first_scan(pregnancy)
    previous = pregnancy.edd
    if (
        rule.keep_fixed_after_redating
        and first is not None
        and first.scan_date is not None
        and first.scan_date <= scan_date
    ):
        decision, edd, source = DatingDecision.LATER_SCAN, previous, pregnancy.edd_source
    elif assessment.exceeds:
        decision, edd, source = (
            DatingDecision.REPLACED,
            assessment.ultrasound_edd,
            DatingSource.ULTRASOUND,
        )
    else:
        decision, edd, source = (
            DatingDecision.WITHIN_THRESHOLD,
            baseline.proposed_edd,
            DatingSource(baseline.source),
        )
    pregnancy.edd, pregnancy.edd_source = edd, source
    return add_revision(
        pregnancy,
        actor,
        reason,
        source=DatingSource.ULTRASOUND,
        scan_date=scan_date,
        scan_ga_days=ga,
        proposed_edd=assessment.ultrasound_edd,
        previous_edd=previous,
        edd=edd,
        replaced=decision == DatingDecision.REPLACED,
        decision=decision,
        rule=rule.id,
        discrepancy_days=assessment.discrepancy_days,
        threshold_days=assessment.band.threshold_days,
    )


def _correct_dates(
    pregnancy: Pregnancy,
    *,
    actor: User,
    data: Mapping[str, Any],
    reason: str | None,
    today: dt.date,
) -> EddRevision:
    """A corrected LMP or EDD: the new baseline, unless the first ultrasound still overrules it."""
    dates = _dates(data, today=today)
    previous = pregnancy.edd
    edd, source, decision = dates.edd, dates.source, DatingDecision.DATES_CORRECTED
    discrepancy = threshold = None
    rule_id = None
    first = _first_scan(pregnancy)
    if first is not None and first.scan_date is not None and first.scan_ga_days is not None:
        assessment = dating.assess_ultrasound(
            dates_edd=dates.edd, scan_date=first.scan_date, ga_days=first.scan_ga_days
        )
        rule_id = dating.redating_rule().id
        discrepancy, threshold = assessment.discrepancy_days, assessment.band.threshold_days
        if assessment.exceeds:
            edd, source = assessment.ultrasound_edd, DatingSource.ULTRASOUND
            decision = DatingDecision.ULTRASOUND_IN_FORCE
    pregnancy.lmp, pregnancy.cycle_length = dates.lmp, dates.cycle_length
    pregnancy.edd, pregnancy.edd_source = edd, source
    return add_revision(
        pregnancy,
        actor,
        reason,
        source=dates.source,
        lmp=dates.lmp,
        cycle_length=dates.cycle_length,
        proposed_edd=dates.edd,
        previous_edd=previous,
        edd=edd,
        replaced=decision == DatingDecision.DATES_CORRECTED,
        decision=decision,
        rule=rule_id,
        discrepancy_days=discrepancy,
        threshold_days=threshold,
    )


def _require_ongoing(pregnancy: Pregnancy) -> None:
    if pregnancy.status != PregnancyStatus.ONGOING:
        raise Conflict(_l("This pregnancy is closed."))


def update_pregnancy(
    session: Session,
    *,
    pregnancy: Pregnancy,
    actor: User,
    data: Mapping[str, Any],
    default_tz: str,
) -> Pregnancy:
    """Change the obstetric history, or add dating evidence (an ultrasound, a corrected LMP/EDD)."""
    today = person_today(pregnancy.woman, default_tz)
    reason = data.get("reason")
    revision: EddRevision | None = None
    if "ultrasound" in data:
        _require_ongoing(pregnancy)
        revision = _add_ultrasound(
            pregnancy, actor=actor, us=data["ultrasound"], reason=reason, today=today
        )
    elif data.get("lmp") is not None or data.get("edd") is not None:
        _require_ongoing(pregnancy)
        revision = _correct_dates(pregnancy, actor=actor, data=data, reason=reason, today=today)
    _check_history(data, pregnancy)
    for key in ("gravidity", "parity"):
        if key in data:
            setattr(pregnancy, key, data[key])
    discharge_changed = False
    if "discharged_on" in data:
        if pregnancy.status != PregnancyStatus.DELIVERED:
            raise Conflict(_l("A discharge date belongs to a recorded birth."))
        _check_discharge(data["discharged_on"], born_on=pregnancy.ended_on, today=today)
        discharge_changed = pregnancy.discharged_on != data["discharged_on"]
        pregnancy.discharged_on = data["discharged_on"]
    touch(pregnancy)
    flush(session)
    if discharge_changed:
        signals.discharge_recorded.send(pregnancy, session=session, pregnancy=pregnancy)
    if revision is not None and revision.edd != revision.previous_edd:
        signals.pregnancy_redated.send(
            pregnancy, session=session, pregnancy=pregnancy, revision=revision
        )
    return pregnancy


def _earliest_start(pregnancy: Pregnancy) -> dt.date:
    """The earliest day the pregnancy can have begun: her LMP or the dating's."""
    starts = [dating.dating_lmp(pregnancy.edd)]
    if pregnancy.lmp is not None:
        starts.append(pregnancy.lmp)
    return min(starts)


def _check_discharge(day: dt.date | None, *, born_on: dt.date | None, today: dt.date) -> None:
    """A discharge date lies between the birth and today (422 naming the field)."""
    if day is None:
        return
    if day > today:
        raise invalid("discharged_on", _l("This date cannot be in the future."))
    if born_on is not None and day < born_on:
        raise invalid("discharged_on", _l("The discharge cannot be before the birth."))


def record_birth(
    session: Session, *, pregnancy: Pregnancy, data: Mapping[str, Any], default_tz: str
) -> Pregnancy:
    """Close the pregnancy as delivered and create one child per baby, the woman as guardian."""
    _require_ongoing(pregnancy)
    born_at: dt.datetime = data["born_at"]
    if born_at > clock.now():
        raise invalid("born_at", _l("The birth cannot be in the future."))
    born_on = born_at.astimezone(clock.zone(pregnancy.woman.timezone, default_tz)).date()
    if born_on < _earliest_start(pregnancy):
        raise invalid("born_at", _l("The birth cannot be before the LMP."))
    ga = ga_days(data["ga_weeks"], data.get("ga_days"))
    _check_discharge(
        data.get("discharged_on"),
        born_on=born_on,
        today=person_today(pregnancy.woman, default_tz),
    )
    pregnancy.discharged_on = data.get("discharged_on")
    pregnancy.status = PregnancyStatus.DELIVERED
    pregnancy.born_at = born_at
    pregnancy.ended_on = born_on
    pregnancy.ga_at_end_days = ga
    pregnancy.delivery_mode = data.get("delivery_mode")
    children = [
        Child(
            name=baby.get("name"),
            sex=baby["sex"],
            birth_date=born_on,
            birth_order=order,
            birth_weight_g=baby["weight_g"],
            birth_length_cm=baby["length_cm"],
            ga_at_birth_days=ga,
            guardians=[Guardian(user_id=pregnancy.woman_id, relation=GuardianRelation.MOTHER)],
        )
        for order, baby in enumerate(data["babies"], start=1)
    ]
    pregnancy.children.extend(children)
    touch(pregnancy)
    flush(session)
    signals.birth_recorded.send(
        pregnancy, session=session, pregnancy=pregnancy, children=list(children)
    )
    for child in children:
        signals.child_added.send(child, session=session, child=child)
    return pregnancy


def end_pregnancy(
    session: Session, *, pregnancy: Pregnancy, data: Mapping[str, Any], default_tz: str
) -> Pregnancy:
    """Close the pregnancy without a birth (miscarriage, ectopic, termination, stillbirth)."""
    _require_ongoing(pregnancy)
    ended_on: dt.date = data["ended_on"]
    if ended_on > person_today(pregnancy.woman, default_tz):
        raise invalid("ended_on", _l("This date cannot be in the future."))
    if ended_on < _earliest_start(pregnancy):
        raise invalid("ended_on", _l("This date cannot be before the LMP."))
    if data.get("ga_weeks") is not None:
        ga = ga_days(data["ga_weeks"], data.get("ga_days"))
    else:
        ga = max(dating.ga_days_on(pregnancy.edd, ended_on), 0)
    pregnancy.status = PregnancyStatus.ENDED
    pregnancy.end_kind = data["kind"]
    pregnancy.ended_on = ended_on
    pregnancy.ga_at_end_days = ga
    touch(pregnancy)
    flush(session)
    signals.pregnancy_ended.send(pregnancy, session=session, pregnancy=pregnancy)
    return pregnancy
