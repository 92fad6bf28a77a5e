"""Sign-up, log-in and log-out, mini-program log-in, institutions and staff."""

from __future__ import annotations

from typing import Any

from flask import current_app, request
from flask.views import MethodView

from backend.api import Blueprint
from backend.auth import service
from backend.auth.models import Role
from backend.auth.policy import current_user, login_required
from backend.auth.schemas import (
    AccountSchema,
    InstitutionQueryArgsSchema,
    InstitutionSchema,
    LoginSchema,
    MiniprogramLoginSchema,
    MiniprogramTokenSchema,
    RegisterSchema,
    StaffCreateSchema,
    StaffQueryArgsSchema,
    TokenSchema,
)
from backend.db import Session
from backend.errors import Unauthorized
from backend.i18n import _l

blp = Blueprint("auth", __name__, url_prefix="/api/v1/auth", description="Accounts and tokens")
admin_blp = Blueprint(
    "institutions", __name__, url_prefix="/api/v1", description="Institutions and staff (admin)"
)


def _token_body(issued: service.IssuedToken) -> dict[str, Any]:
    return {
        "access_token": issued.token,
        "token_type": "Bearer",
        "expires_at": issued.expires_at,
        "user_id": issued.user.id,
        "role": issued.user.role,
        "recent_failed_logins": issued.recent_failed_logins,
    }


def bearer_token() -> str | None:
    """The bearer token of this request, if any."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


@blp.route("/register")
class Register(MethodView):
    @blp.arguments(RegisterSchema)
    @blp.response(201, AccountSchema)
    @blp.doc(security=[])
    def post(self, data: dict[str, Any]) -> Any:
        """Sign up as a citizen with phone and password."""
        return service.register_citizen(Session(), **data)


@blp.route("/token")
class Token(MethodView):
    @blp.arguments(LoginSchema)
    @blp.response(200, TokenSchema)
    @blp.alt_response(401, description="Wrong phone or password")
    @blp.alt_response(429, description="Too many failed log-ins (see Retry-After)")
    @blp.doc(security=[])
    def post(self, data: dict[str, Any]) -> Any:
        """Log in with phone and password; returns a bearer token."""
        session = Session()
        try:
            issued = service.login(
                session,
                address=request.remote_addr or "unknown",
                settings=current_app.config,
                **data,
            )
        except service.InvalidCredentials:
            session.commit()  # the recorded failure must survive the refusal
            raise Unauthorized(_l("Wrong phone number or password.")) from None
        return _token_body(issued)

    @blp.response(204)
    @login_required()
    def delete(self) -> None:
        """Log out: the token is revoked at once."""
        service.revoke(Session(), token=bearer_token() or "")


@blp.route("/miniprogram")
class Miniprogram(MethodView):
    @blp.arguments(MiniprogramLoginSchema)
    @blp.response(200, MiniprogramTokenSchema)
    @blp.alt_response(502, description="The code-to-session service failed")
    @blp.doc(security=[{}, {"bearerAuth": []}])  # signed in: links the identity to her account
    def post(self, data: dict[str, Any]) -> Any:
        """Exchange a mini-program log-in code; links or creates the citizen."""
        openid = service.exchange_miniprogram_code(code=data["code"], settings=current_app.config)
        issued, created = service.miniprogram_login(
            Session(), openid=openid, current=current_user(), settings=current_app.config
        )
        return {**_token_body(issued), "created": created}


@admin_blp.route("/institutions")
class Institutions(MethodView):
    @admin_blp.arguments(InstitutionQueryArgsSchema, location="query")
    @admin_blp.response(200, InstitutionSchema(many=True))
    @login_required()
    def get(self, args: dict[str, Any]) -> Any:
        """List institutions (any signed-in user: citizens pick one to register at)."""
        return service.list_institutions(Session(), **args)

    @admin_blp.arguments(InstitutionSchema)
    @admin_blp.response(201, InstitutionSchema)
    @login_required(Role.ADMIN)
    def post(self, data: dict[str, Any]) -> Any:
        """Add an institution."""
        return service.create_institution(Session(), data=data)


@admin_blp.route("/staff")
class Staff(MethodView):
    @admin_blp.arguments(StaffQueryArgsSchema, location="query")
    @admin_blp.response(200, AccountSchema(many=True))
    @login_required(Role.ADMIN)
    def get(self, args: dict[str, Any]) -> Any:
        """List doctors, educators and health-bureau accounts."""
        return service.list_staff(Session(), **args)

    @admin_blp.arguments(StaffCreateSchema)
    @admin_blp.response(201, AccountSchema)
    @login_required(Role.ADMIN)
    def post(self, data: dict[str, Any]) -> Any:
        """Create a doctor or educator (at an institution) or a health-bureau account."""
        return service.create_user(Session(), **data)
