"""A reader's side of lessons: where she is on each stage's clock, her feed, reading a lesson,
and marking it read or completed.

Her stages come from the handbook (`profiles.person_facts`, `stages.derive`), each with its
clock value: the pregnancy week from the EDD, the postpartum day from the birth, the child's age
in months (rearing) or years (education), her own age, and the months before a planned
pregnancy. A loss is a section of its own (the birth stage on the `loss_day` clock, lessons
with the topic pregnancy-loss only) for as long as a loss lesson lies ahead; nobody without a
recorded loss ever gets a loss lesson. A lesson is `now` when its window holds her clock value
(half-open [from, to)), `next` when its window starts later, soonest first.
"""

from __future__ import annotations

import datetime as dt
import functools
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, bindparam, exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from backend import clock
from backend.auth.models import User
from backend.care.models import CareOptions
from backend.education import lesson_content
from backend.education.models import Lesson, LessonRead, LessonVariant, LessonVersion
from backend.education.models import VersionStatus as VS
from backend.education.service import colour, published_version
from backend.errors import NotFound, invalid
from backend.handbook import dating, stages
from backend.handbook.models import Pregnancy, PregnancyStatus
from backend.handbook.profiles import person_facts
from backend.i18n import _l
from backend.months import add_months, months_between

DEFAULT_NEXT = 3


# --- clocks ------------------------------------------------------------------------------------


def age_in_months(birth: dt.date, on: dt.date) -> int:
    """Completed months of age on a date."""
    months = months_between(birth, on)
    while months > 0 and add_months(birth, months) > on:
        months -= 1
    return max(months, 0)


def months_before(today: dt.date, planned: dt.date) -> int:
    """Months left until a planned date, counted up (0 once it has come)."""
    months = max(months_between(today, planned) - 1, 0)
    while add_months(today, months) < planned:
        months += 1
    return months


def _start_end(clock_name: str, window_from: int, window_to: int) -> tuple[int, int]:
    """A window as [start, end) on an ascending axis (countdown clocks are negated)."""
    if clock_name in lesson_content.COUNTDOWN_CLOCKS:
        return -window_from, -window_to
    return window_from, window_to


def _axis(clock_name: str, value: int) -> int:
    return -value if clock_name in lesson_content.COUNTDOWN_CLOCKS else value


def placement(clock_name: str, window_from: int, window_to: int, value: int) -> str | None:
    """'now' when the window holds the clock value, 'next' when it starts later, else None."""
    start, end = _start_end(clock_name, window_from, window_to)
    at = _axis(clock_name, value)
    if start <= at < end:
        return "now"
    return "next" if start > at else None


@dataclass(frozen=True)
class Position:
    """Where a person stands in one of her stages: whom it is about and its clock values."""

    stage: str
    colour: str
    subject: stages.Subject
    clocks: Mapping[str, int]
    since: dt.date | None = None
    after_loss: bool = False


def _woman_clocks(person: User, today: dt.date) -> dict[str, int]:
    if person.birth_date is None:
        return {}
    return {"woman_age_years": dating.age_in_years(person.birth_date, today)}


