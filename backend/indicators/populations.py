"""Which records count: the populations an indicator is computed over, and the conditions its
numerator may set, as SQL (one statement per indicator; never a loop over people).

Every population is a SELECT of rows (unit, person_id, anchor, num, den, category):
- `unit` identifies what is counted once (a birth, a pregnancy, a child, a care step...);
- `person_id` is the woman whose registration (建册) places the row in an institution and
  district on the `anchor` date (the period rule: date of birth, of delivery, of booking...);
- `num`/`den` say whether the row counts in the numerator, the denominator, or both.
A definition names its denominator population and either numerator conditions on the same rows
or a numerator population of its own (birth defects over births).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    and_,
    case,
    exists,
    func,
    literal,
    null,
    or_,
    select,
    true,
    union_all,
)

from backend.auth.models import Registration, User
from backend.care.models import CareStep, RiskAssessment, StepState
from backend.education.models import LessonRead
from backend.handbook.models import Child, EndKind, Guardian, Pregnancy, PregnancyStatus
from backend.indicators.sql import days_between, local_date
from backend.months import add_years
from backend.paging import AnySelect
from backend.regimens.models import CheckIn, Regimen, RegimenKind
from backend.reminders.models import Reminder, ReminderStatus
from backend.surveillance.models import BirthDefect, PrenatalDiagnosis


@dataclass(frozen=True)
class Period:
    """Local dates, both ends included; `offset` turns UTC instants into local dates."""

    start: dt.date
    end: dt.date
    today: dt.date
    offset_minutes: int


@dataclass(frozen=True)
class Subject:
    """What numerator conditions look at: the row's care subject and its woman."""

    kind: Any  # a literal ('pregnancy', 'child', 'woman') or a column
    id: Any
    person: Any
    pregnancy_edd: Any = None


# --- numerator conditions ---------------------------------------------------------------------


def _steps_done(subject: Subject, codes: list[str], on_time: bool = False) -> ColumnElement[bool]:
    done = [
        CareStep.subject_kind == subject.kind,
        CareStep.subject_id == subject.id,
        CareStep.code.in_(codes),
        CareStep.state == StepState.DONE,
    ]
    if on_time:
        done.append(CareStep.done_on <= CareStep.closes_on)
    return exists(select(CareStep.id).where(*done))


def _visit_days(subject: Subject, spec: dict[str, Any]) -> ColumnElement[bool]:
    days = (
        select(func.count(func.distinct(CareStep.done_on)))
        .where(
            CareStep.subject_kind == subject.kind,
            CareStep.subject_id == subject.id,
            CareStep.code.in_(spec["codes"]),
            CareStep.state == StepState.DONE,
        )
        .scalar_subquery()
    )
    return days >= int(spec["at_least"])


def _folic_acid_by_first_trimester_end(subject: Subject, weeks: int) -> ColumnElement[bool]:
    """A taken folic-acid check-in no later than `weeks` of this pregnancy."""
    return exists(
        select(CheckIn.id)
        .join(Regimen, Regimen.id == CheckIn.regimen_id)
        .where(
            Regimen.user_id == subject.person,
            Regimen.kind == RegimenKind.FOLIC_ACID,
            CheckIn.taken.is_(True),
            days_between(CheckIn.on, subject.pregnancy_edd) <= weeks * 7 - 280,
        )
    )


def _prenatal_diagnosis(subject: Subject) -> ColumnElement[bool]:
    return exists(select(PrenatalDiagnosis.id).where(PrenatalDiagnosis.pregnancy_id == subject.id))


CONDITIONS: dict[str, Callable[[Subject, Any], ColumnElement[bool]]] = {
    "step_done": lambda s, codes: _steps_done(s, codes),
    "step_done_on_time": lambda s, codes: _steps_done(s, codes, on_time=True),
    "visit_days": _visit_days,
    "folic_acid_by_week": _folic_acid_by_first_trimester_end,
    "prenatal_diagnosis_recorded": lambda s, _v: _prenatal_diagnosis(s),
    # On a population of care steps: the step itself.
    "self_done": lambda _s, _v: CareStep.state == StepState.DONE,
    "self_done_on_time": lambda _s, _v: and_(
        CareStep.state == StepState.DONE, CareStep.done_on <= CareStep.closes_on
    ),
}


def condition(subject: Subject, spec: dict[str, Any]) -> ColumnElement[bool]:
    """One condition ({step_done: [...]}) or a combination ({any: [...]}, {all: [...]})."""
    ((name, value),) = spec.items()
    if name == "any":
        return or_(*(condition(subject, s) for s in value))
    if name == "all":
        return and_(*(condition(subject, s) for s in value))
    return CONDITIONS[name](subject, value)


