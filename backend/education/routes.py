"""Lessons over HTTP: the editorial workflow for educators, the feed and reading for citizens,
reach for educators and the education service rate for administrators."""

from __future__ import annotations

import uuid
from typing import Any

from flask.views import MethodView

from backend.api import Blueprint, PageArgsSchema, page
from backend.auth.models import Role
from backend.auth.policy import login_required, signed_in_user
from backend.db import Session
from backend.education import feed, indicators, service
from backend.education.models import Lesson
from backend.education.schemas import (
    EducationPeriodArgsSchema,
    EducationRateSchema,
    FeedPageSchema,
    FeedQueryArgsSchema,
    LessonContentSchema,
    LessonCreateSchema,
    LessonPageSchema,
    LessonPatchSchema,
    LessonQueryArgsSchema,
    LessonReachSchema,
    LessonReadCreateSchema,
    LessonReadSchema,
    LessonReturnSchema,
    LessonSchema,
    LessonVersionPageSchema,
    ReachQueryArgsSchema,
    StageReachSchema,
)
from backend.errors import NotFound
from backend.i18n import _l
from backend.preamble import default_tz, request_locale, today_of
from backend.responses import conditional, json_response

blp = Blueprint(
    "education",
    __name__,
    url_prefix="/api/v1",
    description="Life-stage lessons: editorial workflow, the reader's feed, reach",
)

EDITORS = (Role.EDUCATOR, Role.ADMIN)
CITIZEN = Role.CITIZEN


_me = signed_in_user  # the route's login_required mark guarantees one


def _lesson(lesson_id: uuid.UUID) -> Lesson:
    lesson = service.get_lesson(Session(), lesson_id=lesson_id)
    if lesson is None:
        raise NotFound(_l("No such lesson."))
    return lesson


def _detail(lesson: Lesson) -> tuple[dict[str, Any], int, dict[str, str]]:
    session = Session()
    published = service.published_version(session, lesson_id=lesson.id)
    body = {
        "id": lesson.id,
        "slug": lesson.slug,
        "stage": lesson.stage,
        "colour": service.colour(lesson.stage),
        "status": lesson.status,
        "created_by": lesson.created_by,
        "created_at": lesson.created_at,
        "updated_at": lesson.updated_at,
        "etag": lesson.version,
        "published_version": published.number if published else None,
        "current_version": service.current_version(session, lesson=lesson),
    }
    return body, 200, blp.etag(lesson.version)


# --- educators ---------------------------------------------------------------------------------


@blp.route("/lessons")
class Lessons(MethodView):
    @blp.arguments(LessonQueryArgsSchema, location="query")
    @blp.response(200, LessonPageSchema)
    @login_required(*EDITORS)
    def get(self, args: dict[str, Any]) -> Any:
        """Lessons with their current version, latest change first (filters: stage, status, q)."""
        items, total = service.list_lessons(Session(), **args)
        return page(items, total=total, page=args["page"], page_size=args["page_size"])

    @blp.arguments(LessonCreateSchema)
    @blp.response(201, LessonSchema)
    @blp.alt_response(409, description="The slug is taken")
    @login_required(*EDITORS)
    def post(self, data: dict[str, Any]) -> Any:
        """Write a new lesson: version 1, a draft of yours."""
        lesson = service.create_lesson(
            Session(), actor=_me(), slug=data.pop("slug"), stage=data.pop("stage"), data=data
        )
        body, _, headers = _detail(lesson)
        return body, 201, headers


@blp.route("/lessons/<uuid:lesson_id>")
class LessonById(MethodView):
    @blp.response(200, LessonSchema)
    @blp.alt_response(404, description="No such lesson")
    @login_required(*EDITORS)
    def get(self, lesson_id: uuid.UUID) -> Any:
        """A lesson with its current version in every locale (Markdown and rendered HTML)."""
        return _detail(_lesson(lesson_id))

    @blp.arguments(LessonPatchSchema)
    @blp.response(200, LessonSchema)
    @blp.alt_response(403, description="The draft is someone else's")
    @blp.alt_response(409, description="The current version is in review")
    @blp.checks_version
    @login_required(*EDITORS)
    def patch(self, data: dict[str, Any], lesson_id: uuid.UUID) -> Any:
        """Edit your draft; on a published, returned or retired lesson, start a new version."""
        lesson = _lesson(lesson_id)
        blp.check_if_match(lesson.version)
        service.edit_lesson(Session(), lesson=lesson, actor=_me(), changes=data)
        return _detail(lesson)


@blp.route("/lessons/<uuid:lesson_id>/submit")
class LessonSubmit(MethodView):
    @blp.response(200, LessonSchema)
    @blp.alt_response(403, description="The draft is someone else's")
    @blp.alt_response(409, description="No draft to submit")
    @login_required(*EDITORS)
    def post(self, lesson_id: uuid.UUID) -> Any:
        """Send your draft to review."""
        lesson = _lesson(lesson_id)
        service.submit(Session(), lesson=lesson, actor=_me())
        return _detail(lesson)


@blp.route("/lessons/<uuid:lesson_id>/approve")
class LessonApprove(MethodView):
    @blp.response(200, LessonSchema)
    @blp.alt_response(403, description="Your own draft: another educator or an admin approves it")
    @blp.alt_response(409, description="No version in review")
    @login_required(*EDITORS)
    def post(self, lesson_id: uuid.UUID) -> Any:
        """Approve the version in review: it is published and readers see it."""
        lesson = _lesson(lesson_id)
        service.approve(Session(), lesson=lesson, actor=_me())
        return _detail(lesson)


