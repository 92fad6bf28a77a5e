"""Lessons, their versions and locale variants, and who read them.

A published version's content is immutable: `LessonVersion` and `LessonVariant` refuse any
change to a content column once the version was published (a `before_update` guard below), so
editing a published lesson always makes a new version. Only the lifecycle columns of a
published version (status, retired_at) may still move: published → superseded | retired.
"""

from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Connection,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    event,
    inspect,
    select,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backend.db import Base, created_at, instant_now, str16, str32, str64, uuid_pk


class LessonStatus(StrEnum):
    """The lesson as a whole: readers see it only while published."""

    DRAFT = "draft"  # never published, being written (or returned)
    IN_REVIEW = "in_review"  # never published, waiting for a reviewer
    PUBLISHED = "published"  # readers see its published version (a new draft may be pending)
    RETIRED = "retired"  # taken out of use; its versions are kept


class VersionStatus(StrEnum):
    DRAFT = "draft"
    IN_REVIEW = "in_review"
    RETURNED = "returned"  # sent back with comments; a new version takes the revision
    PUBLISHED = "published"
    SUPERSEDED = "superseded"  # a later version was published
    RETIRED = "retired"  # it was the published version when the lesson was retired


# Versions whose content may still change (one at most per lesson).
OPEN_STATUSES = (VersionStatus.DRAFT, VersionStatus.IN_REVIEW)


class Lesson(Base):
    """A piece of education content for one life stage, known by its slug."""

    __tablename__ = "lessons"

    id: Mapped[uuid_pk]
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    stage: Mapped[str16] = mapped_column(index=True)
    status: Mapped[str16] = mapped_column(default=LessonStatus.DRAFT)
    # The number of the latest version (any status): the one editors work on.
    current_number: Mapped[int] = mapped_column(default=1)
    created_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[created_at]
    updated_at: Mapped[instant_now]
    # Row version: the ETag of the lesson; bumped on every change of the lesson or its versions.
    version: Mapped[int] = mapped_column(default=1)

    versions: Mapped[list[LessonVersion]] = relationship(
        back_populates="lesson", lazy="raise", order_by="LessonVersion.number"
    )

    __mapper_args__ = {"version_id_col": version, "version_id_generator": False}


class LessonVersion(Base):
    """One version of a lesson: its window, metadata and editorial history."""

    __tablename__ = "lesson_versions"

    id: Mapped[uuid_pk]
    lesson_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("lessons.id", ondelete="CASCADE"))
    number: Mapped[int]
    status: Mapped[str16] = mapped_column(default=VersionStatus.DRAFT)
    # The target window in the stage's own clock, half-open [window_from, window_to); for
    # plan_months_before the clock counts down, so window_from > window_to.
    clock: Mapped[str32]
    window_from: Mapped[int]
    window_to: Mapped[int]
    topics: Mapped[list[str]]
    audience: Mapped[list[str]]
    reading_minutes: Mapped[int]
    sources: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    # sha256 of the canonical content (import idempotency: same file → unchanged).
    content_hash: Mapped[str64]
    author_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[created_at]
    updated_at: Mapped[instant_now]
    submitted_at: Mapped[dt.datetime | None]
    reviewed_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    reviewed_at: Mapped[dt.datetime | None]
    review_comments: Mapped[str | None] = mapped_column(String(2000))
    published_at: Mapped[dt.datetime | None]
    retired_at: Mapped[dt.datetime | None]

    lesson: Mapped[Lesson] = relationship(back_populates="versions", lazy="raise")
    variants: Mapped[list[LessonVariant]] = relationship(
        back_populates="version",
        lazy="selectin",
        cascade="all, delete-orphan",
        order_by="LessonVariant.locale.desc()",  # zh_CN first
    )

    __table_args__ = (
        UniqueConstraint("lesson_id", "number", name="uq_lesson_versions_lesson_id_number"),
        # Readers see exactly one version of a lesson, also under concurrent approvals.
        Index(
            "uq_lesson_versions_lesson_id_published",
            "lesson_id",
            unique=True,
            sqlite_where=text("status = 'published'"),
            postgresql_where=text("status = 'published'"),
        ),
        # The feed: the published versions of a clock, by window start.
        Index("ix_lesson_versions_status_clock_window_from", "status", "clock", "window_from"),
    )

    @property
    def window(self) -> dict[str, Any]:
        """The window as written in a lesson file: {clock, from, to}."""
        return {"clock": self.clock, "from": self.window_from, "to": self.window_to}

    def variant(self, locale: str) -> LessonVariant | None:
        """The variant in `locale`, if any."""
        return next((v for v in self.variants if v.locale == locale), None)


