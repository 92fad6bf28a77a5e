"""Bodies of lessons, their versions and review, the feed, reading, reach and the service rate.

Input schemas check shapes and types; what content may say (the window fits the stage, zh_CN
is present, the quiz is the same in every language...) is checked by
backend.education.lesson_content, the same check the importer runs.
"""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields, validate, validates_schema

from backend.api import PageArgsSchema, Schema, page_schema
from backend.content.lessons import AUDIENCES, CLOCKS
from backend.education.lesson_content import MAX_COMMENT
from backend.education.models import LessonStatus, VersionStatus
from backend.handbook.stages import STAGE_NAMES
from backend.i18n import _l

ONE_OF = _l("Must be one of the allowed values.")
STAGE_HELP = "One of the seven life stages: " + ", ".join(STAGE_NAMES) + "."
WINDOW_HELP = (
    "When in the stage the lesson is shown, on the stage's own clock (" + ", ".join(CLOCKS) + "), "
    "half-open [from, to); plan_months_before counts down, so from > to there."
)
LOCALES_HELP = "Locale code → text: zh_CN is required, en optional."

WindowSchema = Schema.from_dict(
    {
        "clock": fields.String(required=True, metadata={"description": " | ".join(CLOCKS)}),
        "from": fields.Integer(required=True, strict=True),
        "to": fields.Integer(required=True, strict=True),
    },
    name="LessonWindow",
)
WindowPatchSchema = Schema.from_dict(
    {
        "clock": fields.String(),
        "from": fields.Integer(strict=True),
        "to": fields.Integer(strict=True),
    },
    name="LessonWindowPatch",
)


class LessonSourceSchema(Schema):
    title = fields.String(required=True)
    ref = fields.String(
        required=True, metadata={"description": "Where in the reference notes, e.g. C9."}
    )


class LessonQuizQuestionSchema(Schema):
    question = fields.String(required=True)
    options = fields.List(fields.String(), required=True)
    answer = fields.Integer(
        required=True,
        strict=True,
        metadata={"description": "Position of the right option, counting from 0."},
    )


class LessonVariantInSchema(Schema):
    title = fields.String(required=True)
    summary = fields.String(required=True)
    body = fields.String(
        required=True, metadata={"description": "Markdown; raw HTML is shown as text."}
    )
    quiz = fields.List(
        fields.Nested(LessonQuizQuestionSchema),
        load_default=list,
        metadata={"description": "0 to 3 questions; the answers are the same in every locale."},
    )


class LessonVariantPatchSchema(Schema):
    title = fields.String()
    summary = fields.String()
    body = fields.String()
    quiz = fields.List(fields.Nested(LessonQuizQuestionSchema))


_TOPICS = fields.List(
    fields.String(),
    metadata={
        "description": "Lowercase-kebab labels; pregnancy-loss is reserved for loss lessons "
        "(birth stage, loss_day clock), shown only to people who recorded a loss."
    },
)
_AUDIENCE = fields.List(fields.String(), metadata={"description": " | ".join(AUDIENCES)})
_SOURCES_HELP = {"description": "The sources of the lesson's clinical claims (at least one)."}


class LessonCreateSchema(Schema):
    slug = fields.String(
        required=True, metadata={"description": "Unique: lowercase letters, digits, hyphens."}
    )
    stage = fields.String(required=True, metadata={"description": STAGE_HELP})
    window = fields.Nested(WindowSchema, required=True, metadata={"description": WINDOW_HELP})
    topics = fields.List(fields.String(), required=True, metadata=_TOPICS.metadata)
    audience = fields.List(fields.String(), required=True, metadata=_AUDIENCE.metadata)
    reading_minutes = fields.Integer(required=True, strict=True)
    sources = fields.List(fields.Nested(LessonSourceSchema), required=True, metadata=_SOURCES_HELP)
    variants = fields.Dict(
        keys=fields.String(),
        values=fields.Nested(LessonVariantInSchema),
        required=True,
        metadata={"description": LOCALES_HELP},
    )


