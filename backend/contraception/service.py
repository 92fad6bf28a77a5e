"""Contraception advice and family benefits from her record: the facts the pure engines need,
the methods she started (an IUD plans its follow-up and, after the menopause, its removal),
and the leave and childcare subsidy for each birth or loss on record."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.auth.models import User
from backend.care import service as care_service
from backend.care.protocols import ProtocolSet
from backend.contraception import eligibility
from backend.contraception.models import ContraceptionFacts, MethodRecord
from backend.db import utcnow
from backend.errors import Conflict, invalid
from backend.handbook import service as handbook_service
from backend.handbook.models import EndKind, Pregnancy, PregnancyStatus
from backend.i18n import _l

INTRAUTERINE = "intrauterine"
FACT_FIELDS = (
    "breastfeeding",
    "fully_breastfeeding",
    "menses_returned",
    "other_vte_risk_factors",
    "smoker",
    "cigarettes_per_day",
    "bmi",
    "systolic_mmhg",
    "diastolic_mmhg",
    "last_period",
)


def get_facts(session: Session, *, woman: User) -> ContraceptionFacts | None:
    """What is on record for her (None when nothing is)."""
    return session.get(ContraceptionFacts, woman.id)


def current_methods(session: Session, *, woman: User) -> list[MethodRecord]:
    """The methods she uses now (started, not stopped)."""
    return list(
        session.scalars(
            select(MethodRecord)
            .where(MethodRecord.woman_id == woman.id, MethodRecord.ended_on.is_(None))
            .order_by(MethodRecord.started_on)
        )
    )


def _is_birth(p: Pregnancy) -> bool:
    """A birth for her contraception: a delivery, a stillbirth, or an end at 28 weeks or more."""
    return handbook_service.is_birth_for_mother(p.status, p.end_kind, p.ga_at_end_days)


def is_pregnant(session: Session, *, woman: User) -> bool:
    """An ongoing pregnancy: the eligibility table does not rate methods in pregnancy."""
    return (
        session.scalar(
            select(Pregnancy.id).where(
                Pregnancy.woman_id == woman.id, Pregnancy.status == PregnancyStatus.ONGOING
            )
        )
        is not None
    )


def woman_facts(session: Session, *, woman: User) -> eligibility.WomanFacts:
    """Her facts for the eligibility engine: derived from the handbook, recorded here."""
    pregnancies, children = handbook_service.all_records(session, person=woman)
    births = sorted(
        (p for p in pregnancies if _is_birth(p) and p.ended_on),
        key=lambda p: p.ended_on or dt.date.min,
    )
    losses = sorted(
        (
            p
            for p in pregnancies
            if p.status == PregnancyStatus.ENDED and not _is_birth(p) and p.ended_on
        ),
        key=lambda p: p.ended_on,  # type: ignore[arg-type, return-value]
    )
    record = get_facts(session, woman=woman)
    values: dict[str, Any] = {
        name: getattr(record, name)
        for name in FACT_FIELDS
        if record is not None and name != "last_period"
    }
    last_birth = births[-1] if births else None
    last_loss = losses[-1] if losses else None
    parity = len({c.birth_date for c in children}) or (len(births) if births else None)
    return eligibility.WomanFacts(
        born_on=woman.birth_date,
        parity=parity if parity or not births else len(births),
        last_birth_on=last_birth.ended_on if last_birth else None,
        caesarean=(last_birth.delivery_mode == "caesarean") if last_birth else None,
        abortion_on=last_loss.ended_on if last_loss else None,
        abortion_ga_weeks=(
            last_loss.ga_at_end_days // 7
            if last_loss and last_loss.ga_at_end_days is not None
            else None
        ),
        abortion_induced=(last_loss.end_kind == EndKind.TERMINATION) if last_loss else None,
        recorded=frozenset(record.conditions) if record else frozenset(),
        current_methods=frozenset(m.method for m in current_methods(session, woman=woman)),
        **values,
    )


def assess(
    session: Session,
    *,
    woman: User,
    table: eligibility.EligibilityTable,
    today: dt.date,
    locale: str,
) -> eligibility.Assessment:
    """Every method for her today with its WHO MEC category and the reasoning."""
    return eligibility.assess(woman_facts(session, woman=woman), table, today, locale)


def set_facts(
    session: Session,
    *,
    woman: User,
    actor: User,
    data: Mapping[str, Any],
    table: eligibility.EligibilityTable,
    protocols: ProtocolSet,
    default_tz: str,
    today: dt.date,
) -> ContraceptionFacts:
    """Record facts and conditions (her or her doctor); re-plans an IUD removal if it applies."""
    unknown = sorted(set(data.get("conditions") or ()) - set(table.flags))
    if unknown:
        raise invalid("conditions", _l("Unknown condition: %(codes)s.", codes=", ".join(unknown)))
    last_period = data.get("last_period")
    if last_period is not None and last_period > today:
        raise invalid("last_period", _l("This date cannot be in the future."))
    record = get_facts(session, woman=woman)
    if record is None:
        record = ContraceptionFacts(woman_id=woman.id, conditions=[])
        session.add(record)
    for name in FACT_FIELDS:
        if name in data:
            setattr(record, name, data[name])
    if "conditions" in data:
        record.conditions = sorted(set(data["conditions"]))
    record.updated_by = actor.id
    record.updated_at = utcnow()
    session.flush()
    _plan_iud(
        session, woman=woman, table=table, protocols=protocols, default_tz=default_tz, today=today
    )
    return record


def record_method(
    session: Session,
    *,
    woman: User,
    actor: User,
    method: str,
    started_on: dt.date,
    table: eligibility.EligibilityTable,
    protocols: ProtocolSet,
    default_tz: str,
    today: dt.date,
    note: str | None = None,
) -> MethodRecord:
    """A doctor records a method started; an IUD schedules its follow-up checks."""
    try:
        spec = table.method(method)
    except (KeyError, StopIteration):
        raise invalid("method", _l("Must be one of the allowed values.")) from None
    if started_on > today:
        raise invalid("started_on", _l("This date cannot be in the future."))
    if spec.group == INTRAUTERINE and any(
        table.method(m.method).group == INTRAUTERINE for m in current_methods(session, woman=woman)
    ):
        raise Conflict(_l("An IUD is already in place: record its removal first."))
    row = MethodRecord(
        woman_id=woman.id, method=method, started_on=started_on, note=note, recorded_by=actor.id
    )
    session.add(row)
    session.flush()
    _plan_iud(
        session, woman=woman, table=table, protocols=protocols, default_tz=default_tz, today=today
    )
    return row


def stop_method(
    session: Session,
    *,
    record: MethodRecord,
    ended_on: dt.date,
    table: eligibility.EligibilityTable,
    protocols: ProtocolSet,
    default_tz: str,
    today: dt.date,
) -> MethodRecord:
    """She stopped a method (an IUD removed): its pending follow-ups are cancelled."""
    if record.ended_on is not None:
        raise Conflict(_l("This method is already recorded as stopped."))
    if ended_on > today or ended_on < record.started_on:
        raise invalid("ended_on", _l("Give a date between the start and today."))
    record.ended_on = ended_on
    session.flush()
    woman = session.get(User, record.woman_id)
    assert woman is not None
    _plan_iud(
        session, woman=woman, table=table, protocols=protocols, default_tz=default_tz, today=today
    )
    return record


def _plan_iud(
    session: Session,
    *,
    woman: User,
    table: eligibility.EligibilityTable,
    protocols: ProtocolSet,
    default_tz: str,
    today: dt.date,
) -> None:
    """Keep her care anchors in line: IUD insertion date, and the last period for removal."""
    iud = next(
        (
            m
            for m in current_methods(session, woman=woman)
            if table.method(m.method).group == INTRAUTERINE
        ),
        None,
    )
    record = get_facts(session, woman=woman)
    last_period = record.last_period if record else None
    removal = None
    if iud is not None and last_period is not None and woman.birth_date is not None:
        age = (
            today.year
            - woman.birth_date.year
            - ((today.month, today.day) < (woman.birth_date.month, woman.birth_date.day))
        )
        removal = eligibility.iud_removal(age, last_period, table.iud)
    care_service.set_options(
        session,
        subject=care_service.woman_subject(woman),
        vaccine_choices=None,
        flags=None,
        anchors={
            "insertion": iud.started_on if iud else None,
            "last_period": last_period if removal else None,
        },
        protocols=protocols,
        default_tz=default_tz,
    )
