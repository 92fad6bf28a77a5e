"""Recording birth defects and prenatal-diagnosis results, and showing them to the family.

Services flush and never commit; routes check the policy first (a doctor writes only for the
families registered at her institution) and the request commits once.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.auth.models import User
from backend.errors import invalid
from backend.handbook.models import Child, EndKind, Pregnancy, PregnancyStatus
from backend.i18n import _l
from backend.surveillance.content import ICD10_Q, categories, normalize
from backend.surveillance.models import (
    BirthDefect,
    DefectOutcome,
    DiagnosisTiming,
    PrenatalDiagnosis,
)

# The latest day after the birth each post-natal timing allows (the surveillance form's
# periods: at birth, within 7 days, within 42 days).
POSTNATAL_DAYS = {
    DiagnosisTiming.AT_BIRTH: 1,
    DiagnosisTiming.WITHIN_7_DAYS: 7,
    DiagnosisTiming.WITHIN_42_DAYS: 42,
}
PRENATAL = (DiagnosisTiming.PRENATAL_ULTRASOUND, DiagnosisTiming.PRENATAL_DIAGNOSIS)

# How a pregnancy that ended without a birth record maps to a surveillance outcome.
END_OUTCOMES = {
    EndKind.STILLBIRTH: DefectOutcome.STILLBIRTH,
    EndKind.TERMINATION: DefectOutcome.TERMINATION,
}

LABELS = {
    DiagnosisTiming.PRENATAL_ULTRASOUND: _l("Found by an ultrasound scan in pregnancy"),
    DiagnosisTiming.PRENATAL_DIAGNOSIS: _l("Confirmed by prenatal diagnosis"),
    DiagnosisTiming.AT_BIRTH: _l("Found at birth"),
    DiagnosisTiming.WITHIN_7_DAYS: _l("Found in the first week after birth"),
    DiagnosisTiming.WITHIN_42_DAYS: _l("Found within 42 days after birth"),
    DefectOutcome.LIVE_BIRTH: _l("Born alive"),
    DefectOutcome.EARLY_NEONATAL_DEATH: _l("Born alive, died in the first week"),
    DefectOutcome.STILLBIRTH: _l("Stillbirth"),
    DefectOutcome.TERMINATION: _l("Pregnancy ended because of the defect"),
    DefectOutcome.ONGOING: _l("Found during the pregnancy"),
}


def _check_code(icd10: str, category: str | None) -> tuple[str, str]:
    code = normalize(icd10)
    if not ICD10_Q.match(code):
        raise invalid("icd10", _l("Use an ICD-10 code of chapter XVII, Q00 to Q99 (e.g. Q05.9)."))
    derived = categories().classify(code)
    if category is not None and category != derived:
        raise invalid("category", _l("This code belongs to another monitored category."))
    return code, derived


def _mother_of(session: Session, child: Child) -> uuid.UUID:
    """The woman whose handbook holds the child: the pregnancy's, else a guardian (mother first)."""
    if child.pregnancy_id is not None:
        woman_id = session.scalar(
            select(Pregnancy.woman_id).where(Pregnancy.id == child.pregnancy_id)
        )
        if woman_id is not None:
            return woman_id
    guardians = sorted(child.guardians, key=lambda g: (g.relation != "mother", g.created_at))
    return guardians[0].user_id


def _check_dates(
    diagnosed_on: dt.date, timing: str, born_on: dt.date | None, today: dt.date
) -> None:
    if diagnosed_on > today:
        raise invalid("diagnosed_on", _l("This date is in the future."))
    if born_on is None:
        if timing not in PRENATAL:
            raise invalid("timing", _l("Before the birth, the diagnosis can only be prenatal."))
        return
    if timing in PRENATAL:
        if diagnosed_on > born_on:
            raise invalid("diagnosed_on", _l("A prenatal diagnosis is made before the birth."))
        return
    days = (diagnosed_on - born_on).days
    if days < 0 or days > POSTNATAL_DAYS[DiagnosisTiming(timing)]:
        raise invalid("diagnosed_on", _l("The date does not fit the timing chosen."))


