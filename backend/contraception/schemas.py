"""Bodies for contraception advice, recorded facts and methods."""

from __future__ import annotations

from marshmallow import fields, validate

from backend.api import ContentRange, Schema

EVERYTHING = {"description": "Computed by the engine; texts in her language."}


class FactsSchema(Schema):
    breastfeeding = fields.Boolean(allow_none=True)
    fully_breastfeeding = fields.Boolean(
        allow_none=True, metadata={"description": "Only breast milk, day and night (LAM)."}
    )
    menses_returned = fields.Boolean(allow_none=True)
    other_vte_risk_factors = fields.Boolean(allow_none=True)
    smoker = fields.Boolean(allow_none=True)
    # Plausibility bounds from content/measurements.yaml (facts, and blood_pressure's fields).
    cigarettes_per_day = fields.Integer(
        allow_none=True, strict=True, validate=ContentRange("cigarettes_per_day")
    )
    bmi = fields.Float(allow_none=True, validate=ContentRange("bmi"))
    systolic_mmhg = fields.Integer(
        allow_none=True, strict=True, validate=ContentRange("systolic_mmhg", kind="blood_pressure")
    )
    diastolic_mmhg = fields.Integer(
        allow_none=True, strict=True, validate=ContentRange("diastolic_mmhg", kind="blood_pressure")
    )
    conditions = fields.List(
        fields.String(validate=validate.Length(min=1, max=64)),
        validate=validate.Length(max=40),
        metadata={"description": "Conditions on record, e.g. migraine_with_aura, vte_history."},
    )
    last_period = fields.Date(
        allow_none=True, metadata={"description": "Her last menstrual period (menopause)."}
    )


class FactsOutSchema(FactsSchema):
    updated_at = fields.AwareDateTime()


class MethodCreateSchema(Schema):
    method = fields.String(required=True, validate=validate.Length(min=1, max=32))
    started_on = fields.Date(required=True)
    note = fields.String(validate=validate.Length(max=500))


class MethodStopSchema(Schema):
    ended_on = fields.Date(required=True)


class MethodSchema(Schema):
    id = fields.UUID()
    woman_id = fields.UUID()
    method = fields.String()
    started_on = fields.Date()
    ended_on = fields.Date(allow_none=True)
    note = fields.String(allow_none=True)
    created_at = fields.AwareDateTime()


class AdviceSchema(Schema):
    """Every method with its WHO MEC category, what may be offered and why."""

    methods = fields.List(
        fields.Dict(),
        metadata={
            "description": "Computed by the engine; texts in her language. Each method has "
            "`verified` (true only when every rule rating it was signed off by a clinician in "
            "content/, verified_by/verified_on/verified_in) and each of its `reasons` too."
        },
    )
    services = fields.List(fields.Dict(), metadata={"description": "Free services for her."})
    missing_facts = fields.List(fields.String())
    questions = fields.List(fields.String(), metadata={"description": "What to ask her."})
    edition = fields.String()
    locale = fields.String()
    current_methods = fields.List(fields.Nested(MethodSchema))
    status = fields.String(metadata={"description": "assessed | pregnant (nothing to rate yet)"})
    note = fields.String(metadata={"description": "Why there are no methods, when there are none."})
