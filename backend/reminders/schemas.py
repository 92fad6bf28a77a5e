"""Bodies for the inbox, preferences, opt-ins, dead letters, effectiveness and escalations."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields, validate, validates_schema

from backend.api import PageArgsSchema, Schema
from backend.care.schemas import PatientRefSchema, StepSchema
from backend.i18n import _l
from backend.reminders.models import ReminderKind
from backend.reminders.service import CHANNELS

ONE_OF = _l("Must be one of the allowed values.")


class NotificationSchema(Schema):
    id = fields.UUID()
    kind = fields.String()
    title = fields.String()
    body = fields.String()
    locale = fields.String()
    data = fields.Dict()
    created_at = fields.AwareDateTime()
    read_at = fields.AwareDateTime(allow_none=True)


class NotificationPageSchema(Schema):
    items = fields.List(fields.Nested(NotificationSchema))
    page = fields.Integer()
    page_size = fields.Integer()
    total = fields.Integer()
    unread_count = fields.Integer()


class NotificationQueryArgsSchema(PageArgsSchema):
    unread_only = fields.Boolean(load_default=False)


class ReadAllSchema(Schema):
    count = fields.Integer()


class PreferencesSchema(Schema):
    channels = fields.List(
        fields.String(validate=validate.OneOf(CHANNELS, error=ONE_OF)),
        validate=validate.Length(min=1, max=len(CHANNELS)),
        metadata={"description": "In order of preference; the in-app inbox is always on."},
    )
    quiet_start = fields.Time(metadata={"description": "Local time, e.g. 21:00"})
    quiet_end = fields.Time(metadata={"description": "Local time, e.g. 08:00"})
    send_time = fields.Time(metadata={"description": "Local time a day's reminders are sent."})
    opted_out = fields.List(
        fields.String(
            validate=validate.OneOf(
                [k.value for k in ReminderKind if k != ReminderKind.STEP_ESCALATION], error=ONE_OF
            )
        ),
        metadata={"description": "Kinds of reminder she does not want."},
    )


class OptInCreateSchema(Schema):
    template_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    count = fields.Integer(load_default=1, strict=True, validate=validate.Range(min=1, max=50))


class OptInSchema(Schema):
    template_id = fields.String()
    remaining = fields.Integer()


class ReminderSchema(Schema):
    id = fields.UUID()
    recipient_id = fields.UUID()
    kind = fields.String()
    source_type = fields.String()
    source_id = fields.UUID()
    occurrence = fields.String()
    fire_at = fields.AwareDateTime()
    status = fields.String()
    attempts = fields.Integer()
    next_attempt_at = fields.AwareDateTime()
    last_error = fields.String(allow_none=True)


class ReminderPageSchema(Schema):
    items = fields.List(fields.Nested(ReminderSchema))
    page = fields.Integer()
    page_size = fields.Integer()
    total = fields.Integer()


class PeriodArgsSchema(Schema):
    from_ = fields.Date(data_key="from", required=True)
    to = fields.Date(required=True)

    @validates_schema
    def _ordered(self, data: dict[str, Any], **_: object) -> None:
        if data["to"] < data["from_"]:
            raise ValidationError({"to": [_l("The end is before the start.")]})


class EffectGroupSchema(Schema):
    kind = fields.String()
    channel = fields.String(allow_none=True)
    institution_id = fields.UUID(allow_none=True)
    institution_name = fields.String(allow_none=True)
    delivered = fields.Integer()
    done_within = fields.Integer(
        metadata={"description": "Steps done within {reminders:effect_window_days} days."}
    )
    rate = fields.Float(allow_none=True)


class EffectivenessSchema(Schema):
    since = fields.Date()
    until = fields.Date()
    groups = fields.List(fields.Nested(EffectGroupSchema))
    steps_due = fields.Integer()
    steps_done_on_time = fields.Integer()
    on_time_rate = fields.Float(allow_none=True)


class EscalationItemSchema(StepSchema):
    patient = fields.Nested(PatientRefSchema)
    escalated_at = fields.AwareDateTime()


class EscalationPageSchema(Schema):
    items = fields.List(fields.Nested(EscalationItemSchema))
    page = fields.Integer()
    page_size = fields.Integer()
    total = fields.Integer()