def record_for_child(
    session: Session, *, child: Child, actor: User, data: dict[str, Any], today: dt.date
) -> BirthDefect:
    """A defect of a live-born child (also one found before the birth and confirmed after)."""
    code, category = _check_code(data["icd10"], data.get("category"))
    outcome = data.get("outcome", DefectOutcome.LIVE_BIRTH)
    if outcome not in (DefectOutcome.LIVE_BIRTH, DefectOutcome.EARLY_NEONATAL_DEATH):
        raise invalid(
            "outcome", _l("A child was born alive: live birth or death in the first week.")
        )
    _check_dates(data["diagnosed_on"], data["timing"], child.birth_date, today)
    record = BirthDefect(
        woman_id=_mother_of(session, child),
        pregnancy_id=child.pregnancy_id,
        child_id=child.id,
        icd10=code,
        category=category,
        timing=data["timing"],
        diagnosed_on=data["diagnosed_on"],
        ga_days=_ga_days(data) if "gestational_age" in data else child.ga_at_birth_days,
        outcome=outcome,
        outcome_on=child.birth_date,
        note=data.get("note"),
        recorded_by=actor.id,
        recorded_by_institution_id=actor.institution_id,
    )
    session.add(record)
    session.flush()
    return record


def _ga_days(data: dict[str, Any]) -> int | None:
    ga = data.get("gestational_age")
    return ga["weeks"] * 7 + ga.get("days", 0) if ga else None


def record_for_pregnancy(
    session: Session, *, pregnancy: Pregnancy, actor: User, data: dict[str, Any], today: dt.date
) -> BirthDefect:
    """A defect found during a pregnancy, in a stillbirth or in a pregnancy terminated for it.

    A live-born baby's defect is recorded on the child instead; the outcome and its date come
    from the handbook, so the record cannot contradict it.
    """
    code, category = _check_code(data["icd10"], data.get("category"))
    if pregnancy.status == PregnancyStatus.DELIVERED:
        raise invalid(
            "pregnancy_id", _l("The baby was born alive: record the defect on the child.")
        )
    if pregnancy.status == PregnancyStatus.ENDED:
        outcome = END_OUTCOMES.get(EndKind(pregnancy.end_kind)) if pregnancy.end_kind else None
        if outcome is None:
            raise invalid(
                "pregnancy_id",
                _l("Record defects for stillbirths and terminations, not early losses."),
            )
        outcome_on, ga_days = pregnancy.ended_on, pregnancy.ga_at_end_days
    else:
        outcome, outcome_on, ga_days = DefectOutcome.ONGOING, None, None
    if data.get("outcome") not in (None, outcome):
        raise invalid("outcome", _l("The handbook records another outcome for this pregnancy."))
    _check_dates(data["diagnosed_on"], data["timing"], outcome_on, today)
    record = BirthDefect(
        woman_id=pregnancy.woman_id,
        pregnancy_id=pregnancy.id,
        icd10=code,
        category=category,
        timing=data["timing"],
        diagnosed_on=data["diagnosed_on"],
        ga_days=ga_days if ga_days is not None else _ga_days(data),
        outcome=outcome,
        outcome_on=outcome_on,
        note=data.get("note"),
        recorded_by=actor.id,
        recorded_by_institution_id=actor.institution_id,
    )
    session.add(record)
    session.flush()
    return record


def close_ongoing(session: Session, *, pregnancy: Pregnancy) -> None:
    """A pregnancy with a prenatal finding ended in a stillbirth or a termination: the finding
    becomes a case with that outcome and date (a live birth is recorded on the child)."""
    outcome = END_OUTCOMES.get(EndKind(pregnancy.end_kind)) if pregnancy.end_kind else None
    if outcome is None:
        return
    for record in session.scalars(
        select(BirthDefect).where(
            BirthDefect.pregnancy_id == pregnancy.id,
            BirthDefect.outcome == DefectOutcome.ONGOING,
        )
    ):
        record.outcome = outcome
        record.outcome_on = pregnancy.ended_on
        record.ga_days = pregnancy.ga_at_end_days
    session.flush()


