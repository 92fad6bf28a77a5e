"""Bodies for registrations, partner sharing, consents, access and audit logs, patients."""

from __future__ import annotations

from marshmallow import fields, validate

from backend.access.models import ConsentChannel, ConsentPurpose
from backend.api import PageArgsSchema, Schema, page_schema
from backend.auth.models import SHARE_SCOPES
from backend.auth.schemas import PHONE, InstitutionSchema
from backend.handbook.schemas import ChildSchema, PregnancySchema, ProfileSchema
from backend.i18n import _l

ONE_OF = _l("Must be one of the allowed values.")


class RegistrationCreateSchema(Schema):
    institution_id = fields.UUID(required=True)


class RegistrationSchema(Schema):
    id = fields.UUID(dump_only=True)
    institution = fields.Nested(InstitutionSchema, dump_only=True)
    registered_at = fields.AwareDateTime(dump_only=True)
    left_at = fields.AwareDateTime(dump_only=True, allow_none=True)
    active = fields.Function(lambda r: r.left_at is None, dump_only=True)


class PartnerInviteSchema(Schema):
    phone = fields.String(required=True, validate=PHONE)
    scopes = fields.List(
        fields.String(validate=validate.OneOf(SHARE_SCOPES, error=ONE_OF)),
        load_default=lambda: ["pregnancies", "children", "schedule"],
        validate=validate.Length(min=1),
        metadata={"description": f"What he may see: any of {', '.join(SHARE_SCOPES)}."},
    )
    can_write = fields.Boolean(
        load_default=False, metadata={"description": "Let him edit the shared records too."}
    )


class PartnerGrantUpdateSchema(Schema):
    scopes = fields.List(
        fields.String(validate=validate.OneOf(SHARE_SCOPES, error=ONE_OF)),
        validate=validate.Length(min=1),
    )
    can_write = fields.Boolean()


class PartnerGrantSchema(Schema):
    id = fields.UUID(dump_only=True)
    owner_id = fields.UUID(dump_only=True)
    partner_phone = fields.String(dump_only=True)
    partner_id = fields.UUID(dump_only=True, allow_none=True)
    status = fields.String(dump_only=True)
    scopes = fields.List(fields.String(), dump_only=True)
    can_write = fields.Boolean(dump_only=True)
    created_at = fields.AwareDateTime(dump_only=True)
    accepted_at = fields.AwareDateTime(dump_only=True, allow_none=True)
    revoked_at = fields.AwareDateTime(dump_only=True, allow_none=True)


class ConsentCreateSchema(Schema):
    purpose = fields.String(
        required=True,
        validate=validate.OneOf([p.value for p in ConsentPurpose], error=ONE_OF),
    )
    channel = fields.String(
        allow_none=True,
        load_default=None,
        validate=validate.OneOf([c.value for c in ConsentChannel], error=ONE_OF),
        metadata={"description": "For reminders: the channel this decision is about."},
    )
    granted = fields.Boolean(required=True, metadata={"description": "false withdraws."})


class ConsentSchema(Schema):
    id = fields.UUID(dump_only=True)
    purpose = fields.String()
    channel = fields.String(allow_none=True)
    granted = fields.Boolean()
    text_version = fields.String()
    at = fields.AwareDateTime()


class ConsentStateSchema(Schema):
    in_force = fields.List(fields.Nested(ConsentSchema))
    history = fields.List(fields.Nested(ConsentSchema))
    text_version = fields.String(metadata={"description": "The consent text version now shown."})


class AccessEventSchema(Schema):
    id = fields.UUID()
    at = fields.AwareDateTime()
    action = fields.String()
    record_type = fields.String()
    record_id = fields.UUID(allow_none=True)
    actor_id = fields.UUID(allow_none=True)
    actor_name = fields.String(allow_none=True)
    actor_role = fields.String()
    institution_name = fields.String(allow_none=True)
    what = fields.String(metadata={"description": "What was done, in words (localized)."})
    why = fields.String(
        allow_none=True,
        metadata={"description": "The basis of the access: care where she registered, sharing."},
    )
    owner_id = fields.UUID(allow_none=True)
    method = fields.String(allow_none=True)
    path = fields.String(allow_none=True)
    address = fields.String(allow_none=True)


AccessEventPageSchema = page_schema(AccessEventSchema, "AccessEventPage")


class AuditQueryArgsSchema(PageArgsSchema):
    actor_id = fields.UUID()
    owner_id = fields.UUID()
    since = fields.AwareDateTime()
    until = fields.AwareDateTime()


class PatientQueryArgsSchema(PageArgsSchema):
    q = fields.String(
        validate=validate.Length(min=1, max=50),
        metadata={"description": "Part of the name, or the start of the phone number."},
    )


class PatientSchema(Schema):
    id = fields.UUID()
    name = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    birth_date = fields.Date(allow_none=True)
    registered_at = fields.AwareDateTime()


PatientPageSchema = page_schema(PatientSchema, "PatientPage")


class PatientHandbookSchema(Schema):
    """A patient's handbook as her doctor sees it."""

    profile = fields.Nested(ProfileSchema)
    pregnancies = fields.List(fields.Nested(PregnancySchema))
    children = fields.List(fields.Nested(ChildSchema))
    registrations = fields.List(fields.Nested(RegistrationSchema))


class ExportSchema(Schema):
    """Everything the service holds about her (个人信息导出)."""

    exported_at = fields.AwareDateTime()
    profile = fields.Nested(ProfileSchema)
    national_id = fields.String(
        allow_none=True, metadata={"description": "In full: this is her own copy."}
    )
    pregnancies = fields.List(fields.Nested(PregnancySchema))
    children = fields.List(fields.Nested(ChildSchema))
    registrations = fields.List(fields.Nested(RegistrationSchema))
    consents = fields.List(fields.Nested(ConsentSchema))
    regimens = fields.List(fields.Dict(), metadata={"description": "Folic acid and check-ins."})
    partner_grants = fields.List(fields.Nested(PartnerGrantSchema))
    access_log = fields.List(fields.Nested(AccessEventSchema))
    care_steps = fields.List(fields.Dict())
    care_results = fields.List(fields.Dict())
    risk_assessments = fields.List(fields.Dict())
    measurements = fields.List(fields.Dict())
    notifications = fields.List(fields.Dict())
    reminders = fields.List(fields.Dict())
    reminder_preferences = fields.List(fields.Dict())
    contraception_facts = fields.List(fields.Dict())
    contraception_methods = fields.List(fields.Dict())
    lesson_reads = fields.List(fields.Dict())
    birth_defects = fields.List(fields.Dict())
    prenatal_diagnoses = fields.List(fields.Dict())