def _plan_date(session: Session, person: User) -> dt.date | None:
    """Her planned pregnancy, as the care domain keeps it (also set by the folic acid plan)."""
    options = session.get(CareOptions, ("woman", person.id))
    value = (options.anchors or {}).get("plan_date") if options else None
    try:
        return dt.date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def positions(session: Session, *, person: User, today: dt.date) -> list[Position]:
    """Her current stages with their clock values, then a section per recorded loss (a
    pregnancy that ended without a birth); her records come in one query."""
    facts = person_facts(session, person=person)
    current = stages.derive(facts, today=today)
    births = {c.id: c.birth_date for c in facts.children}
    plan = None
    if any(s.stage == "marriage" for s in current):
        plan = _plan_date(session, person)
    # Losses in id order: sections are sorted by their start below, ties keep this order.
    ended = {
        p.id: p.ended_on
        for p in sorted(facts.pregnancies, key=lambda p: p.id)
        if p.status == PregnancyStatus.ENDED and p.ended_on is not None and p.ended_on <= today
    }
    found: list[Position] = []
    for s in current:
        if s.stage == "birth" and s.subject.kind == "pregnancy" and s.subject.id in ended:
            continue  # after a stillbirth: the loss section, never the baby-care lessons
        clocks: dict[str, int] = {}
        if s.stage == "pregnancy" and s.since is not None:
            clocks["pregnancy_week"] = (today - s.since).days // dating.WEEK
        elif s.stage == "birth" and s.since is not None:
            clocks["postpartum_day"] = (today - s.since).days
        elif s.stage == "rearing" and s.subject.id in births:
            clocks["child_age_month"] = age_in_months(births[s.subject.id], today)
        elif s.stage == "education" and s.subject.id in births:
            clocks["child_age_year"] = dating.age_in_years(births[s.subject.id], today)
        elif s.stage in ("care", "enjoyment"):
            clocks.update(_woman_clocks(person, today))
        elif s.stage == "marriage":
            clocks.update(_woman_clocks(person, today))
            if plan is not None:
                clocks["plan_months_before"] = months_before(today, plan)
        found.append(Position(s.stage, s.colour, s.subject, clocks, s.since))
    loss_stage = lesson_content.LOSS_STAGE
    for pregnancy_id, ended_on in ended.items():
        found.append(
            Position(
                loss_stage,
                colour(loss_stage),
                stages.Subject("pregnancy", pregnancy_id),
                {lesson_content.LOSS_CLOCK: (today - ended_on).days},
                ended_on,
                after_loss=True,
            )
        )
    order = {name: i for i, name in enumerate(stages.STAGE_NAMES)}
    found.sort(key=lambda p: (order[p.stage], p.after_loss, p.since or dt.date.min))
    return found


# --- the feed -----------------------------------------------------------------------------------


@dataclass
class Candidate:
    """A published lesson version the feed may show, with its title in her language."""

    lesson_id: uuid.UUID
    version_id: uuid.UUID
    slug: str
    stage: str
    number: int
    clock: str
    window_from: int
    window_to: int
    topics: list[str]
    audience: list[str]
    reading_minutes: int
    title: str = ""
    summary: str = ""
    locale: str = lesson_content.DEFAULT_LOCALE
    has_quiz: bool = False
    read_at: dt.datetime | None = None
    completed_at: dt.datetime | None = None

    @property
    def loss(self) -> bool:
        """A lesson about pregnancy loss."""
        return lesson_content.is_loss(self.topics, self.clock)

    def view(self) -> dict[str, Any]:
        """The feed item."""
        return {
            "id": self.lesson_id,
            "slug": self.slug,
            "stage": self.stage,
            "version": self.number,
            "title": self.title,
            "summary": self.summary,
            "locale": self.locale,
            "reading_minutes": self.reading_minutes,
            "topics": self.topics,
            "audience": self.audience,
            "window": {"clock": self.clock, "from": self.window_from, "to": self.window_to},
            "has_quiz": self.has_quiz,
            "read_at": self.read_at,
            "completed_at": self.completed_at,
        }


def _pick(variants: Mapping[str, Any], locale: str) -> tuple[str, Any] | None:
    """Her locale's variant, else zh_CN's."""
    for wanted in (locale, lesson_content.DEFAULT_LOCALE):
        if wanted in variants:
            return wanted, variants[wanted]
    return None


@functools.cache
def _candidates_statement() -> Any:
    """Built once (bound: locale, user_id, stages): building it aliased the variants' columns
    anew on every feed, more work than the query itself."""
    mine, default = aliased(LessonVariant), aliased(LessonVariant)
    return (
        select(
            LessonVersion.lesson_id,
            LessonVersion.id,
            Lesson.slug,
            Lesson.stage,
            LessonVersion.number,
            LessonVersion.clock,
            LessonVersion.window_from,
            LessonVersion.window_to,
            LessonVersion.topics,
            LessonVersion.audience,
            LessonVersion.reading_minutes,
            mine.version_id,
            mine.title,
            mine.summary,
            mine.quiz,
            default.version_id,
            default.title,
            default.summary,
            default.quiz,
            LessonRead.read_at,
            LessonRead.completed_at,
        )
        .join(Lesson, Lesson.id == LessonVersion.lesson_id)
        .outerjoin(
            mine, and_(mine.version_id == LessonVersion.id, mine.locale == bindparam("locale"))
        )
        .outerjoin(
            default,
            and_(
                default.version_id == LessonVersion.id,
                default.locale == lesson_content.DEFAULT_LOCALE,
            ),
        )
        .outerjoin(
            LessonRead,
            and_(
                LessonRead.lesson_id == LessonVersion.lesson_id,
                LessonRead.user_id == bindparam("user_id"),
            ),
        )
        .where(
            LessonVersion.status == VS.PUBLISHED,
            Lesson.stage.in_(bindparam("stages", expanding=True)),
        )
    )