class LessonVariant(Base):
    """A version of a lesson in one locale: title, summary, Markdown body and its safe HTML."""

    __tablename__ = "lesson_variants"

    version_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("lesson_versions.id", ondelete="CASCADE"), primary_key=True
    )
    locale: Mapped[str] = mapped_column(String(8), primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(String(500))
    body_md: Mapped[str] = mapped_column(Text)
    # Rendered and sanitized when saved (backend.education.rendering), never from raw HTML.
    body_html: Mapped[str] = mapped_column(Text)
    # [{question, options, answer}]; the answers are the same in every locale of a version.
    quiz: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)

    version: Mapped[LessonVersion] = relationship(back_populates="variants", lazy="raise")


class LessonRead(Base):
    """One reader of one lesson: when she opened it, finished it, and her quiz result."""

    __tablename__ = "lesson_reads"

    id: Mapped[uuid_pk]
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    lesson_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("lessons.id", ondelete="CASCADE"))
    # The published version she last read.
    version_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("lesson_versions.id", ondelete="CASCADE")
    )
    read_at: Mapped[created_at]
    completed_at: Mapped[dt.datetime | None]
    # Her best quiz result: right answers out of the questions, and whether she passed.
    quiz_score: Mapped[int | None]
    quiz_total: Mapped[int | None]
    quiz_passed: Mapped[bool | None]

    __table_args__ = (
        UniqueConstraint("user_id", "lesson_id", name="uq_lesson_reads_user_id_lesson_id"),
        # Reach per lesson, and the education service rate (completions in a period).
        Index("ix_lesson_reads_lesson_id_completed_at", "lesson_id", "completed_at"),
        Index("ix_lesson_reads_completed_at", "completed_at"),
    )


# --- immutability of published content ------------------------------------------------------

VERSION_CONTENT = (
    "lesson_id",
    "number",
    "clock",
    "window_from",
    "window_to",
    "topics",
    "audience",
    "reading_minutes",
    "sources",
    "content_hash",
    "author_id",
    "submitted_at",
    "reviewed_by",
    "reviewed_at",
    "review_comments",
    "published_at",
)
VARIANT_CONTENT = ("version_id", "locale", "title", "summary", "body_md", "body_html", "quiz")


class PublishedVersionImmutable(RuntimeError):
    """Code tried to change the content of a published version: make a new version instead."""


def _changed(target: Any, columns: tuple[str, ...]) -> list[str]:
    state = inspect(target)
    return [c for c in columns if state.attrs[c].history.has_changes()]


def _published_in_database(conn: Connection, version_id: uuid.UUID) -> bool:
    """Published before this flush: the stored published_at, not one being set now."""
    published_at = conn.execute(
        select(LessonVersion.published_at).where(LessonVersion.id == version_id)
    ).scalar()
    return published_at is not None


@event.listens_for(LessonVersion, "before_update")
def _version_immutable(_mapper: Any, conn: Connection, target: LessonVersion) -> None:
    changed = _changed(target, VERSION_CONTENT)
    if changed and _published_in_database(conn, target.id):
        raise PublishedVersionImmutable(f"published version {target.id}: {changed}")


@event.listens_for(LessonVariant, "before_update")
def _variant_immutable(_mapper: Any, conn: Connection, target: LessonVariant) -> None:
    changed = _changed(target, VARIANT_CONTENT)
    if changed and _published_in_database(conn, target.version_id):
        raise PublishedVersionImmutable(f"published version {target.version_id}: {changed}")


@event.listens_for(LessonVariant, "before_delete")
def _variant_kept(_mapper: Any, conn: Connection, target: LessonVariant) -> None:
    if _published_in_database(conn, target.version_id):
        raise PublishedVersionImmutable(f"published version {target.version_id}: variant deleted")