def _num(subject: Subject, where: list[dict[str, Any]] | None, extra: Any = None) -> Any:
    """1 when every numerator condition holds, else 0."""
    conditions = [condition(subject, s) for s in where or ()]
    if extra is not None:
        conditions.append(extra)
    return case((and_(true(), *conditions), 1), else_=0)


def _between(column: Any, period: Period) -> ColumnElement[bool]:
    return and_(column >= period.start, column <= period.end)


# --- populations ------------------------------------------------------------------------------


def _child_mother(child_id: Any) -> Any:
    """A child's woman: the mother guardian first, else the first guardian."""
    return (
        select(Guardian.user_id)
        .where(Guardian.child_id == child_id)
        .order_by(case((Guardian.relation == "mother", 0), else_=1), Guardian.created_at)
        .limit(1)
        .scalar_subquery()
    )


def births(spec: dict[str, Any], period: Period, where: Any) -> Any:
    """Live births (each child, so twins count twice) and stillbirths from `stillbirth_from_days`
    of gestation (one per pregnancy: the handbook does not record the number of fetuses)."""
    live = (
        select(
            Child.id.label("unit"),
            func.coalesce(Pregnancy.woman_id, _child_mother(Child.id)).label("person_id"),
            Child.birth_date.label("anchor"),
            literal(0).label("num"),
            literal(1).label("den"),
            null().label("category"),
        )
        .outerjoin(Pregnancy, Pregnancy.id == Child.pregnancy_id)
        .where(_between(Child.birth_date, period))
    )
    still = select(
        Pregnancy.id.label("unit"),
        Pregnancy.woman_id.label("person_id"),
        Pregnancy.ended_on.label("anchor"),
        literal(0).label("num"),
        literal(1).label("den"),
        null().label("category"),
    ).where(
        Pregnancy.status == PregnancyStatus.ENDED,
        Pregnancy.end_kind == EndKind.STILLBIRTH,
        Pregnancy.ga_at_end_days >= int(spec["stillbirth_from_days"]),
        _between(Pregnancy.ended_on, period),
    )
    return [live, still]


def birth_defects(spec: dict[str, Any], period: Period, where: Any) -> AnySelect:
    """Cases of birth defect (one per child, or per pregnancy when none was born alive) whose
    outcome counts: `outcomes`, stillbirths only from `stillbirth_from_days`."""
    outcomes = list(spec["outcomes"])
    counted: ColumnElement[bool] = BirthDefect.outcome.in_(outcomes)
    if "stillbirth_from_days" in spec:
        counted = and_(
            counted,
            or_(
                BirthDefect.outcome != "stillbirth",
                BirthDefect.ga_days >= int(spec["stillbirth_from_days"]),
            ),
        )
    return select(
        func.coalesce(BirthDefect.child_id, BirthDefect.pregnancy_id).label("unit"),
        BirthDefect.woman_id.label("person_id"),
        BirthDefect.outcome_on.label("anchor"),
        literal(1).label("num"),
        literal(0).label("den"),
        BirthDefect.category.label("category"),
    ).where(counted, _between(BirthDefect.outcome_on, period))


def _pregnancies(anchor: Any, filters: list[Any], where: Any, period: Period) -> Any:
    subject = Subject(
        literal("pregnancy"), Pregnancy.id, Pregnancy.woman_id, pregnancy_edd=Pregnancy.edd
    )
    return select(
        Pregnancy.id.label("unit"),
        Pregnancy.woman_id.label("person_id"),
        anchor.label("anchor"),
        _num(subject, where).label("num"),
        literal(1).label("den"),
        null().label("category"),
    ).where(*filters, _between(anchor, period))


def delivered_pregnancies(spec: dict[str, Any], period: Period, where: Any) -> AnySelect:
    """Pregnancies that ended in a birth, by date of delivery."""
    return _pregnancies(  # type: ignore[no-any-return]
        Pregnancy.ended_on, [Pregnancy.status == PregnancyStatus.DELIVERED], where, period
    )


def booked_pregnancies(spec: dict[str, Any], period: Period, where: Any) -> AnySelect:
    """Pregnancies recorded in the handbook, by the local date they were recorded."""
    return _pregnancies(  # type: ignore[no-any-return]
        local_date(Pregnancy.created_at, period.offset_minutes), [], where, period
    )