def candidates(
    session: Session, *, stage_names: Iterable[str], user_id: uuid.UUID, locale: str
) -> list[Candidate]:
    """Every published lesson of these stages, titled in her locale (else zh_CN's), with her
    reads: one query (the variants of both locales and her reads outer-joined)."""
    names = sorted(set(stage_names))
    if not names:
        return []
    # Plain columns: on the session's connection (Core), without the ORM's per-call set-up.
    rows = (
        session.connection()
        .execute(_candidates_statement(), {"locale": locale, "user_id": user_id, "stages": names})
        .all()
    )
    found: list[Candidate] = []
    for row in rows:
        values: tuple[Any, ...] = tuple(row)
        item = Candidate(*values[:11])
        item.read_at, item.completed_at = values[19], values[20]
        # Her locale's variant, else zh_CN's (as _pick), else none (untitled, zh_CN).
        for variant_of, title, summary, quiz, variant_locale in (
            (*values[11:15], locale),
            (*values[15:19], lesson_content.DEFAULT_LOCALE),
        ):
            if variant_of is not None:
                item.title, item.summary, item.has_quiz = title, summary, bool(quiz)
                item.locale = variant_locale
                break
        found.append(item)
    return sorted(found, key=lambda c: (c.stage, c.window_from, c.slug))


def section(position: Position, lessons: Sequence[Candidate], *, next_limit: int) -> dict[str, Any]:
    """One stage section: what matches now, what comes next, what she has read."""
    now: list[Candidate] = []
    upcoming: list[tuple[int, Candidate]] = []
    read: list[Candidate] = []
    for lesson in lessons:
        if lesson.stage != position.stage or lesson.loss != position.after_loss:
            continue
        if lesson.read_at is not None:
            read.append(lesson)
        value = position.clocks.get(lesson.clock)
        if value is None:
            continue
        where = placement(lesson.clock, lesson.window_from, lesson.window_to, value)
        if where == "now":
            now.append(lesson)
        elif where == "next":
            start, _ = _start_end(lesson.clock, lesson.window_from, lesson.window_to)
            upcoming.append((start - _axis(lesson.clock, value), lesson))
    now.sort(key=lambda c: (c.completed_at is not None, c.read_at is not None, c.window_from))
    upcoming.sort(key=lambda pair: (pair[0], pair[1].slug))
    read.sort(key=lambda c: c.read_at or dt.datetime.min.replace(tzinfo=dt.UTC), reverse=True)
    return {
        "stage": position.stage,
        "colour": position.colour,
        "subject": {"kind": position.subject.kind, "id": position.subject.id},
        "clocks": dict(position.clocks),
        "after_loss": position.after_loss,
        "now": [c.view() for c in now],
        "next": [c.view() for _, c in upcoming[:next_limit]],
        "read": [c.view() for c in read],
    }


def feed(
    session: Session,
    *,
    person: User,
    today: dt.date,
    locale: str,
    page: int,
    page_size: int,
    next_limit: int = DEFAULT_NEXT,
) -> tuple[list[dict[str, Any]], int]:
    """A page of her stage sections (and her children's), and the number of sections.

    A bounded number of queries whatever the number of children and lessons: her records
    (pregnancies and children), her plan date, the lessons with their titles and her reads.
    """
    where = positions(session, person=person, today=today)
    lessons = candidates(
        session, stage_names={p.stage for p in where}, user_id=person.id, locale=locale
    )
    sections = [section(p, lessons, next_limit=next_limit) for p in where]
    # A loss section stays while a loss lesson is open or ahead (about three months).
    sections = [s for s in sections if not s["after_loss"] or s["now"] or s["next"]]
    start = (page - 1) * page_size
    return sections[start : start + page_size], len(sections)


