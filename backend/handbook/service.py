"""Handbook services: profile and life stages, pregnancies and their dating, births, children.

Functions take the session explicitly, flush and never commit, raise backend.errors domain
errors, and send backend.handbook.signals after flushing. "Today" is always the person's own
local date: callers pass the app's default time zone for people who set none.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Date, String, case, cast, exists, literal, null, select, union_all
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from backend import clock
from backend.auth.models import User
from backend.auth.security import FieldCipher, national_id_birth_date
from backend.clock import person_today
from backend.errors import Conflict, InvalidInput, PreconditionFailed, invalid
from backend.handbook import dating, signals, stages
from backend.handbook.models import (
    Child,
    DatingDecision,
    DatingSource,
    EddRevision,
    EndKind,
    Guardian,
    GuardianRelation,
    Pregnancy,
    PregnancyStatus,
    Sex,
)
from backend.i18n import _l
from backend.paging import paginate

DATES_SOURCES = (DatingSource.LMP, DatingSource.EDD)


# --- helpers ----------------------------------------------------------------------------------


def _nested_invalid(path: Sequence[str | int], message: Any) -> InvalidInput:
    """A 422 naming a nested field, shaped like marshmallow's nested errors."""
    errors: Any = [message]
    for key in reversed(path[1:]):
        errors = {str(key): errors}
    return InvalidInput(_l("Some fields are invalid."), errors={str(path[0]): errors})


def _flush(session: Session) -> None:
    """Flush; a concurrent update of the same row (optimistic lock) answers 412."""
    try:
        session.flush()
    except StaleDataError as exc:
        raise PreconditionFailed(
            _l("The record was changed meanwhile; reload it and try again.")
        ) from exc


def _touch(record: Pregnancy | Child) -> None:
    """Bump the row version (the ETag) on every write."""
    record.version += 1


def _ga_days(weeks: int, days: int | None) -> int:
    return dating.GestationalAge(weeks, days or 0).total_days


def is_birth_for_mother(status: str, end_kind: str | None, ga_days: int | None) -> bool:
    """A delivery, a stillbirth, or any end at 28 weeks or more: her body had a birth.

    Her postpartum care, postpartum contraception and the 产 stage follow it (plausibility.yaml,
    end.birth_from_ga_weeks); it is not a live birth for leave (clinical audit, issue 9).
    """
    if status == PregnancyStatus.DELIVERED:
        return True
    if status != PregnancyStatus.ENDED:
        return False
    weeks = int(dating.plausibility()["end"]["birth_from_ga_weeks"])
    return end_kind == EndKind.STILLBIRTH or (ga_days or 0) >= weeks * 7


# --- the profile and its life stages ----------------------------------------------------------


@dataclass(frozen=True)
class Profile:
    """A person's profile as shown to herself, with the national ID masked."""

    id: uuid.UUID
    phone: str | None
    name: str | None
    sex: str | None
    birth_date: dt.date | None
    national_id: str | None
    district_code: str | None
    locale: str | None
    timezone: str | None
    role: str
    version: int
    life_stages: list[stages.LifeStage]


def mask_national_id(value: str) -> str:
    """Keep the region code and the last two characters: 330302**********3X."""
    return value[:6] + "*" * (len(value) - 8) + value[-2:]


def life_stages(session: Session, *, person: User, today: dt.date) -> list[stages.LifeStage]:
    """The person's current life stages: her pregnancies and the children she is guardian of
    in one query (one round trip of a GET /me), whatever the number of records."""
    as_date, as_text = cast(null(), Date), cast(null(), String)
    rows = session.execute(
        union_all(
            select(
                literal("pregnancy").label("kind"),
                Pregnancy.id,
                Pregnancy.status.label("text_a"),
                Pregnancy.edd.label("date_a"),
                Pregnancy.ended_on.label("date_b"),
                Pregnancy.end_kind.label("text_b"),
                Pregnancy.ga_at_end_days.label("number"),
            ).where(Pregnancy.woman_id == person.id),
            select(
                literal("child"),
                Child.id,
                Guardian.relation,
                Child.birth_date,
                as_date,
                as_text,
                case((Child.pregnancy_id.is_not(None), 1), else_=0),
            )
            .join(Guardian, Guardian.child_id == Child.id)
            .where(Guardian.user_id == person.id),
        )
    ).all()
    pregnancies = [
        stages.PregnancyFacts(
            id=row.id,
            status=row.text_a,
            dating_lmp=dating.dating_lmp(row.date_a),
            delivered_on=row.date_b
            if is_birth_for_mother(row.text_a, row.text_b, row.number)
            else None,
        )
        for row in rows
        if row.kind == "pregnancy"
    ]
    children = [
        stages.ChildFacts(
            id=row.id,
            birth_date=row.date_a,
            born_of_recorded_pregnancy=bool(row.number),
            relation=row.text_a,
        )
        for row in rows
        if row.kind == "child"
    ]
    facts = stages.PersonFacts(
        id=person.id, birth_date=person.birth_date, pregnancies=pregnancies, children=children
    )
    return stages.derive(facts, today=today)


