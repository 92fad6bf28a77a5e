"""Lessons and their editorial life: drafts, review, publishing, retiring, versions, import.

draft → in_review → published (→ superseded by a later version) → retired. A version in
review is returned with comments or approved by someone other than its author. Published
content never changes: editing a published (or returned, or retired) lesson makes a new draft
version; readers see the latest published version. Functions take the session explicitly,
flush and never commit, and raise backend.errors domain errors.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, exists, inspect, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from backend import clock, paging
from backend.auth.models import User
from backend.education import lesson_content, lesson_files, signals
from backend.education.models import (
    Lesson,
    LessonStatus,
    LessonVariant,
    LessonVersion,
    VersionStatus,
)
from backend.education.rendering import render_markdown
from backend.errors import Conflict, Forbidden, InvalidInput, PreconditionFailed
from backend.handbook import stages
from backend.i18n import _l

SHARED_FIELDS = ("window", "topics", "audience", "reading_minutes", "sources")


def colour(stage: str) -> str:
    """The display colour of a life stage (content/life_stages.yaml)."""
    return str(stages.rules()[stage]["colour"])


def _flush(session: Session) -> None:
    """Flush; a concurrent change of the same lesson (optimistic lock) answers 412."""
    try:
        session.flush()
    except StaleDataError as exc:
        raise PreconditionFailed(
            _l("The record was changed meanwhile; reload it and try again.")
        ) from exc


def _touch(lesson: Lesson) -> None:
    """Mark the lesson changed: a new updated_at, and a new row version (its ETag)."""
    lesson.updated_at = clock.now()
    if inspect(lesson).persistent:
        lesson.version += 1


def _check(stage: str, data: Mapping[str, Any], *, slug: Any = None, new: bool = False) -> None:
    found = lesson_content.slug_problems(slug, stage) if new else []
    found += lesson_content.problems(stage, data)
    if found:
        raise InvalidInput(
            _l("Some fields are invalid."), errors=lesson_content.nested_errors(found)
        )


# --- reading lessons and versions ---------------------------------------------------------------


def get_lesson(session: Session, *, lesson_id: uuid.UUID) -> Lesson | None:
    """One lesson, or None."""
    return session.get(Lesson, lesson_id)


def get_version(session: Session, *, lesson: Lesson, number: int) -> LessonVersion:
    """One version of a lesson by its number, with its variants."""
    return session.scalars(
        select(LessonVersion).where(
            LessonVersion.lesson_id == lesson.id, LessonVersion.number == number
        )
    ).one()


def current_version(session: Session, *, lesson: Lesson) -> LessonVersion:
    """The latest version: the one editors work on."""
    return get_version(session, lesson=lesson, number=lesson.current_number)


def published_version(session: Session, *, lesson_id: uuid.UUID) -> LessonVersion | None:
    """The version readers see, or None when the lesson is not published."""
    return session.scalars(
        select(LessonVersion).where(
            LessonVersion.lesson_id == lesson_id,
            LessonVersion.status == VersionStatus.PUBLISHED,
        )
    ).first()


def version_content(version: LessonVersion) -> dict[str, Any]:
    """A version's content as the mapping the checks and the hash read."""
    return {
        "window": {"clock": version.clock, "from": version.window_from, "to": version.window_to},
        "topics": list(version.topics),
        "audience": list(version.audience),
        "reading_minutes": version.reading_minutes,
        "sources": [dict(s) for s in version.sources],
        "variants": {
            v.locale: {
                "title": v.title,
                "summary": v.summary,
                "body": v.body_md,
                "quiz": [dict(q) for q in v.quiz or []],
            }
            for v in version.variants
        },
    }


