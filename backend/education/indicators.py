"""Reading statistics: reach per lesson and per stage for educators, and the education service
rate per institution and district for administrators.

The education service rate (健康教育服务率) is the share of registered (建册) women of
childbearing age who completed at least one lesson in the period. Periods are local dates in
the app's time zone, both ends included.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import and_, case, exists, func, literal, or_, select
from sqlalchemy.orm import Session

from backend import clock, content
from backend.auth.models import Institution, Registration, Role, User
from backend.content.models import EducationIndicator
from backend.education.models import Lesson, LessonRead, LessonStatus, LessonVersion
from backend.education.service import colour
from backend.handbook import stages
from backend.handbook.models import Pregnancy
from backend.months import add_years


def _indicator() -> EducationIndicator:
    """Who counts (women of childbearing age, 育龄妇女) and the target: content/indicators/."""
    return content.typed(EducationIndicator)


def period(
    since: dt.date | None, until: dt.date | None, tz: str
) -> tuple[dt.datetime | None, dt.datetime | None]:
    """Local dates → [start, end) instants in UTC (open ends stay None)."""
    zone = clock.zone(tz)
    start = dt.datetime.combine(since, dt.time(), zone).astimezone(dt.UTC) if since else None
    end = (
        dt.datetime.combine(until + dt.timedelta(days=1), dt.time(), zone).astimezone(dt.UTC)
        if until
        else None
    )
    return start, end


def _within(column: Any, start: dt.datetime | None, end: dt.datetime | None) -> Any:
    conditions = [column.is_not(None)]
    if start is not None:
        conditions.append(column >= start)
    if end is not None:
        conditions.append(column < end)
    return and_(*conditions)


def _rate(done: int, of: int) -> float | None:
    return round(done / of, 4) if of else None


def lesson_reach(
    session: Session,
    *,
    lesson: Lesson,
    since: dt.date | None = None,
    until: dt.date | None = None,
    tz: str,
) -> dict[str, Any]:
    """Readers, completions and quiz passes of one lesson, in total and per version read last."""
    start, end = period(since, until, tz)
    read = _within(LessonRead.read_at, start, end)
    done = _within(LessonRead.completed_at, start, end)
    rows = session.execute(
        select(
            LessonVersion.number,
            func.count(case((read, 1))),
            func.count(case((done, 1))),
            func.count(case((and_(done, LessonRead.quiz_passed.is_(True)), 1))),
        )
        .join(LessonVersion, LessonVersion.id == LessonRead.version_id)
        .where(LessonRead.lesson_id == lesson.id)
        .group_by(LessonVersion.number)
        .order_by(LessonVersion.number)
    ).all()
    readers = sum(r[1] for r in rows)
    completed = sum(r[2] for r in rows)
    return {
        "lesson_id": lesson.id,
        "slug": lesson.slug,
        "stage": lesson.stage,
        "from": since,
        "to": until,
        "readers": readers,
        "completed": completed,
        "quiz_passed": sum(r[3] for r in rows),
        "completion_rate": _rate(completed, readers),
        "versions": [
            {"number": number, "readers": r, "completed": c, "quiz_passed": q}
            for number, r, c, q in rows
        ],
    }


def stage_reach(
    session: Session, *, since: dt.date | None = None, until: dt.date | None = None, tz: str
) -> list[dict[str, Any]]:
    """Per life stage: published lessons, readers, completions, people who completed one."""
    start, end = period(since, until, tz)
    published = dict(
        session.execute(
            select(Lesson.stage, func.count())
            .where(Lesson.status == LessonStatus.PUBLISHED)
            .group_by(Lesson.stage)
        ).all()
    )
    read = _within(LessonRead.read_at, start, end)
    done = _within(LessonRead.completed_at, start, end)
    reads = {
        stage: (reads_, readers, completions, completers)
        for stage, reads_, readers, completions, completers in session.execute(
            select(
                Lesson.stage,
                func.count(case((read, 1))),
                func.count(func.distinct(case((read, LessonRead.user_id)))),
                func.count(case((done, 1))),
                func.count(func.distinct(case((done, LessonRead.user_id)))),
            )
            .join(Lesson, Lesson.id == LessonRead.lesson_id)
            .group_by(Lesson.stage)
        ).all()
    }
    out = []
    for stage in stages.STAGE_NAMES:
        reads_, readers, completions, completers = reads.get(stage, (0, 0, 0, 0))
        out.append(
            {
                "stage": stage,
                "colour": colour(stage),
                "published_lessons": published.get(stage, 0),
                "reads": reads_,
                "readers": readers,
                "completions": completions,
                "completed_readers": completers,
                "completion_rate": _rate(completions, reads_),
            }
        )
    return out


def _group(registered: int, completed: int) -> dict[str, Any]:
    rate = _rate(completed, registered)
    return {
        "registered": registered,
        "completed": completed,
        "rate": rate,
        "percent": round(rate * 100, 1) if rate is not None else None,
        "meets_target": rate is not None and rate >= _indicator().target_rate,
    }


def education_rate(session: Session, *, since: dt.date, until: dt.date, tz: str) -> dict[str, Any]:
    """The education service rate per institution, per district and in total.

    Counted: citizens registered (建册) at an institution at some time in the period, women
    (recorded as female, or with a pregnancy in the handbook) aged 15-49 on the period's last
    day (a woman without a birth date cannot be placed in the band and is not counted); done:
    those of them who completed at least one lesson in the period.
    """
    start, end = period(since, until, tz)
    low, high = _indicator().childbearing_age
    completed = exists(
        select(LessonRead.id).where(
            LessonRead.user_id == User.id, _within(LessonRead.completed_at, start, end)
        )
    )
    woman = or_(
        User.sex == "female", exists(select(Pregnancy.id).where(Pregnancy.woman_id == User.id))
    )
    eligible = (
        select(
            Registration.user_id.label("user_id"),
            Institution.id.label("institution_id"),
            Institution.name.label("name"),
            Institution.district_code.label("district_code"),
            case((completed, literal(1)), else_=literal(0)).label("done"),
        )
        .join(User, User.id == Registration.user_id)
        .join(Institution, Institution.id == Registration.institution_id)
        .where(
            User.role == Role.CITIZEN,
            woman,
            User.birth_date > add_years(until, -(high + 1)),
            User.birth_date <= add_years(until, -low),
            Registration.registered_at < end,
            or_(Registration.left_at.is_(None), Registration.left_at >= start),
        )
        .subquery()
    )
    people = func.count(func.distinct(eligible.c.user_id))
    done = func.count(func.distinct(case((eligible.c.done == 1, eligible.c.user_id))))
    institutions = session.execute(
        select(eligible.c.institution_id, eligible.c.name, eligible.c.district_code, people, done)
        .group_by(eligible.c.institution_id, eligible.c.name, eligible.c.district_code)
        .order_by(eligible.c.district_code, eligible.c.name)
    ).all()
    districts = session.execute(
        select(eligible.c.district_code, people, done)
        .group_by(eligible.c.district_code)
        .order_by(eligible.c.district_code)
    ).all()
    total = session.execute(select(people, done)).one()
    return {
        "from": since,
        "to": until,
        "target": _indicator().target_rate,
        "age_band": {"from": low, "to": high},
        "total": _group(total[0], total[1]),
        "institutions": [
            {"institution_id": inst_id, "name": name, "district_code": district, **_group(n, d)}
            for inst_id, name, district, n, d in institutions
        ],
        "districts": [{"district_code": district, **_group(n, d)} for district, n, d in districts],
    }
