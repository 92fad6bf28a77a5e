"""Registrations (建册), partner sharing, consents, and who-viewed-my-record."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

from flask import current_app, stream_with_context
from flask.views import MethodView

from backend import exports
from backend.access import service
from backend.access.schemas import (
    AccessEventPageSchema,
    AuditQueryArgsSchema,
    ConsentCreateSchema,
    ConsentSchema,
    ConsentStateSchema,
    ExportSchema,
    PartnerGrantSchema,
    PartnerGrantUpdateSchema,
    PartnerInviteSchema,
    PatientHandbookSchema,
    PatientPageSchema,
    PatientQueryArgsSchema,
    RegistrationCreateSchema,
    RegistrationSchema,
)
from backend.api import Blueprint, PageArgsSchema, page
from backend.auth.models import Role, User
from backend.auth.policy import (
    Action,
    audit,
    authorize_owner,
    login_required,
    signed_in_user,
)
from backend.auth.security import FieldCipher
from backend.db import Session
from backend.handbook import service as handbook_service

blp = Blueprint(
    "access",
    __name__,
    url_prefix="/api/v1",
    description="Registrations (建册), partner sharing, consent, access and audit logs",
)

CITIZEN = Role.CITIZEN


_me = signed_in_user  # the route's login_required mark guarantees one


@blp.route("/me/registrations")
class MyRegistrations(MethodView):
    @blp.response(200, RegistrationSchema(many=True))
    @login_required(CITIZEN)
    def get(self) -> Any:
        """List the institutions she registered at (current and past)."""
        return service.list_registrations(Session(), user=_me())

    @blp.arguments(RegistrationCreateSchema)
    @blp.response(201, RegistrationSchema)
    @blp.alt_response(409, description="Already registered there")
    @login_required(CITIZEN)
    def post(self, data: dict[str, Any]) -> Any:
        """Register (建册) at an institution; its doctors then see her handbook."""
        return service.register_at(Session(), user=_me(), **data)


@blp.route("/me/registrations/<uuid:registration_id>")
class MyRegistrationById(MethodView):
    @blp.response(200, RegistrationSchema)
    @login_required(CITIZEN)
    def delete(self, registration_id: uuid.UUID) -> Any:
        """Leave the institution: its doctors lose access at once."""
        return service.leave(Session(), user=_me(), registration_id=registration_id)


@blp.route("/me/partners")
class MyPartners(MethodView):
    @blp.response(200, PartnerGrantSchema(many=True))
    @login_required(CITIZEN)
    def get(self) -> Any:
        """List what she shares with partners, and invitations addressed to her."""
        return service.list_partner_grants(Session(), user=_me())

    @blp.arguments(PartnerInviteSchema)
    @blp.response(201, PartnerGrantSchema)
    @login_required(CITIZEN)
    def post(self, data: dict[str, Any]) -> Any:
        """Invite a partner by phone, choosing what he may see."""
        return service.invite_partner(Session(), owner=_me(), **data)


@blp.route("/me/partners/<uuid:grant_id>")
class MyPartnerById(MethodView):
    @blp.arguments(PartnerGrantUpdateSchema)
    @blp.response(200, PartnerGrantSchema)
    @login_required(CITIZEN)
    def patch(self, data: dict[str, Any], grant_id: uuid.UUID) -> Any:
        """Change what a partner may see or edit."""
        return service.update_grant(Session(), owner=_me(), grant_id=grant_id, **data)

    @blp.response(200, PartnerGrantSchema)
    @login_required(CITIZEN)
    def delete(self, grant_id: uuid.UUID) -> Any:
        """Revoke a partner's access (or withdraw the invitation)."""
        return service.revoke_grant(Session(), owner=_me(), grant_id=grant_id)


@blp.route("/partner-invitations/<uuid:grant_id>/accept")
class AcceptInvitation(MethodView):
    @blp.response(200, PartnerGrantSchema)
    @login_required(CITIZEN)
    def post(self, grant_id: uuid.UUID) -> Any:
        """Accept an invitation addressed to your phone number."""
        return service.accept_invitation(Session(), user=_me(), grant_id=grant_id)