def for_child(session: Session, *, child: Child) -> list[BirthDefect]:
    """The child's defects, first diagnosed first."""
    return list(
        session.scalars(
            select(BirthDefect)
            .where(BirthDefect.child_id == child.id)
            .order_by(BirthDefect.diagnosed_on, BirthDefect.recorded_at)
        )
    )


def for_pregnancy(session: Session, *, pregnancy: Pregnancy) -> list[BirthDefect]:
    """Defects recorded on the pregnancy itself (before birth, stillbirth, termination)."""
    return list(
        session.scalars(
            select(BirthDefect)
            .where(BirthDefect.pregnancy_id == pregnancy.id, BirthDefect.child_id.is_(None))
            .order_by(BirthDefect.diagnosed_on, BirthDefect.recorded_at)
        )
    )


def view(record: BirthDefect, *, locale: str) -> dict[str, Any]:
    """The record in plain words for the family (and the codes for the doctor)."""
    cats = categories()
    category = cats.by_code(record.category) or cats.other
    ga = record.ga_days
    return {
        "id": record.id,
        "pregnancy_id": record.pregnancy_id,
        "child_id": record.child_id,
        "icd10": record.icd10,
        "category": record.category,
        "category_number": category.number,
        "title": category.title.get(locale) or category.title["zh_CN"],
        "plain": category.plain.get(locale) or category.plain["zh_CN"],
        "timing": record.timing,
        "timing_text": str(LABELS[DiagnosisTiming(record.timing)]),
        "diagnosed_on": record.diagnosed_on,
        "gestational_age": {"weeks": ga // 7, "days": ga % 7} if ga is not None else None,
        "outcome": record.outcome,
        "outcome_text": str(LABELS[DefectOutcome(record.outcome)]),
        "outcome_on": record.outcome_on,
        "note": record.note,
        "recorded_at": record.recorded_at,
    }


def record_diagnosis(
    session: Session, *, pregnancy: Pregnancy, actor: User, data: dict[str, Any], today: dt.date
) -> PrenatalDiagnosis:
    """A prenatal-diagnosis result (amniocentesis, CVS, ...) for the pregnancy."""
    if data["performed_on"] > today:
        raise invalid("performed_on", _l("This date is in the future."))
    conception = pregnancy.edd - dt.timedelta(days=280)
    if data["performed_on"] < conception:
        raise invalid("performed_on", _l("This date is before the pregnancy began."))
    if pregnancy.ended_on is not None and data["performed_on"] > pregnancy.ended_on:
        raise invalid("performed_on", _l("This date is after the pregnancy ended."))
    icd10 = data.get("icd10")
    if icd10 is not None:
        icd10, _ = _check_code(icd10, None)
    record = PrenatalDiagnosis(
        pregnancy_id=pregnancy.id,
        woman_id=pregnancy.woman_id,
        performed_on=data["performed_on"],
        ga_days=(data["performed_on"] - conception).days,
        procedure=data["procedure"],
        test=data.get("test"),
        result=data["result"],
        finding=data.get("finding"),
        icd10=icd10,
        recorded_by=actor.id,
    )
    session.add(record)
    session.flush()
    return record


def diagnoses(session: Session, *, pregnancy: Pregnancy) -> list[PrenatalDiagnosis]:
    """The pregnancy's prenatal-diagnosis results, in order."""
    return list(
        session.scalars(
            select(PrenatalDiagnosis)
            .where(PrenatalDiagnosis.pregnancy_id == pregnancy.id)
            .order_by(PrenatalDiagnosis.performed_on, PrenatalDiagnosis.recorded_at)
        )
    )
