"""Bodies for schedules, results, risk grades, options, measurements and worklists."""

from __future__ import annotations

from marshmallow import ValidationError, fields, validate

from backend.api import PageArgsSchema, Schema, page_schema
from backend.care.engine import STATUSES
from backend.care.models import SubjectKind
from backend.care.protocols import RISK_COLOURS
from backend.i18n import _l

ONE_OF = _l("Must be one of the allowed values.")


class SubjectRefSchema(Schema):
    kind = fields.String(metadata={"description": "woman | pregnancy | child"})
    id = fields.UUID()


class SourceSchema(Schema):
    ids = fields.List(fields.String(), metadata={"description": "Reference source ids."})
    title = fields.String()
    verified = fields.Boolean(
        metadata={
            "description": "Whether the step's rule is verified: true only when a clinician "
            "signed it off in content/ (verified_by, verified_on, verified_in); false: not "
            "signed off yet, show it as such."
        }
    )
    verified_by = fields.String(metadata={"description": "Who signed it off (when verified)."})
    verified_on = fields.String(metadata={"description": "When (ISO date), when verified."})
    verified_in = fields.String(
        metadata={"description": "The document and page it was checked against."}
    )


class ResultFieldSchema(Schema):
    name = fields.String()
    type = fields.String()
    unit = fields.String(allow_none=True)
    min = fields.Float(allow_none=True)
    max = fields.Float(allow_none=True)
    values = fields.List(fields.Raw())
    per_side = fields.Boolean()
    required = fields.Boolean()
    label = fields.String(allow_none=True)


class PartSchema(Schema):
    code = fields.String()
    title = fields.String(allow_none=True)
    required = fields.Boolean()
    sexes = fields.List(fields.String())


class StepSchema(Schema):
    id = fields.UUID()
    code = fields.String()
    subject = fields.Nested(SubjectRefSchema)
    programme = fields.String()
    version = fields.String()
    opens_on = fields.Date()
    due_on = fields.Date()
    closes_on = fields.Date()
    status = fields.String(metadata={"description": " | ".join(STATUSES)})
    title = fields.String()
    why = fields.String(metadata={"description": "Why this step is due, in her language."})
    source = fields.Nested(SourceSchema)
    optional = fields.Boolean()
    actor = fields.String(metadata={"description": "family | staff"})
    closed_before_enrolment = fields.Boolean(
        metadata={"description": "The window closed before she joined: missed, never reminded."}
    )
    follows_up = fields.String(allow_none=True)
    done_on = fields.Date(allow_none=True)
    interpretation = fields.String(allow_none=True)
    not_done_reason = fields.String(allow_none=True)
    reason = fields.Dict(metadata={"description": "Machine-readable: anchor, offsets, version."})


StepPageSchema = page_schema(StepSchema, "StepPage")


def _statuses(value: str) -> None:
    unknown = [s for s in value.split(",") if s not in STATUSES]
    if unknown:
        raise ValidationError([ONE_OF])  # a list: a lazy string alone is split


class ScheduleQueryArgsSchema(PageArgsSchema):
    subject = fields.UUID(metadata={"description": "Only this pregnancy, child or woman."})
    status = fields.String(
        validate=_statuses,
        metadata={"description": "Comma-separated statuses, e.g. due,overdue."},
    )
    from_ = fields.Date(data_key="from", metadata={"description": "Windows closing on or after."})
    to = fields.Date(metadata={"description": "Windows opening on or before."})
    page_size = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))
    view = fields.String(
        load_default="compact",
        validate=validate.OneOf(["compact", "full"], error=ONE_OF),
        metadata={
            "description": "compact (default): what a list shows; full: with programme, "
            "version, why, source, follows_up and reason (always in GET /care-steps/{id})."
        },
    )


class ResultCreateSchema(Schema):
    values = fields.Dict(
        keys=fields.String(),
        required=True,
        metadata={"description": "Typed values declared by the step's protocol (result_fields)."},
    )
    interpretation = fields.String(
        validate=validate.OneOf(["normal", "abnormal", "critical"], error=ONE_OF),
        metadata={"description": "The doctor's reading; else derived from the protocol's rules."},
    )
    performed_on = fields.Date(required=True)
    note = fields.String(validate=validate.Length(max=1000))


class ResultSchema(Schema):
    id = fields.UUID()
    step_id = fields.UUID()
    values = fields.Dict()
    interpretation = fields.String(allow_none=True)
    performed_on = fields.Date()
    note = fields.String(allow_none=True)
    recorded_by = fields.UUID(allow_none=True)
    recorded_at = fields.AwareDateTime()


class WindowChangeSchema(Schema):
    old_opens_on = fields.Date()
    old_due_on = fields.Date()
    old_closes_on = fields.Date()
    new_opens_on = fields.Date()
    new_due_on = fields.Date()
    new_closes_on = fields.Date()
    old_version = fields.String()
    new_version = fields.String()
    at = fields.AwareDateTime()