class LessonPatchSchema(Schema):
    window = fields.Nested(WindowPatchSchema, metadata={"description": WINDOW_HELP})
    topics = _TOPICS
    audience = _AUDIENCE
    reading_minutes = fields.Integer(strict=True)
    sources = fields.List(fields.Nested(LessonSourceSchema), metadata=_SOURCES_HELP)
    variants = fields.Dict(
        keys=fields.String(),
        values=fields.Nested(LessonVariantPatchSchema, allow_none=True),
        metadata={
            "description": LOCALES_HELP + " The given fields of a locale change; null removes "
            "that locale (never zh_CN)."
        },
    )


class LessonReturnSchema(Schema):
    comments = fields.String(
        required=True,
        validate=validate.Length(min=1, max=MAX_COMMENT, error=_l("Write 1 to 2000 characters.")),
        metadata={"description": "What the author should change."},
    )


class LessonQueryArgsSchema(PageArgsSchema):
    stage = fields.String(validate=validate.OneOf(STAGE_NAMES, error=ONE_OF))
    status = fields.String(
        validate=validate.OneOf(list(LessonStatus), error=ONE_OF),
        metadata={"description": "The lesson as a whole: " + " | ".join(LessonStatus)},
    )
    version_status = fields.String(
        validate=validate.OneOf(list(VersionStatus), error=ONE_OF),
        metadata={
            "description": "Its current version: " + " | ".join(VersionStatus) + " "
            "(in_review: the review queue)."
        },
    )
    q = fields.String(
        validate=validate.Length(min=1, max=100, error=_l("Write 1 to 100 characters.")),
        metadata={"description": "Part of the slug or of a title."},
    )


# --- editors' views ---------------------------------------------------------------------------

WindowOutSchema = Schema.from_dict(
    {"clock": fields.String(), "from": fields.Integer(), "to": fields.Integer()},
    name="LessonWindowOut",
)


class LessonVariantSchema(Schema):
    locale = fields.String()
    title = fields.String()
    summary = fields.String()
    body = fields.String(attribute="body_md", metadata={"description": "Markdown as written."})
    body_html = fields.String(metadata={"description": "Rendered and sanitized."})
    quiz = fields.List(fields.Nested(LessonQuizQuestionSchema))


class LessonVersionSummarySchema(Schema):
    id = fields.UUID()
    number = fields.Integer()
    status = fields.String(metadata={"description": " | ".join(VersionStatus)})
    author_id = fields.UUID(allow_none=True, metadata={"description": "null: imported."})
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    submitted_at = fields.DateTime(allow_none=True)
    reviewed_by = fields.UUID(allow_none=True)
    reviewed_at = fields.DateTime(allow_none=True)
    review_comments = fields.String(allow_none=True)
    published_at = fields.DateTime(allow_none=True)
    retired_at = fields.DateTime(allow_none=True)
    content_hash = fields.String()


class LessonVersionSchema(LessonVersionSummarySchema):
    window = fields.Nested(WindowOutSchema)
    topics = fields.List(fields.String())
    audience = fields.List(fields.String())
    reading_minutes = fields.Integer()
    sources = fields.List(fields.Nested(LessonSourceSchema))
    variants = fields.List(fields.Nested(LessonVariantSchema))


LessonVersionPageSchema = page_schema(LessonVersionSchema, "LessonVersionPage")


class LessonCurrentVersionSchema(Schema):
    number = fields.Integer()
    status = fields.String()
    author_id = fields.UUID(allow_none=True)
    updated_at = fields.DateTime()