# --- reading one lesson -------------------------------------------------------------------------


def has_loss(session: Session, *, person: User) -> bool:
    """True when she recorded a pregnancy that ended without a birth."""
    return bool(
        session.scalar(
            select(
                exists().where(
                    Pregnancy.woman_id == person.id, Pregnancy.status == PregnancyStatus.ENDED
                )
            )
        )
    )


def readable(session: Session, *, lesson_id: uuid.UUID, person: User) -> LessonVersion:
    """The published version of a lesson she may read; 404 for drafts and retired lessons,
    and for loss lessons unless she recorded a loss."""
    version = published_version(session, lesson_id=lesson_id)
    if version is None:
        raise NotFound(_l("No such lesson."))
    if lesson_content.is_loss(version.topics, version.clock) and not has_loss(
        session, person=person
    ):
        raise NotFound(_l("No such lesson."))
    return version


def my_read(session: Session, *, person: User, lesson_id: uuid.UUID) -> LessonRead | None:
    """Her reading record of a lesson, if any."""
    return session.scalars(
        select(LessonRead).where(LessonRead.user_id == person.id, LessonRead.lesson_id == lesson_id)
    ).first()


def lesson_view(
    session: Session, *, version: LessonVersion, person: User, locale: str
) -> dict[str, Any]:
    """A published lesson in her locale (zh_CN when missing), without the quiz answers."""
    lesson = session.get(Lesson, version.lesson_id)
    assert lesson is not None
    variants = {v.locale: v for v in version.variants}
    picked = _pick(variants, locale)
    assert picked is not None  # zh_CN is required
    used, variant = picked
    read = my_read(session, person=person, lesson_id=lesson.id)
    return {
        "id": lesson.id,
        "slug": lesson.slug,
        "stage": lesson.stage,
        "colour": colour(lesson.stage),
        "version": version.number,
        "locale": used,
        "title": variant.title,
        "summary": variant.summary,
        "body_html": variant.body_html,
        "reading_minutes": version.reading_minutes,
        "topics": version.topics,
        "audience": version.audience,
        "window": {"clock": version.clock, "from": version.window_from, "to": version.window_to},
        "sources": version.sources,
        "quiz": [{"question": q["question"], "options": q["options"]} for q in variant.quiz],
        "published_at": version.published_at,
        "read": read,
    }


def record_read(
    session: Session,
    *,
    person: User,
    version: LessonVersion,
    completed: bool = False,
    quiz_answers: Sequence[int] | None = None,
) -> LessonRead:
    """Mark a lesson read; completed when she reached the end or passed its quiz.

    One record per reader and lesson: reading again keeps the first read_at, never undoes a
    completion, and keeps her best quiz result.
    """
    score = total = None
    passed = False
    if quiz_answers is not None:
        reference = version.variant(lesson_content.DEFAULT_LOCALE)
        quiz = reference.quiz if reference else []
        if not quiz:
            raise invalid("quiz_answers", _l("This lesson has no quiz."))
        if len(quiz_answers) != len(quiz):
            raise invalid(
                "quiz_answers",
                _l("Answer every question: %(count)s answers.", count=len(quiz)),
            )
        total = len(quiz)
        score = sum(1 for q, a in zip(quiz, quiz_answers, strict=True) if q["answer"] == a)
        passed = score == total
    now = clock.now()
    row = my_read(session, person=person, lesson_id=version.lesson_id)
    if row is None:
        row = LessonRead(user_id=person.id, lesson_id=version.lesson_id, version_id=version.id)
        row.read_at = now
        try:
            with session.begin_nested():
                session.add(row)
        except IntegrityError:  # a concurrent twin recorded it first
            row = my_read(session, person=person, lesson_id=version.lesson_id)
            assert row is not None
    row.version_id = version.id
    if score is not None and (row.quiz_score is None or score >= row.quiz_score):
        row.quiz_score, row.quiz_total = score, total
    if quiz_answers is not None:
        row.quiz_passed = bool(row.quiz_passed) or passed
    if (completed or passed) and row.completed_at is None:
        row.completed_at = now
    session.flush()
    return row
