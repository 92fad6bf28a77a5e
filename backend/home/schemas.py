"""The home screen's shape: small pieces of the domains' own schemas."""

from __future__ import annotations

from marshmallow import Schema, fields

from backend.care.schemas import StepSchema
from backend.education.schemas import FeedItemSchema
from backend.handbook.schemas import GestationalAgeSchema, LifeStageSchema
from backend.regimens.schemas import RegimenTodaySchema


class HomePregnancySchema(Schema):
    id = fields.UUID()
    edd = fields.Date()
    gestational_age = fields.Nested(GestationalAgeSchema)
    risk_colour = fields.String(
        allow_none=True,
        metadata={"description": "green | yellow | orange | red, null until graded."},
    )
    risk_purple = fields.Boolean(metadata={"description": "Infectious disease (purple) as well."})


class ChildAgeSchema(Schema):
    years = fields.Integer()
    months = fields.Integer()
    days = fields.Integer()


class HomeChildSchema(Schema):
    id = fields.UUID()
    name = fields.String(allow_none=True)
    sex = fields.String()
    birth_date = fields.Date()
    age = fields.Nested(ChildAgeSchema)


class HomeFolicAcidSchema(Schema):
    id = fields.UUID()
    status = fields.String(metadata={"description": "active | stopped | completed"})
    dose = fields.String()
    ask_doctor = fields.Boolean()
    today = fields.Nested(RegimenTodaySchema)
    current_streak = fields.Integer()
    ends_on = fields.Date(allow_none=True)


class HomeSchema(Schema):
    """Her first screen: stages, pregnancy or children's ages, next steps, folic acid today,
    unread messages and this week's lesson."""

    today = fields.Date(metadata={"description": "Her local date."})
    name = fields.String(allow_none=True)
    life_stages = fields.List(fields.Nested(LifeStageSchema))
    pregnancy = fields.Nested(
        HomePregnancySchema, allow_none=True, metadata={"description": "The ongoing one."}
    )
    children = fields.List(fields.Nested(HomeChildSchema))
    next_steps = fields.List(
        fields.Nested(StepSchema),
        metadata={"description": "Up to three open steps (overdue, due, upcoming), soonest first."},
    )
    folic_acid = fields.Nested(
        HomeFolicAcidSchema, allow_none=True, metadata={"description": "Null without a regimen."}
    )
    unread_count = fields.Integer()
    lesson = fields.Nested(
        FeedItemSchema,
        allow_none=True,
        metadata={"description": "A lesson that fits now, unread first."},
    )
