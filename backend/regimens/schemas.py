"""Bodies of the folic acid regimen: her plan, check-ins, adherence, a doctor's risk factors."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from marshmallow import ValidationError, fields, validate, validates_schema

from backend.api import Schema
from backend.care.schemas import SourceSchema
from backend.i18n import _l

HH_MM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
RISK_FACTORS_HELP = (
    "Risk factor codes from content/regimens/folic_acid.yaml (prior_ntd_pregnancy, diabetes, "
    "epilepsy, ...); they decide the dose tier. An empty list clears them."
)


class LocalTime(fields.String):
    """A local time of day, written HH:MM on the 24-hour clock."""

    default_error_messages = {"invalid": _l("Use a 24-hour time written HH:MM, such as 08:30.")}

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        return None if value is None else value.strftime("%H:%M")

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> dt.time:
        if not isinstance(value, str) or not HH_MM.match(value):
            raise self.make_error("invalid")
        hours, minutes = value.split(":")
        return dt.time(int(hours), int(minutes))


_RISK_FACTORS = fields.List(
    fields.String(validate=validate.Length(min=1, max=64)),
    validate=validate.Length(max=20),
    metadata={"description": RISK_FACTORS_HELP},
)


class FolicAcidPutSchema(Schema):
    planned_pregnancy_on = fields.Date(
        metadata={
            "description": "When she plans to start trying to conceive: from today to one year "
            "ahead. The regimen starts her tier's lead time before it (90 days; 30 for 4 mg). "
            "Required to start a new plan unless she is pregnant."
        }
    )
    reminder_time = LocalTime(
        metadata={
            "description": "Local time of the daily reminder, HH:MM (default 08:30); not in the "
            "quiet hours 21:00-08:00.",
            "example": "08:30",
        }
    )
    risk_factors = _RISK_FACTORS


class PatientRiskFactorsPutSchema(Schema):
    risk_factors = fields.List(
        fields.String(validate=validate.Length(min=1, max=64)),
        required=True,
        validate=validate.Length(max=20),
        metadata={"description": RISK_FACTORS_HELP},
    )


class CheckInCreateSchema(Schema):
    on = fields.Date(metadata={"description": "Her local date; today where she lives by default."})
    taken = fields.Boolean(required=True)


class CheckInSchema(Schema):
    id = fields.UUID()
    regimen_id = fields.UUID()
    on = fields.Date()
    taken = fields.Boolean()
    at = fields.DateTime(metadata={"description": "When she answered (last, if she changed it)."})


class AdherenceSchema(Schema):
    from_ = fields.Date(
        data_key="from",
        attribute="since",
        allow_none=True,
        metadata={"description": "First day counted; null when no day of the period counts."},
    )
    to = fields.Date(
        attribute="until",
        allow_none=True,
        metadata={
            "description": "Last day counted: today once she answered for it, else yesterday; "
            "never after the regimen's last day."
        },
    )
    days = fields.Integer()
    taken_days = fields.Integer()
    percent = fields.Float(
        allow_none=True, metadata={"description": "taken_days / days × 100, one decimal."}
    )
    current_streak = fields.Integer(
        metadata={"description": "Days taken in a row up to the last day counted."}
    )
    longest_streak = fields.Integer()


class RegimenAdherenceSchema(AdherenceSchema):
    regimen_id = fields.UUID()


class AdherenceQueryArgsSchema(Schema):
    from_ = fields.Date(data_key="from", metadata={"description": "Default: the regimen's start."})
    to = fields.Date(metadata={"description": "Default: today."})

    @validates_schema
    def _ordered(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data.get("from_") and data.get("to") and data["from_"] > data["to"]:
            raise ValidationError({"to": [_l("This date cannot be before the start date.")]})


class RegimenTodaySchema(Schema):
    date = fields.Date(metadata={"description": "Her local date today."})
    in_regimen = fields.Boolean(metadata={"description": "Today is a day of the regimen."})
    taken = fields.Boolean(
        allow_none=True, metadata={"description": "Her answer for today; null before she answers."}
    )


class FolicAcidSchema(Schema):
    """Her folic acid regimen as she sees it today."""

    id = fields.UUID()
    kind = fields.String()
    status = fields.String(
        metadata={
            "description": "active | stopped | completed (completed once its last day passed)."
        }
    )
    stop_reason = fields.String(
        allow_none=True, metadata={"description": "loss | birth | end_of_span"}
    )
    stopped_on = fields.Date(
        allow_none=True, metadata={"description": "The last day it covered, once ended."}
    )
    tier = fields.String(metadata={"description": "standard | raised | high | very_high"})
    dose = fields.String(metadata={"description": "The dose to take, in her language."})
    ask_doctor = fields.Boolean(
        metadata={"description": "A higher dose that needs her doctor (and a prescription)."}
    )
    risk_factors = fields.List(fields.String())
    planned_pregnancy_on = fields.Date(allow_none=True)
    pregnancy_id = fields.UUID(allow_none=True)
    starts_on = fields.Date()
    ends_on = fields.Date(
        allow_none=True,
        metadata={"description": "Last day: GA 13+6 of her pregnancy; null until pregnant."},
    )
    reminder_time = LocalTime(metadata={"example": "08:30"})
    today = fields.Nested(RegimenTodaySchema)
    last_7_days = fields.Nested(AdherenceSchema)
    last_30_days = fields.Nested(AdherenceSchema)
    current_streak = fields.Integer()
    longest_streak = fields.Integer()
    source = fields.Nested(SourceSchema)
    created_at = fields.DateTime()


class PatientRiskFactorsSchema(Schema):
    patient_id = fields.UUID()
    risk_factors = fields.List(fields.String())
    tier = fields.String()
    dose = fields.String()
    ask_doctor = fields.Boolean()
    regimen_id = fields.UUID(
        allow_none=True, metadata={"description": "Her active regimen, which took the new tier."}
    )
    updated_at = fields.DateTime()