@blp.route("/me/consents")
class MyConsents(MethodView):
    @blp.response(200, ConsentStateSchema)
    @login_required(CITIZEN)
    def get(self) -> Any:
        """Consents in force per purpose and channel, and their history."""
        history = service.consent_history(Session(), user=_me())
        return {
            "in_force": service.consents_in_force(history),
            "history": history,
            "text_version": current_app.config["CONSENT_TEXT_VERSION"],
        }

    @blp.arguments(ConsentCreateSchema)
    @blp.response(201, ConsentSchema)
    @login_required(CITIZEN)
    def post(self, data: dict[str, Any]) -> Any:
        """Grant or withdraw consent for a purpose (and channel)."""
        return service.record_consent(
            Session(), user=_me(), text_version=current_app.config["CONSENT_TEXT_VERSION"], **data
        )


@blp.route("/me/access-log")
class MyAccessLog(MethodView):
    @blp.arguments(PageArgsSchema, location="query")
    @blp.response(200, AccessEventPageSchema)
    @login_required(CITIZEN)
    def get(self, args: dict[str, Any]) -> Any:
        """Who viewed or changed my records (谁看过我的档案), newest first."""
        rows, total = service.access_log(Session(), user=_me(), **args)
        return page([service.event_view(r, full=False) for r in rows], total=total, **args)


@blp.route("/audit-log")
class AuditLog(MethodView):
    @blp.arguments(AuditQueryArgsSchema, location="query")
    @blp.response(200, AccessEventPageSchema)
    @login_required(Role.ADMIN)
    def get(self, args: dict[str, Any]) -> Any:
        """The audit log of every access to health records by someone other than the owner."""
        paging = {"page": args.pop("page"), "page_size": args.pop("page_size")}
        rows, total = service.audit_log(Session(), **paging, **args)
        return page([service.event_view(r, full=True) for r in rows], total=total, **paging)


@blp.route("/patients")
class Patients(MethodView):
    @blp.arguments(PatientQueryArgsSchema, location="query")
    @blp.response(200, PatientPageSchema)
    @login_required(Role.DOCTOR)
    def get(self, args: dict[str, Any]) -> Any:
        """The citizens registered at the doctor's institution (searchable)."""
        session, doctor = Session(), _me()
        rows, total = service.list_patients(session, doctor=doctor, **args)
        audit(session, doctor, Action.READ, record_type="PatientList")
        items = [
            {
                "id": u.id,
                "name": u.name,
                "phone": u.phone,
                "birth_date": u.birth_date,
                "registered_at": r.registered_at,
            }
            for u, r in rows
        ]
        return page(items, total=total, page=args["page"], page_size=args["page_size"])


@blp.route("/patients/<uuid:patient_id>")
class PatientById(MethodView):
    @blp.response(200, PatientHandbookSchema)
    @blp.alt_response(404, description="No such patient at your institution")
    @login_required(Role.DOCTOR)
    def get(self, patient_id: uuid.UUID) -> Any:
        """A patient's handbook: profile, pregnancies, children (the read is audited)."""
        session = Session()
        patient = authorize_owner(session, _me(), Action.READ, session.get(User, patient_id))
        return _handbook(session, patient)


def _handbook(session: Any, person: User) -> dict[str, Any]:
    cipher = FieldCipher.from_config(current_app.config)
    pregnancies, children = handbook_service.all_records(session, person=person)
    return {
        "profile": handbook_service.profile(
            session, user=person, default_tz=current_app.config["DEFAULT_TIMEZONE"], cipher=cipher
        ),
        "pregnancies": pregnancies,
        "children": children,
        "registrations": service.list_registrations(session, user=person),
    }


@blp.route("/me/export")
class MyExport(MethodView):
    @blp.response(200, ExportSchema)
    @login_required(CITIZEN)
    def get(self) -> Any:
        """Download everything the service holds about you, as JSON."""
        # Streamed section by section and row by row (backend/exports.py): no size limit.
        session, me, app = Session(), _me(), current_app._get_current_object()  # type: ignore[attr-defined]  # the app, not the proxy

        def chunks() -> Iterator[str]:
            try:
                yield from exports.stream(app, session, me)
            finally:
                # The unit of work was committed before the body streams: end the export's own
                # read transaction with its last row, so a SQLite lock never outlives the response.
                session.rollback()

        return current_app.response_class(
            stream_with_context(chunks()), mimetype="application/json"
        )
