"""Request and response bodies of the surveillance records."""

from __future__ import annotations

from marshmallow import fields, validate

from backend.api import Schema
from backend.i18n import _l
from backend.surveillance.models import (
    DefectOutcome,
    DiagnosisProcedure,
    DiagnosisResult,
    DiagnosisTiming,
)

ICD10 = validate.Regexp(
    r"^\s*[Qq]\d{2}(\.\d{1,2})?\s*$",
    error=_l("Use an ICD-10 code of chapter XVII, Q00 to Q99 (e.g. Q05.9)."),
)


class DefectGestationalAgeSchema(Schema):
    weeks = fields.Integer(required=True, validate=validate.Range(min=0, max=45))
    days = fields.Integer(load_default=0, validate=validate.Range(min=0, max=6))


class BirthDefectCreateSchema(Schema):
    icd10 = fields.String(
        required=True,
        validate=ICD10,
        metadata={"description": "ICD-10 chapter XVII code, Q00–Q99 (Q05.9, Q21.0...)."},
    )
    category = fields.String(
        metadata={
            "description": "The monitored category (GET /birth-defect-categories). Optional: "
            "derived from the code; when given it must agree with it."
        }
    )
    timing = fields.String(
        required=True,
        validate=validate.OneOf([t.value for t in DiagnosisTiming]),
        metadata={"description": "When and how it was diagnosed."},
    )
    diagnosed_on = fields.Date(required=True)
    gestational_age = fields.Nested(
        DefectGestationalAgeSchema,
        metadata={
            "description": "At the birth or the end; defaults to what the handbook recorded."
        },
    )
    outcome = fields.String(
        validate=validate.OneOf([o.value for o in DefectOutcome]),
        metadata={
            "description": "On a child: live_birth (default) or early_neonatal_death. On a "
            "pregnancy it follows the handbook (ongoing, stillbirth, termination)."
        },
    )
    note = fields.String(validate=validate.Length(max=1000))


class BirthDefectSchema(Schema):
    """A birth-defect record in plain words (title, plain, timing_text, outcome_text)."""

    id = fields.UUID(dump_only=True)
    pregnancy_id = fields.UUID(allow_none=True)
    child_id = fields.UUID(allow_none=True)
    icd10 = fields.String()
    category = fields.String()
    category_number = fields.Integer(
        allow_none=True, metadata={"description": "Number among the 23 monitored categories."}
    )
    title = fields.String(metadata={"description": "The category's name, in her language."})
    plain = fields.String(metadata={"description": "What it means, in plain words."})
    timing = fields.String()
    timing_text = fields.String()
    diagnosed_on = fields.Date()
    gestational_age = fields.Nested(DefectGestationalAgeSchema, allow_none=True)
    outcome = fields.String()
    outcome_text = fields.String()
    outcome_on = fields.Date(
        allow_none=True,
        metadata={"description": "The birth or end date that places the case in a period."},
    )
    note = fields.String(allow_none=True)
    recorded_at = fields.DateTime()


class CategorySchema(Schema):
    code = fields.String()
    number = fields.Integer(allow_none=True)
    icd10 = fields.List(fields.String(), metadata={"description": "Code prefixes or ranges."})
    title = fields.String()
    plain = fields.String()


class CategoryListSchema(Schema):
    version = fields.Integer()
    source = fields.String()
    verified = fields.Boolean()
    categories = fields.List(fields.Nested(CategorySchema))


class PrenatalDiagnosisCreateSchema(Schema):
    performed_on = fields.Date(required=True)
    procedure = fields.String(
        required=True, validate=validate.OneOf([p.value for p in DiagnosisProcedure])
    )
    test = fields.String(
        validate=validate.Length(min=1, max=100),
        metadata={"description": "karyotype, chromosomal microarray, FISH, ..."},
    )
    result = fields.String(
        required=True, validate=validate.OneOf([r.value for r in DiagnosisResult])
    )
    finding = fields.String(validate=validate.Length(max=1000))
    icd10 = fields.String(validate=ICD10, metadata={"description": "The diagnosis, if any."})


class PrenatalDiagnosisSchema(PrenatalDiagnosisCreateSchema):
    id = fields.UUID(dump_only=True)
    pregnancy_id = fields.UUID(dump_only=True)
    ga_days = fields.Integer(
        dump_only=True, metadata={"description": "Gestational age in days when performed."}
    )
    recorded_at = fields.DateTime(dump_only=True)