def list_lessons(
    session: Session,
    *,
    page: int,
    page_size: int,
    stage: str | None = None,
    status: str | None = None,
    version_status: str | None = None,
    q: str | None = None,
) -> tuple[list[dict[str, Any]], int]:
    """A page of lessons (newest change first) with their current version, and the total."""
    current = and_(
        LessonVersion.lesson_id == Lesson.id, LessonVersion.number == Lesson.current_number
    )
    conditions: list[Any] = []
    if stage:
        conditions.append(Lesson.stage == stage)
    if status:
        conditions.append(Lesson.status == status)
    if version_status:
        conditions.append(LessonVersion.status == version_status)
    if q:
        pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        titled = (
            select(LessonVariant.version_id)
            .join(LessonVersion, LessonVersion.id == LessonVariant.version_id)
            .where(
                LessonVersion.lesson_id == Lesson.id,
                LessonVariant.title.ilike(pattern, escape="\\"),
            )
        )
        conditions.append(Lesson.slug.ilike(pattern, escape="\\") | exists(titled))
    base = select(Lesson.id).join(LessonVersion, current).where(*conditions)
    total = paging.count(session, base)
    stmt = (
        select(
            Lesson,
            LessonVersion.number,
            LessonVersion.status,
            LessonVersion.author_id,
            LessonVersion.updated_at,
            LessonVariant.title,
            LessonVariant.summary,
        )
        .join(LessonVersion, current)
        .outerjoin(
            LessonVariant,
            and_(
                LessonVariant.version_id == LessonVersion.id,
                LessonVariant.locale == lesson_content.DEFAULT_LOCALE,
            ),
        )
        .where(*conditions)
        .order_by(Lesson.updated_at.desc(), Lesson.id)
    )
    rows = session.execute(paging.window(stmt, page=page, page_size=page_size)).all()
    items = [
        {
            "id": lesson.id,
            "slug": lesson.slug,
            "stage": lesson.stage,
            "colour": colour(lesson.stage),
            "status": lesson.status,
            "title": title,
            "summary": summary,
            "current_version": {
                "number": number,
                "status": v_status,
                "author_id": author_id,
                "updated_at": updated_at,
            },
            "created_at": lesson.created_at,
            "updated_at": lesson.updated_at,
        }
        for lesson, number, v_status, author_id, updated_at, title, summary in rows
    ]
    return items, total


def list_versions(
    session: Session, *, lesson: Lesson, page: int, page_size: int
) -> tuple[list[LessonVersion], int]:
    """A page of a lesson's versions, the latest first, and their total."""
    where = LessonVersion.lesson_id == lesson.id
    stmt = select(LessonVersion).where(where).order_by(LessonVersion.number.desc())
    return paging.paginate(session, stmt, page=page, page_size=page_size)


# --- writing ------------------------------------------------------------------------------------


def _fill(version: LessonVersion, content: Mapping[str, Any]) -> None:
    """Write normalized content into a version and its variants (bodies rendered to HTML)."""
    window = content["window"]
    version.clock, version.window_from, version.window_to = (
        window["clock"],
        window["from"],
        window["to"],
    )
    version.topics = list(content["topics"])
    version.audience = list(content["audience"])
    version.reading_minutes = content["reading_minutes"]
    version.sources = [dict(s) for s in content["sources"]]
    version.content_hash = lesson_content.content_hash(content)
    existing = {v.locale: v for v in version.variants}
    for locale, given in content["variants"].items():
        row = existing.pop(locale, None)
        if row is None:
            row = LessonVariant(locale=locale)
            version.variants.append(row)
        row.title = given["title"]
        row.summary = given["summary"]
        row.body_md = given["body"]
        row.body_html = render_markdown(given["body"])
        row.quiz = [dict(q) for q in given["quiz"]]
    for row in existing.values():
        version.variants.remove(row)


def _new_version(
    lesson: Lesson, number: int, content: Mapping[str, Any], author_id: uuid.UUID | None
) -> LessonVersion:
    version = LessonVersion(
        lesson_id=lesson.id,
        number=number,
        status=VersionStatus.DRAFT,
        author_id=author_id,
        variants=[],
    )
    _fill(version, content)
    lesson.current_number = number
    _touch(lesson)
    return version