def high_risk_pregnancies(spec: dict[str, Any], period: Period, where: Any) -> AnySelect:
    """Pregnancies first graded in `colours` (or purple) in the period, by that grading date."""
    graded = or_(RiskAssessment.colour.in_(spec["colours"]), RiskAssessment.purple.is_(True))
    first = (
        select(
            RiskAssessment.pregnancy_id.label("pregnancy_id"),
            func.min(RiskAssessment.assessed_on).label("anchor"),
        )
        .where(graded)
        .group_by(RiskAssessment.pregnancy_id)
        .subquery()
    )
    subject = Subject(literal("pregnancy"), Pregnancy.id, Pregnancy.woman_id, Pregnancy.edd)
    return (
        select(
            Pregnancy.id.label("unit"),
            Pregnancy.woman_id.label("person_id"),
            first.c.anchor.label("anchor"),
            _num(subject, where).label("num"),
            literal(1).label("den"),
            null().label("category"),
        )
        .join(first, first.c.pregnancy_id == Pregnancy.id)
        .where(_between(first.c.anchor, period))
    )


def children_born(spec: dict[str, Any], period: Period, where: Any) -> AnySelect:
    """Children (each twin on their own) by date of birth."""
    subject = Subject(literal("child"), Child.id, None)
    return (
        select(
            Child.id.label("unit"),
            func.coalesce(Pregnancy.woman_id, _child_mother(Child.id)).label("person_id"),
            Child.birth_date.label("anchor"),
            _num(subject, where).label("num"),
            literal(1).label("den"),
            null().label("category"),
        )
        .outerjoin(Pregnancy, Pregnancy.id == Child.pregnancy_id)
        .where(_between(Child.birth_date, period))
    )


def steps(spec: dict[str, Any], period: Period, where: Any) -> AnySelect:
    """Care steps of `codes` (or of whole `programmes`) whose window closed in the period.

    Cancelled steps (no longer applicable) and windows that had closed before the family
    joined are left out: nobody could have acted on them. Declined steps count as not done.
    """
    chosen = []
    if spec.get("codes"):
        chosen.append(CareStep.code.in_(spec["codes"]))
    if spec.get("programmes"):
        chosen.append(CareStep.programme.in_(spec["programmes"]))
    subject = Subject(CareStep.subject_kind, CareStep.subject_id, CareStep.person_id)
    return select(
        CareStep.id.label("unit"),
        CareStep.person_id.label("person_id"),
        CareStep.closes_on.label("anchor"),
        _num(subject, where).label("num"),
        literal(1).label("den"),
        null().label("category"),
    ).where(
        or_(*chosen),
        CareStep.state != StepState.CANCELLED,
        CareStep.closed_before_enrolment.is_(False),
        _between(CareStep.closes_on, period),
        CareStep.closes_on <= period.today,
    )


def folic_acid_regimens(spec: dict[str, Any], period: Period, where: Any) -> AnySelect:
    """Folic-acid regimens started in the period; the numerator: check-ins on at least
    `adherence` of the days from the start to its end (or today)."""
    end = func.coalesce(Regimen.stopped_on, Regimen.ends_on, period.today)
    last = case((end < period.today, end), else_=period.today)
    span = days_between(last, Regimen.starts_on) + 1
    taken = (
        select(func.count(func.distinct(CheckIn.on)))
        .where(
            CheckIn.regimen_id == Regimen.id,
            CheckIn.taken.is_(True),
            CheckIn.on >= Regimen.starts_on,
            CheckIn.on <= last,
        )
        .scalar_subquery()
    )
    share = round(float(spec["adherence"]) * 100)
    return select(
        Regimen.id.label("unit"),
        Regimen.user_id.label("person_id"),
        Regimen.starts_on.label("anchor"),
        case((taken * 100 >= span * share, 1), else_=0).label("num"),
        literal(1).label("den"),
        null().label("category"),
    ).where(
        Regimen.kind == RegimenKind.FOLIC_ACID,
        Regimen.starts_on <= period.today,
        _between(Regimen.starts_on, period),
    )


