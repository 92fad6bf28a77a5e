"""Request and response bodies for accounts, tokens, institutions and staff."""

from __future__ import annotations

from marshmallow import fields, validate

from backend.api import Schema
from backend.auth.models import InstitutionKind, Role
from backend.i18n import _l

PHONE = validate.Regexp(r"^1[3-9]\d{9}$", error=_l("Enter an 11-digit mobile number."))
PASSWORD = validate.Length(min=8, max=128, error=_l("Use 8 to 128 characters."))


class RegisterSchema(Schema):
    phone = fields.String(required=True, validate=PHONE)
    password = fields.String(required=True, load_only=True, validate=PASSWORD)
    name = fields.String(validate=validate.Length(min=1, max=100))
    locale = fields.String(validate=validate.OneOf(["zh_CN", "en"]))


class LoginSchema(Schema):
    phone = fields.String(required=True, validate=validate.Length(min=1, max=20))
    password = fields.String(required=True, load_only=True, validate=validate.Length(max=128))


class TokenSchema(Schema):
    access_token = fields.String()
    token_type = fields.String(metadata={"example": "Bearer"})
    expires_at = fields.AwareDateTime()
    user_id = fields.UUID()
    role = fields.String()
    recent_failed_logins = fields.Integer(
        metadata={
            "description": "Failed log-ins on this phone in the throttling window, from "
            "anywhere: the app tells her when someone else tried her account."
        }
    )


class MiniprogramLoginSchema(Schema):
    code = fields.String(
        required=True,
        validate=validate.Length(min=1, max=128),
        metadata={"description": "The code from wx.login(); exchanged server-side for an openid."},
    )


class MiniprogramTokenSchema(TokenSchema):
    created = fields.Boolean(metadata={"description": "True when a new citizen was created."})


class AccountSchema(Schema):
    """Public shape of a user (signed-up citizen, staff member)."""

    id = fields.UUID(dump_only=True)
    phone = fields.String(
        allow_none=True, metadata={"description": "Null for a mini-program account."}
    )
    name = fields.String(allow_none=True, metadata={"description": "Null until she gives one."})
    role = fields.String()
    institution_id = fields.UUID(allow_none=True)
    district_codes = fields.List(
        fields.String(), metadata={"description": "A bureau account's districts."}
    )


class InstitutionSchema(Schema):
    id = fields.UUID(dump_only=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    kind = fields.String(
        required=True,
        validate=validate.OneOf([k.value for k in InstitutionKind]),
        metadata={
            "description": "community / township health centre, maternal-child or general hospital"
        },
    )
    district_code = fields.String(
        required=True,
        validate=validate.Regexp(r"^\d{6}$", error=_l("Use the 6-digit administrative code.")),
    )


class InstitutionQueryArgsSchema(Schema):
    district_code = fields.String()


class StaffCreateSchema(Schema):
    phone = fields.String(required=True, validate=PHONE)
    password = fields.String(required=True, load_only=True, validate=PASSWORD)
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    role = fields.String(
        required=True,
        validate=validate.OneOf([Role.DOCTOR.value, Role.EDUCATOR.value, Role.BUREAU.value]),
        metadata={
            "description": "doctor or educator (at an institution), or bureau: a health bureau's "
            "read-only account for the aggregate indicators of its districts"
        },
    )
    institution_id = fields.UUID(
        metadata={"description": "Required for doctors and educators; not for a bureau."}
    )
    district_codes = fields.List(
        fields.String(
            validate=validate.Regexp(r"^\d{6}$", error=_l("Use the 6-digit administrative code."))
        ),
        validate=validate.Length(min=1, max=50),
        metadata={"description": "A bureau account's districts (GB/T 2260 codes); required then."},
    )


class StaffQueryArgsSchema(Schema):
    institution_id = fields.UUID()