class LessonSummarySchema(Schema):
    id = fields.UUID()
    slug = fields.String()
    stage = fields.String()
    colour = fields.String(metadata={"description": "The life stage's display colour."})
    status = fields.String(metadata={"description": " | ".join(LessonStatus)})
    title = fields.String(allow_none=True, metadata={"description": "zh_CN title."})
    summary = fields.String(allow_none=True)
    current_version = fields.Nested(LessonCurrentVersionSchema)
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


LessonPageSchema = page_schema(LessonSummarySchema, "LessonPage")


class LessonSchema(Schema):
    id = fields.UUID()
    slug = fields.String()
    stage = fields.String()
    colour = fields.String()
    status = fields.String(metadata={"description": " | ".join(LessonStatus)})
    created_by = fields.UUID(allow_none=True)
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    etag = fields.Integer(metadata={"description": "Row version, also sent as the ETag."})
    published_version = fields.Integer(
        allow_none=True, metadata={"description": "The version readers see; null if none."}
    )
    current_version = fields.Nested(
        LessonVersionSchema,
        metadata={"description": "The latest version, the one editors work on."},
    )


# --- readers' views -----------------------------------------------------------------------------


class FeedQueryArgsSchema(PageArgsSchema):
    next_limit = fields.Integer(
        load_default=3,
        validate=validate.Range(min=0, max=10),
        metadata={"description": "How many coming lessons per section (default 3)."},
    )


class FeedItemSchema(Schema):
    id = fields.UUID()
    slug = fields.String()
    stage = fields.String()
    version = fields.Integer()
    title = fields.String()
    summary = fields.String()
    locale = fields.String(metadata={"description": "Her locale, or zh_CN when missing."})
    reading_minutes = fields.Integer()
    topics = fields.List(fields.String())
    audience = fields.List(fields.String())
    window = fields.Nested(WindowOutSchema)
    has_quiz = fields.Boolean()
    read_at = fields.DateTime(allow_none=True)
    completed_at = fields.DateTime(allow_none=True)


class FeedSubjectRefSchema(Schema):
    kind = fields.String(metadata={"description": "woman | pregnancy | child"})
    id = fields.UUID()


class FeedSectionSchema(Schema):
    stage = fields.String()
    colour = fields.String()
    subject = fields.Nested(FeedSubjectRefSchema)
    clocks = fields.Dict(
        keys=fields.String(),
        values=fields.Integer(),
        metadata={"description": "Where she is on the stage's clocks, e.g. pregnancy_week: 20."},
    )
    after_loss = fields.Boolean(
        metadata={"description": "Support after a pregnancy loss (birth stage, loss_day)."}
    )
    now = fields.List(fields.Nested(FeedItemSchema), metadata={"description": "Matches now."})
    next = fields.List(
        fields.Nested(FeedItemSchema), metadata={"description": "Coming next, soonest first."}
    )
    read = fields.List(
        fields.Nested(FeedItemSchema), metadata={"description": "Read, latest first."}
    )


FeedPageSchema = page_schema(FeedSectionSchema, "FeedPage")


class LessonReadSchema(Schema):
    lesson_id = fields.UUID()
    version_id = fields.UUID(metadata={"description": "The published version she last read."})
    read_at = fields.DateTime()
    completed_at = fields.DateTime(allow_none=True)
    completed = fields.Function(lambda r: r.completed_at is not None, dump_only=True)
    quiz_score = fields.Integer(allow_none=True, metadata={"description": "Best: right answers."})
    quiz_total = fields.Integer(allow_none=True)
    quiz_passed = fields.Boolean(allow_none=True)


class LessonQuizPromptSchema(Schema):
    question = fields.String()
    options = fields.List(fields.String())