def registered_women(spec: dict[str, Any], period: Period, where: Any) -> AnySelect:
    """Women of childbearing age (on the period's last day) registered (建册) during the period;
    the numerator: completed a lesson in the period. Counted where registered at the end."""
    low, high = int(spec["age_from"]), int(spec["age_to"])
    born_after = add_years(period.end, -(high + 1))
    born_by = add_years(period.end, -low)
    completed = exists(
        select(LessonRead.id).where(
            LessonRead.user_id == User.id,
            local_date(LessonRead.completed_at, period.offset_minutes) >= period.start,
            local_date(LessonRead.completed_at, period.offset_minutes) <= period.end,
        )
    )
    woman = or_(
        User.sex == "female", exists(select(Pregnancy.id).where(Pregnancy.woman_id == User.id))
    )
    registered = exists(
        select(Registration.id).where(
            Registration.user_id == User.id,
            local_date(Registration.registered_at, period.offset_minutes) <= period.end,
            or_(
                Registration.left_at.is_(None),
                local_date(Registration.left_at, period.offset_minutes) >= period.start,
            ),
        )
    )
    return select(
        User.id.label("unit"),
        User.id.label("person_id"),
        literal(period.end).label("anchor"),
        case((completed, 1), else_=0).label("num"),
        literal(1).label("den"),
        null().label("category"),
    ).where(
        User.role == "citizen",
        woman,
        User.birth_date > born_after,
        User.birth_date <= born_by,
        registered,
    )


def care_reminders(spec: dict[str, Any], period: Period, where: Any) -> AnySelect:
    """Reminders of care steps delivered in the period; the numerator: the step was done by the
    reminder's effect deadline."""
    delivered_on = local_date(Reminder.delivered_at, period.offset_minutes)
    helped = exists(
        select(CareStep.id).where(
            CareStep.id == Reminder.source_id,
            CareStep.state == StepState.DONE,
            CareStep.done_on <= Reminder.effect_deadline,
        )
    )
    return select(
        Reminder.id.label("unit"),
        Reminder.recipient_id.label("person_id"),
        delivered_on.label("anchor"),
        case((helped, 1), else_=0).label("num"),
        literal(1).label("den"),
        null().label("category"),
    ).where(
        Reminder.source_type == "care_step",
        Reminder.status == ReminderStatus.DELIVERED,
        _between(delivered_on, period),
    )


# name → (builder, the period rule it counts by)
# A builder returns one SELECT or a list of them (united with UNION ALL).
POPULATIONS: dict[str, tuple[Callable[[dict[str, Any], Period, Any], Any], str]] = {
    "births": (births, "birth"),
    "birth_defects": (birth_defects, "birth"),
    "children_born": (children_born, "birth"),
    "delivered_pregnancies": (delivered_pregnancies, "delivery"),
    "booked_pregnancies": (booked_pregnancies, "booking"),
    "high_risk_pregnancies": (high_risk_pregnancies, "risk_grading"),
    "steps": (steps, "window_close"),
    "folic_acid_regimens": (folic_acid_regimens, "regimen_start"),
    "registered_women": (registered_women, "period_end"),
    "care_reminders": (care_reminders, "reminder_delivery"),
}


def _check_where(where: Any) -> None:
    for spec in where or ():
        ((name, value),) = spec.items()
        if name in ("any", "all"):
            _check_where(value)
        elif name not in CONDITIONS:
            raise ValueError(f"unknown numerator condition {name}")


def validate(records: dict[str, Any]) -> str:
    """Check a definition's `records`; return the period rule its rows are counted by."""
    denominator = records["denominator"]
    _, anchor = POPULATIONS[denominator["population"]]
    numerator = records["numerator"]
    if "population" in numerator:
        _, num_anchor = POPULATIONS[numerator["population"]]
        if num_anchor != anchor:
            raise ValueError("numerator and denominator must be counted by the same date")
    else:
        _check_where(numerator.get("where"))
    return anchor


def repeats_units(records: dict[str, Any]) -> bool:
    """Whether a unit may have several rows (birth defects: one row per diagnosis)."""
    return bool(records["numerator"].get("population") == "birth_defects")


def _parts(selects: Any) -> list[Any]:
    return list(selects) if isinstance(selects, list) else [selects]


def rows(records: dict[str, Any], period: Period) -> Any:
    """The indicator's rows (unit, person_id, anchor, num, den, category) as one subquery."""
    denominator, numerator = records["denominator"], records["numerator"]
    builder, _ = POPULATIONS[denominator["population"]]
    if "population" in numerator:
        num_builder, _ = POPULATIONS[numerator["population"]]
        parts = _parts(builder(denominator, period, None)) + _parts(
            num_builder(numerator, period, None)
        )
    else:
        parts = _parts(builder(denominator, period, numerator.get("where")))
    if len(parts) == 1:
        return parts[0].subquery("indicator_rows")
    return union_all(*parts).subquery("indicator_rows")