def profile(session: Session, *, user: User, default_tz: str, cipher: FieldCipher) -> Profile:
    """The user's profile with her current life stages."""
    national_id = cipher.decrypt(user.national_id_cipher) if user.national_id_cipher else None
    return Profile(
        id=user.id,
        phone=user.phone,
        name=user.name,
        sex=user.sex,
        birth_date=user.birth_date,
        national_id=mask_national_id(national_id) if national_id else None,
        district_code=user.district_code,
        locale=user.locale,
        timezone=user.timezone,
        role=user.role,
        version=user.version,
        life_stages=life_stages(session, person=user, today=person_today(user, default_tz)),
    )


def update_profile(
    session: Session,
    *,
    user: User,
    data: Mapping[str, Any],
    default_tz: str,
    cipher: FieldCipher,
) -> User:
    """Change the profile; a national ID is stored encrypted with its keyed hash, never in clear."""
    changes = dict(data)
    today = clock.today(changes.get("timezone") or user.timezone, default_tz)
    if "national_id" in changes:
        national_id = changes.pop("national_id")
        if national_id is None:
            user.national_id_cipher = None
            user.national_id_hash = None
        else:
            national_id = national_id.upper()
            digest = cipher.lookup_hash(national_id)
            taken = session.scalar(
                select(exists().where(User.national_id_hash == digest, User.id != user.id))
            )
            if taken:
                raise invalid(
                    "national_id", _l("This ID number is already registered to another account.")
                )
            id_birth_date = national_id_birth_date(national_id)
            if id_birth_date > today:
                raise invalid("national_id", _l("This ID number gives a birth date in the future."))
            given = changes.get("birth_date")
            if given is not None and given != id_birth_date:
                raise invalid("birth_date", _l("The birth date does not match the ID number."))
            changes["birth_date"] = id_birth_date
            user.national_id_cipher = cipher.encrypt(national_id)
            user.national_id_hash = digest
    elif changes.get("birth_date") is not None and user.national_id_cipher:
        stored = cipher.decrypt(user.national_id_cipher)
        if stored and national_id_birth_date(stored) != changes["birth_date"]:
            raise invalid("birth_date", _l("The birth date does not match the ID number."))
    if changes.get("birth_date") is not None and changes["birth_date"] > today:
        raise invalid("birth_date", _l("The birth date cannot be in the future."))
    for key, value in changes.items():
        setattr(user, key, value)
    _flush(session)
    return user


# --- pregnancies ------------------------------------------------------------------------------


def get_pregnancy(session: Session, *, pregnancy_id: uuid.UUID) -> Pregnancy | None:
    """One pregnancy with its dating history and children, or None."""
    return session.get(Pregnancy, pregnancy_id)


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


def _revision(
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
    _revision(
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
    _flush(session)
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
    ga = _ga_days(us["ga_weeks"], us.get("ga_days"))
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
    return _revision(
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
    return _revision(
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
    _touch(pregnancy)
    _flush(session)
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
    ga = _ga_days(data["ga_weeks"], data.get("ga_days"))
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
    _touch(pregnancy)
    _flush(session)
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
        ga = _ga_days(data["ga_weeks"], data.get("ga_days"))
    else:
        ga = max(dating.ga_days_on(pregnancy.edd, ended_on), 0)
    pregnancy.status = PregnancyStatus.ENDED
    pregnancy.end_kind = data["kind"]
    pregnancy.ended_on = ended_on
    pregnancy.ga_at_end_days = ga
    _touch(pregnancy)
    _flush(session)
    signals.pregnancy_ended.send(pregnancy, session=session, pregnancy=pregnancy)
    return pregnancy


# --- children ---------------------------------------------------------------------------------


def get_child(session: Session, *, child_id: uuid.UUID) -> Child | None:
    """One child with its guardians, or None."""
    return session.get(Child, child_id)


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
        values["ga_at_birth_days"] = None if weeks is None else _ga_days(weeks, data.get("ga_days"))
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
    _flush(session)
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
        _revision(
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
    _flush(session)
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
    _touch(child)
    _flush(session)
    signals.child_changed.send(child, session=session, child=child)
    return child


# --- the whole handbook: a doctor's view, the export, account deletion ------------------------


def all_records(session: Session, *, person: User) -> tuple[list[Pregnancy], list[Child]]:
    """Every pregnancy of the person and every child she is guardian of (bounded queries)."""
    pregnancies = session.scalars(
        select(Pregnancy)
        .where(Pregnancy.woman_id == person.id)
        .order_by(Pregnancy.edd.desc(), Pregnancy.id)
    ).all()
    children = session.scalars(
        select(Child)
        .join(Guardian, Guardian.child_id == Child.id)
        .where(Guardian.user_id == person.id)
        .order_by(Child.birth_date, Child.birth_order, Child.id)
    ).all()
    return list(pregnancies), list(children)


def delete_account(session: Session, *, user: User) -> None:
    """Delete her account and her records; children with another guardian stay with them.

    Pregnancies, registrations, consents, partner grants and tokens go with the account
    (their foreign keys cascade); audit rows stay, with her id removed.
    """
    _, children = all_records(session, person=user)
    for child in children:
        others = [g for g in child.guardians if g.user_id != user.id]
        if others:
            signals.guardian_leaving.send(
                child, session=session, child=child, user=user, successor_id=others[0].user_id
            )
            child.guardians = others
        else:
            session.delete(child)
    session.flush()
    session.delete(user)
    session.flush()