class LessonContentSchema(Schema):
    id = fields.UUID()
    slug = fields.String()
    stage = fields.String()
    colour = fields.String()
    version = fields.Integer()
    locale = fields.String(metadata={"description": "Her locale, or zh_CN when missing."})
    title = fields.String()
    summary = fields.String()
    body_html = fields.String(metadata={"description": "Sanitized HTML rendered from Markdown."})
    reading_minutes = fields.Integer()
    topics = fields.List(fields.String())
    audience = fields.List(fields.String())
    window = fields.Nested(WindowOutSchema)
    sources = fields.List(fields.Nested(LessonSourceSchema))
    quiz = fields.List(fields.Nested(LessonQuizPromptSchema))
    published_at = fields.DateTime()
    read = fields.Nested(LessonReadSchema, allow_none=True)


class LessonReadCreateSchema(Schema):
    completed = fields.Boolean(
        load_default=False, metadata={"description": "She reached the end of the lesson."}
    )
    quiz_answers = fields.List(
        fields.Integer(strict=True),
        validate=validate.Length(max=10, error=_l("Too many answers.")),
        metadata={"description": "Her answers, by position (from 0); all right: completed."},
    )


# --- statistics -------------------------------------------------------------------------------


class ReachQueryArgsSchema(Schema):
    from_ = fields.Date(data_key="from", metadata={"description": "First local day counted."})
    to = fields.Date(metadata={"description": "Last local day counted."})

    @validates_schema
    def _ordered(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("from_") and data.get("to") and data["to"] < data["from_"]:
            raise ValidationError({"to": [_l("The end is before the start.")]})


class EducationPeriodArgsSchema(ReachQueryArgsSchema):
    from_ = fields.Date(data_key="from", required=True)
    to = fields.Date(required=True)


class LessonVersionReachSchema(Schema):
    number = fields.Integer()
    readers = fields.Integer()
    completed = fields.Integer()
    quiz_passed = fields.Integer()


class LessonReachSchema(Schema):
    lesson_id = fields.UUID()
    slug = fields.String()
    stage = fields.String()
    from_ = fields.Date(data_key="from", attribute="from", allow_none=True)
    to = fields.Date(allow_none=True)
    readers = fields.Integer(metadata={"description": "People who opened it in the period."})
    completed = fields.Integer(metadata={"description": "People who completed it in the period."})
    quiz_passed = fields.Integer()
    completion_rate = fields.Float(allow_none=True)
    versions = fields.List(
        fields.Nested(LessonVersionReachSchema),
        metadata={"description": "By the version each reader read last."},
    )


class StageReachSchema(Schema):
    stage = fields.String()
    colour = fields.String()
    published_lessons = fields.Integer()
    reads = fields.Integer()
    readers = fields.Integer(metadata={"description": "Distinct people."})
    completions = fields.Integer()
    completed_readers = fields.Integer(metadata={"description": "Distinct people."})
    completion_rate = fields.Float(allow_none=True)


class EducationRateGroupSchema(Schema):
    registered = fields.Integer(
        metadata={"description": "Registered (建册) women aged 15-49 in the period."}
    )
    completed = fields.Integer(metadata={"description": "Of them, completed ≥1 lesson in it."})
    rate = fields.Float(allow_none=True)
    percent = fields.Float(allow_none=True)
    meets_target = fields.Boolean()


class InstitutionEducationRateSchema(EducationRateGroupSchema):
    institution_id = fields.UUID()
    name = fields.String()
    district_code = fields.String()


class DistrictEducationRateSchema(EducationRateGroupSchema):
    district_code = fields.String()


AgeBandSchema = Schema.from_dict(
    {"from": fields.Integer(), "to": fields.Integer()}, name="EducationAgeBand"
)


class EducationRateSchema(Schema):
    from_ = fields.Date(data_key="from", attribute="from")
    to = fields.Date()
    target = fields.Float(metadata={"description": "The policy target (0.95)."})
    age_band = fields.Nested(AgeBandSchema, metadata={"description": "Ages counted, inclusive."})
    total = fields.Nested(EducationRateGroupSchema)
    institutions = fields.List(fields.Nested(InstitutionEducationRateSchema))
    districts = fields.List(fields.Nested(DistrictEducationRateSchema))