def _merge(content: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """The content with a PATCH applied: window and variants merge, lists are replaced."""
    merged = {**content, **{k: changes[k] for k in SHARED_FIELDS if k in changes}}
    if "window" in changes:
        merged["window"] = {**content["window"], **changes["window"]}
    if "variants" in changes:
        variants = {locale: dict(v) for locale, v in content["variants"].items()}
        for locale, given in changes["variants"].items():
            if given is None:
                variants.pop(locale, None)
            else:
                variants[locale] = {**variants.get(locale, {"quiz": []}), **given}
        merged["variants"] = variants
    return merged


def create_lesson(
    session: Session, *, actor: User | None, slug: str, stage: str, data: Mapping[str, Any]
) -> Lesson:
    """A new lesson with its first version, a draft by `actor`."""
    content = {k: data.get(k) for k in (*SHARED_FIELDS, "variants")}
    _check(stage, content, slug=slug, new=True)
    if session.scalar(select(exists().where(Lesson.slug == slug))):
        raise Conflict(_l("A lesson with this slug exists already."))
    author_id = actor.id if actor else None
    lesson = Lesson(
        id=uuid.uuid4(),
        slug=slug,
        stage=stage,
        status=LessonStatus.DRAFT,
        current_number=1,
        created_by=author_id,
    )
    session.add(lesson)
    session.add(_new_version(lesson, 1, lesson_content.normalized(content), author_id))
    _flush(session)
    return lesson


def _require_author(version: LessonVersion, actor: User, message: Any) -> None:
    if version.author_id is not None and version.author_id != actor.id:
        raise Forbidden(message)


def edit_lesson(
    session: Session, *, lesson: Lesson, actor: User, changes: Mapping[str, Any]
) -> LessonVersion:
    """Edit the current draft (its author only), or start a new draft version of the lesson."""
    current = current_version(session, lesson=lesson)
    if current.status == VersionStatus.IN_REVIEW:
        raise Conflict(_l("This version is in review: wait for the decision before editing."))
    merged = _merge(version_content(current), changes)
    _check(lesson.stage, merged)
    merged = lesson_content.normalized(merged)
    changed = lesson_content.content_hash(merged) != current.content_hash
    if current.status == VersionStatus.DRAFT:
        _require_author(current, actor, _l("Only the author of this draft can edit it."))
        if changed:
            current.author_id = actor.id
            _fill(current, merged)
            current.updated_at = clock.now()
            _touch(lesson)
            _flush(session)
        return current
    if not changed and current.status != VersionStatus.RETURNED:
        return current
    version = _new_version(lesson, current.number + 1, merged, actor.id)
    session.add(version)
    _flush(session)
    return version


def _submit(lesson: Lesson, version: LessonVersion) -> None:
    version.status = VersionStatus.IN_REVIEW
    version.submitted_at = version.updated_at = clock.now()
    if lesson.status == LessonStatus.DRAFT:
        lesson.status = LessonStatus.IN_REVIEW
    _touch(lesson)


def submit(session: Session, *, lesson: Lesson, actor: User) -> LessonVersion:
    """Send the current draft to review (its author only)."""
    current = current_version(session, lesson=lesson)
    if current.status == VersionStatus.IN_REVIEW:
        raise Conflict(_l("This version is already in review."))
    if current.status != VersionStatus.DRAFT:
        raise Conflict(_l("There is no draft to submit: edit the lesson to start one."))
    _require_author(current, actor, _l("Only the author of this draft can submit it."))
    if current.author_id is None:
        # An imported draft: who submits it answers for it, so someone else must review it.
        current.author_id = actor.id
    _submit(lesson, current)
    _flush(session)
    return current


def _in_review(session: Session, lesson: Lesson, reviewer: User) -> LessonVersion:
    current = current_version(session, lesson=lesson)
    if current.status != VersionStatus.IN_REVIEW:
        raise Conflict(_l("This lesson has no version waiting for review."))
    if current.author_id == reviewer.id:
        raise Forbidden(
            _l(
                "You cannot review your own draft: another educator or an administrator "
                "approves or returns it."
            )
        )
    return current


def _publish(session: Session, lesson: Lesson, version: LessonVersion, reviewer: User) -> None:
    now = clock.now()
    previous = published_version(session, lesson_id=lesson.id)
    if previous is not None:
        previous.status = VersionStatus.SUPERSEDED
        # One published version per lesson (a unique index): step the old one down first.
        _flush(session)
    version.status = VersionStatus.PUBLISHED
    version.reviewed_by = reviewer.id
    version.reviewed_at = version.published_at = version.updated_at = now
    lesson.status = LessonStatus.PUBLISHED
    _touch(lesson)
    _flush(session)
    signals.lesson_published.send(lesson, session=session, lesson=lesson, version=version)


def approve(session: Session, *, lesson: Lesson, actor: User) -> LessonVersion:
    """Approve the version in review (never one's own): it becomes the one readers see."""
    version = _in_review(session, lesson, actor)
    _publish(session, lesson, version, actor)
    return version


def return_for_changes(
    session: Session, *, lesson: Lesson, actor: User, comments: str
) -> LessonVersion:
    """Send the version in review back to its author with comments."""
    version = _in_review(session, lesson, actor)
    now = clock.now()
    version.status = VersionStatus.RETURNED
    version.review_comments = comments
    version.reviewed_by = actor.id
    version.reviewed_at = version.updated_at = now
    if lesson.status == LessonStatus.IN_REVIEW:
        lesson.status = LessonStatus.DRAFT
    _touch(lesson)
    _flush(session)
    return version


def retire(session: Session, *, lesson: Lesson, actor: User) -> Lesson:
    """Take a published lesson out of use; its versions and its readers' history are kept."""
    version = published_version(session, lesson_id=lesson.id)
    if version is None or lesson.status != LessonStatus.PUBLISHED:
        raise Conflict(_l("Only a published lesson can be retired."))
    version.status = VersionStatus.RETIRED
    version.retired_at = clock.now()
    lesson.status = LessonStatus.RETIRED
    _touch(lesson)
    _flush(session)
    return lesson


# --- import from content/lessons ----------------------------------------------------------------


@dataclass
class ImportReport:
    """What an import did, by slug."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    published: list[str] = field(default_factory=list)


class ImportConflict(Conflict):
    """Lessons in the files cannot be imported as they stand; each line names the file."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__("\n".join(lines))
        self.lines = list(lines)


def import_lessons(
    session: Session,
    *,
    lessons: Sequence[lesson_files.LessonFiles],
    author: User | None = None,
    approver: User | None = None,
) -> ImportReport:
    """Create or update lessons from checked files, all or nothing.

    A new slug makes a lesson with a draft version 1; changed content makes a new draft version
    (or rewrites the current draft); the same content is unchanged. With an `approver` (the
    demo's seeding only), every imported lesson whose current version holds the file's content
    and is a draft or in review is submitted and approved by the approver, who must not be the
    author.
    """
    if approver is not None and author is not None and approver.id == author.id:
        raise Forbidden(
            _l(
                "You cannot review your own draft: another educator or an administrator "
                "approves or returns it."
            )
        )
    slugs = [item.slug for item in lessons]
    found = {
        lesson.slug: (lesson, version)
        for lesson, version in session.execute(
            select(Lesson, LessonVersion)
            .join(
                LessonVersion,
                and_(
                    LessonVersion.lesson_id == Lesson.id,
                    LessonVersion.number == Lesson.current_number,
                ),
            )
            .where(Lesson.slug.in_(slugs))
        ).all()
    }
    problems: list[str] = []
    for item in lessons:
        where = item.files[lesson_content.DEFAULT_LOCALE]
        if item.slug not in found:
            continue
        lesson, current = found[item.slug]
        if lesson.stage != item.stage:
            problems.append(
                f"{where}: field stage: the lesson {item.slug!r} is in the stage {lesson.stage!r}"
            )
        elif (
            current.status == VersionStatus.IN_REVIEW
            and current.content_hash != lesson_content.content_hash(item.content)
        ):
            problems.append(
                f"{where}: the lesson {item.slug!r} has a version in review: approve or return "
                "it before importing a change"
            )
    if problems:
        raise ImportConflict(problems)
    report = ImportReport()
    author_id = author.id if author else None
    for item in lessons:
        digest = lesson_content.content_hash(item.content)
        if item.slug not in found:
            lesson = Lesson(
                id=uuid.uuid4(),
                slug=item.slug,
                stage=item.stage,
                status=LessonStatus.DRAFT,
                current_number=1,
                created_by=author_id,
            )
            session.add(lesson)
            version = _new_version(lesson, 1, item.content, author_id)
            session.add(version)
            found[item.slug] = (lesson, version)
            report.created.append(item.slug)
        else:
            lesson, current = found[item.slug]
            if current.content_hash == digest:
                report.unchanged.append(item.slug)
            elif current.status == VersionStatus.DRAFT:
                current.author_id = author_id
                _fill(current, item.content)
                current.updated_at = clock.now()
                _touch(lesson)
                report.updated.append(item.slug)
            else:
                version = _new_version(lesson, current.number + 1, item.content, author_id)
                session.add(version)
                found[item.slug] = (lesson, version)
                report.updated.append(item.slug)
    _flush(session)
    if approver is not None:
        for item in lessons:
            lesson, version = found[item.slug]
            if version.status not in (VersionStatus.DRAFT, VersionStatus.IN_REVIEW):
                continue
            if version.author_id == approver.id:
                continue  # never self-approval, also not through the importer
            if version.status == VersionStatus.DRAFT:
                _submit(lesson, version)
                _flush(session)
            _publish(session, lesson, version, approver)
            report.published.append(item.slug)
    return report