@blp.route("/lessons/<uuid:lesson_id>/return")
class LessonReturn(MethodView):
    @blp.arguments(LessonReturnSchema)
    @blp.response(200, LessonSchema)
    @blp.alt_response(403, description="Your own draft: another educator or an admin reviews it")
    @blp.alt_response(409, description="No version in review")
    @login_required(*EDITORS)
    def post(self, data: dict[str, Any], lesson_id: uuid.UUID) -> Any:
        """Return the version in review to its author with comments."""
        lesson = _lesson(lesson_id)
        service.return_for_changes(Session(), lesson=lesson, actor=_me(), comments=data["comments"])
        return _detail(lesson)


@blp.route("/lessons/<uuid:lesson_id>/retire")
class LessonRetire(MethodView):
    @blp.response(200, LessonSchema)
    @blp.alt_response(409, description="Not published")
    @login_required(*EDITORS)
    def post(self, lesson_id: uuid.UUID) -> Any:
        """Take a published lesson out of use (its versions and reading history are kept)."""
        lesson = _lesson(lesson_id)
        service.retire(Session(), lesson=lesson, actor=_me())
        return _detail(lesson)


@blp.route("/lessons/<uuid:lesson_id>/versions")
class LessonVersions(MethodView):
    @blp.arguments(PageArgsSchema, location="query")
    @blp.response(200, LessonVersionPageSchema)
    @blp.alt_response(404, description="No such lesson")
    @login_required(*EDITORS)
    def get(self, args: dict[str, Any], lesson_id: uuid.UUID) -> Any:
        """The lesson's history: every version with its review, the latest first."""
        items, total = service.list_versions(Session(), lesson=_lesson(lesson_id), **args)
        return page(items, total=total, page=args["page"], page_size=args["page_size"])


@blp.route("/lessons/<uuid:lesson_id>/reach")
class LessonReach(MethodView):
    @blp.arguments(ReachQueryArgsSchema, location="query")
    @blp.response(200, LessonReachSchema)
    @blp.alt_response(404, description="No such lesson")
    @login_required(*EDITORS)
    def get(self, args: dict[str, Any], lesson_id: uuid.UUID) -> Any:
        """Readers, completions and quiz passes of a lesson (optionally in a period)."""
        return indicators.lesson_reach(
            Session(),
            lesson=_lesson(lesson_id),
            since=args.get("from_"),
            until=args.get("to"),
            tz=default_tz(),
        )


@blp.route("/education/reach")
class StageReach(MethodView):
    @blp.arguments(ReachQueryArgsSchema, location="query")
    @blp.response(200, StageReachSchema(many=True))
    @login_required(*EDITORS)
    def get(self, args: dict[str, Any]) -> Any:
        """Per life stage: published lessons, readers and completions (optionally in a period)."""
        return indicators.stage_reach(
            Session(), since=args.get("from_"), until=args.get("to"), tz=default_tz()
        )


# --- administrators -----------------------------------------------------------------------------


@blp.route("/indicators/education")
class EducationRate(MethodView):
    @blp.arguments(EducationPeriodArgsSchema, location="query")
    @blp.response(200, EducationRateSchema)
    @login_required(Role.ADMIN)
    def get(self, args: dict[str, Any]) -> Any:
        """The education service rate per institution and district, against the 95% target."""
        return indicators.education_rate(
            Session(), since=args["from_"], until=args["to"], tz=default_tz()
        )


# --- readers ------------------------------------------------------------------------------------


@blp.route("/me/feed")
class MyFeed(MethodView):
    @conditional
    @blp.arguments(FeedQueryArgsSchema, location="query")
    @blp.response(200, FeedPageSchema)
    @login_required(CITIZEN)
    def get(self, args: dict[str, Any]) -> Any:
        """Your lessons, per stage of yours and your children's: now, next, and read.

        The page is over sections (one per stage and subject); each lists every lesson that
        matches now, the next few, and those read.
        """
        user = _me()
        sections, total = feed.feed(
            Session(),
            person=user,
            today=today_of(user),
            locale=request_locale(),
            **args,
        )
        # Written directly: the same body as FeedPageSchema's dump (tests/test_hot_endpoints.py).
        return json_response(
            page(sections, total=total, page=args["page"], page_size=args["page_size"])
        )


@blp.route("/lessons/<uuid:lesson_id>/content")
class LessonContent(MethodView):
    @blp.response(200, LessonContentSchema)
    @blp.alt_response(404, description="No such published lesson")
    @login_required(CITIZEN)
    def get(self, lesson_id: uuid.UUID) -> Any:
        """A published lesson to read, in your language (or Chinese), with your progress."""
        session, user = Session(), _me()
        version = feed.readable(session, lesson_id=lesson_id, person=user)
        return feed.lesson_view(session, version=version, person=user, locale=request_locale())


@blp.route("/lessons/<uuid:lesson_id>/reads")
class LessonReads(MethodView):
    @blp.arguments(LessonReadCreateSchema)
    @blp.response(201, LessonReadSchema)
    @blp.alt_response(404, description="No such published lesson")
    @login_required(CITIZEN)
    def post(self, data: dict[str, Any], lesson_id: uuid.UUID) -> Any:
        """Mark a lesson read; completed when you reached the end or passed its quiz."""
        session, user = Session(), _me()
        version = feed.readable(session, lesson_id=lesson_id, person=user)
        return feed.record_read(
            session,
            person=user,
            version=version,
            completed=data["completed"],
            quiz_answers=data.get("quiz_answers"),
        )