class StepDetailSchema(StepSchema):
    result_fields = fields.List(fields.Nested(ResultFieldSchema))
    parts = fields.List(fields.Nested(PartSchema))
    results = fields.List(fields.Nested(ResultSchema))
    window_history = fields.List(fields.Nested(WindowChangeSchema))


class NotDoneSchema(Schema):
    reason = fields.String(
        required=True, validate=validate.OneOf(["declined", "done_elsewhere"], error=ONE_OF)
    )
    done_on = fields.Date(metadata={"description": "Required when done elsewhere."})
    note = fields.String(validate=validate.Length(max=500))


class RiskAssessmentCreateSchema(Schema):
    colours = fields.List(
        fields.String(validate=validate.OneOf(RISK_COLOURS, error=ONE_OF)),
        required=True,
        validate=validate.Length(min=1),
        metadata={"description": "Every colour found; the highest wins, purple co-exists."},
    )
    conditions = fields.List(
        fields.String(validate=validate.Length(min=1, max=200)),
        load_default=list,
        validate=validate.Length(max=50),
        metadata={"description": "The conditions found (from the assessment form)."},
    )
    assessed_on = fields.Date(required=True)
    note = fields.String(validate=validate.Length(max=1000))


class RiskAssessmentSchema(Schema):
    id = fields.UUID()
    pregnancy_id = fields.UUID()
    colour = fields.String(metadata={"description": "green | yellow | orange | red"})
    purple = fields.Boolean(metadata={"description": "Infectious disease (紫), alongside."})
    conditions = fields.List(fields.String())
    note = fields.String(allow_none=True)
    assessed_on = fields.Date()
    assessed_by = fields.UUID(allow_none=True)
    at = fields.AwareDateTime()


class ChildCareOptionsSchema(Schema):
    vaccine_choices = fields.Dict(
        keys=fields.String(),
        values=fields.String(),
        metadata={"description": 'e.g. {"JE": "JE-I", "HepA": "HepA-L"}'},
    )
    flags = fields.Dict(
        keys=fields.String(), metadata={"description": 'e.g. {"mother_hbsag": "positive"}'}
    )


class PregnancyCareOptionsSchema(Schema):
    flags = fields.Dict(
        keys=fields.String(),
        required=True,
        metadata={"description": 'e.g. {"previous_birth_defect": true}'},
    )


class WomanCareDatesSchema(Schema):
    plan_date = fields.Date(
        allow_none=True, metadata={"description": "When she plans to start trying to conceive."}
    )
    marriage_registration = fields.Date(allow_none=True)


class CareOptionsSchema(Schema):
    vaccine_choices = fields.Dict()
    flags = fields.Dict()
    anchors = fields.Dict()


class MeasurementCreateSchema(Schema):
    kind = fields.String(
        required=True,
        validate=validate.OneOf(["weight", "blood_pressure", "fetal_movements"], error=ONE_OF),
    )
    values = fields.Dict(keys=fields.String(), required=True)
    measured_at = fields.AwareDateTime(required=True)
    pregnancy_id = fields.UUID(metadata={"description": "The pregnancy it belongs to, if any."})


class MeasurementSchema(Schema):
    id = fields.UUID()
    subject_kind = fields.String()
    subject_id = fields.UUID()
    kind = fields.String()
    values = fields.Dict()
    measured_at = fields.AwareDateTime()
    self_reported = fields.Boolean()
    created_at = fields.AwareDateTime()


MeasurementPageSchema = page_schema(MeasurementSchema, "MeasurementPage")


class MeasurementQueryArgsSchema(PageArgsSchema):
    kind = fields.String(
        validate=validate.OneOf(["weight", "blood_pressure", "fetal_movements"], error=ONE_OF)
    )


class WorklistQueryArgsSchema(PageArgsSchema):
    programme = fields.String(validate=validate.Length(max=64))
    subject_kind = fields.String(
        validate=validate.OneOf([k.value for k in SubjectKind], error=ONE_OF)
    )
    q = fields.String(validate=validate.Length(min=1, max=50))


class PatientRefSchema(Schema):
    id = fields.UUID()
    name = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)


class WorklistStepSchema(StepSchema):
    patient = fields.Nested(PatientRefSchema)
    days_overdue = fields.Integer(allow_none=True)


WorklistStepPageSchema = page_schema(WorklistStepSchema, "WorklistStepPage")


class HighRiskItemSchema(Schema):
    patient = fields.Nested(PatientRefSchema)
    pregnancy_id = fields.UUID()
    edd = fields.Date()
    gestational_age = fields.Dict(metadata={"description": "{weeks, days} today."})
    risk = fields.Nested(RiskAssessmentSchema)


HighRiskPageSchema = page_schema(HighRiskItemSchema, "HighRiskPage")


class UngradedItemSchema(Schema):
    patient = fields.Nested(PatientRefSchema)
    pregnancy_id = fields.UUID()
    edd = fields.Date()
    gestational_age = fields.Dict(metadata={"description": "{weeks, days} today."})


UngradedPageSchema = page_schema(UngradedItemSchema, "UngradedPage")
