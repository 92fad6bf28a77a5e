"""The handbook over HTTP: profile, pregnancies, births and losses, children."""

from __future__ import annotations

import functools
import uuid
from typing import Any

from flask import current_app
from flask.views import MethodView

from backend.api import Blueprint, PageArgsSchema, page, page_schema
from backend.auth.models import Role
from backend.auth.policy import Action, authorize, login_required, signed_in_user
from backend.auth.security import FieldCipher
from backend.db import Session
from backend.handbook import children, pregnancies, profiles, service
from backend.handbook.models import Child, Pregnancy
from backend.handbook.schemas import (
    BirthSchema,
    ChildPatchSchema,
    ChildSchema,
    EndSchema,
    PregnancyCreateSchema,
    PregnancyPatchSchema,
    PregnancySchema,
    ProfileSchema,
)
from backend.preamble import default_tz

blp = Blueprint("handbook", __name__, url_prefix="/api/v1", description="The family handbook")

PregnancyPageSchema = page_schema(PregnancySchema, "PregnancyPage")
ChildPageSchema = page_schema(ChildSchema, "ChildPage")

CITIZEN_OR_DOCTOR = (Role.CITIZEN, Role.DOCTOR)


_me = signed_in_user  # the route's login_required mark guarantees one


def _cipher() -> FieldCipher:
    return _cipher_for(
        current_app.config["FIELD_ENCRYPTION_KEY"], current_app.config.get("FIELD_LOOKUP_KEY")
    )


@functools.lru_cache(maxsize=4)
def _cipher_for(keys: str, lookup_key: str | None) -> FieldCipher:
    """Built once per key set, not on every GET /me (its keys are decoded and checked)."""
    return FieldCipher(keys, lookup_key or None)


# --- profile ----------------------------------------------------------------------------------


@blp.route("/me")
class Me(MethodView):
    @blp.response(200, ProfileSchema)
    @login_required(Role.CITIZEN)
    def get(self) -> Any:
        """Your profile, with your current life stages."""
        session, user = Session(), _me()
        body = profiles.profile(session, user=user, default_tz=default_tz(), cipher=_cipher())
        return body, blp.etag(body.version)

    @blp.arguments(ProfileSchema)
    @blp.response(200, ProfileSchema)
    @blp.checks_version
    @login_required(Role.CITIZEN)
    def patch(self, data: dict[str, Any]) -> Any:
        """Change your profile (name, sex, birth date, national ID, district, locale, zone)."""
        session, user = Session(), _me()
        blp.check_if_match(user.version)
        cipher = _cipher()
        profiles.update_profile(
            session, user=user, data=data, default_tz=default_tz(), cipher=cipher
        )
        body = profiles.profile(session, user=user, default_tz=default_tz(), cipher=cipher)
        return body, blp.etag(body.version)

    @blp.response(204)
    @login_required(Role.CITIZEN)
    def delete(self) -> None:
        """Delete your account and records (children with another guardian stay with them)."""
        service.delete_account(Session(), user=_me())


# --- pregnancies ------------------------------------------------------------------------------


@blp.route("/me/pregnancies")
class MyPregnancies(MethodView):
    @blp.arguments(PageArgsSchema, location="query")
    @blp.response(200, PregnancyPageSchema)
    @login_required(Role.CITIZEN)
    def get(self, args: dict[str, Any]) -> Any:
        """Your pregnancies, the latest first."""
        items, total = pregnancies.list_pregnancies(Session(), woman=_me(), **args)
        return page(items, total=total, **args)

    @blp.arguments(PregnancyCreateSchema)
    @blp.response(201, PregnancySchema)
    @blp.alt_response(409, description="A pregnancy is already ongoing")
    @login_required(Role.CITIZEN)
    def post(self, data: dict[str, Any]) -> Any:
        """Record a pregnancy from the LMP or from a given EDD."""
        user = _me()
        pregnancy = pregnancies.create_pregnancy(
            Session(), woman=user, actor=user, data=data, default_tz=default_tz()
        )
        return pregnancy, blp.etag(pregnancy.version)


def _pregnancy(pregnancy_id: uuid.UUID, action: Action) -> Pregnancy:
    """The pregnancy if the policy allows `action` on it; else 404."""
    session = Session()
    record = service.get_pregnancy(session, pregnancy_id=pregnancy_id)
    pregnancy: Pregnancy = authorize(session, _me(), action, record)
    return pregnancy


@blp.route("/pregnancies/<uuid:pregnancy_id>")
class PregnancyById(MethodView):
    @blp.response(200, PregnancySchema)
    @blp.alt_response(404, description="No such record, or not yours to see")
    @login_required(*CITIZEN_OR_DOCTOR)
    def get(self, pregnancy_id: uuid.UUID) -> Any:
        """One pregnancy, with its gestational age today and its dating history."""
        pregnancy = _pregnancy(pregnancy_id, Action.READ)
        return pregnancy, blp.etag(pregnancy.version)

    @blp.arguments(PregnancyPatchSchema)
    @blp.response(200, PregnancySchema)
    @blp.alt_response(409, description="The pregnancy is closed: its dating cannot change")
    @blp.checks_version
    @blp.alt_response(404, description="No such record, or not yours to see")
    @login_required(*CITIZEN_OR_DOCTOR)
    def patch(self, data: dict[str, Any], pregnancy_id: uuid.UUID) -> Any:
        """Correct the dating (an ultrasound, a corrected LMP or EDD) or the obstetric history."""
        pregnancy = _pregnancy(pregnancy_id, Action.WRITE)
        blp.check_if_match(pregnancy.version)
        pregnancies.update_pregnancy(
            Session(), pregnancy=pregnancy, actor=_me(), data=data, default_tz=default_tz()
        )
        return pregnancy, blp.etag(pregnancy.version)


@blp.route("/pregnancies/<uuid:pregnancy_id>/birth")
class PregnancyBirth(MethodView):
    @blp.arguments(BirthSchema)
    @blp.response(200, PregnancySchema)
    @blp.alt_response(409, description="The pregnancy is already closed")
    @blp.alt_response(404, description="No such record, or not yours to see")
    @login_required(*CITIZEN_OR_DOCTOR)
    def post(self, data: dict[str, Any], pregnancy_id: uuid.UUID) -> Any:
        """Record the birth: closes the pregnancy and creates one child per baby."""
        pregnancy = _pregnancy(pregnancy_id, Action.WRITE)
        pregnancies.record_birth(Session(), pregnancy=pregnancy, data=data, default_tz=default_tz())
        return pregnancy, blp.etag(pregnancy.version)


@blp.route("/pregnancies/<uuid:pregnancy_id>/end")
class PregnancyEnd(MethodView):
    @blp.arguments(EndSchema)
    @blp.response(200, PregnancySchema)
    @blp.alt_response(409, description="The pregnancy is already closed")
    @blp.alt_response(404, description="No such record, or not yours to see")
    @login_required(*CITIZEN_OR_DOCTOR)
    def post(self, data: dict[str, Any], pregnancy_id: uuid.UUID) -> Any:
        """Record that the pregnancy ended without a birth (loss or termination)."""
        pregnancy = _pregnancy(pregnancy_id, Action.WRITE)
        pregnancies.end_pregnancy(
            Session(), pregnancy=pregnancy, data=data, default_tz=default_tz()
        )
        return pregnancy, blp.etag(pregnancy.version)


# --- children ---------------------------------------------------------------------------------


@blp.route("/me/children")
class MyChildren(MethodView):
    @blp.arguments(PageArgsSchema, location="query")
    @blp.response(200, ChildPageSchema)
    @login_required(Role.CITIZEN)
    def get(self, args: dict[str, Any]) -> Any:
        """The children you are guardian of, the eldest first."""
        items, total = children.list_children(Session(), guardian=_me(), **args)
        return page(items, total=total, **args)

    @blp.arguments(ChildSchema)
    @blp.response(201, ChildSchema)
    @login_required(Role.CITIZEN)
    def post(self, data: dict[str, Any]) -> Any:
        """Enter a child born before you joined; you become its guardian."""
        child = children.create_child(Session(), guardian=_me(), data=data, default_tz=default_tz())
        return child, blp.etag(child.version)


def _child(child_id: uuid.UUID, action: Action) -> Child:
    """The child if the policy allows `action` on it; else 404."""
    session = Session()
    child: Child = authorize(session, _me(), action, service.get_child(session, child_id=child_id))
    return child


@blp.route("/children/<uuid:child_id>")
class ChildById(MethodView):
    @blp.response(200, ChildSchema)
    @blp.alt_response(404, description="No such record, or not yours to see")
    @login_required(*CITIZEN_OR_DOCTOR)
    def get(self, child_id: uuid.UUID) -> Any:
        """One child."""
        child = _child(child_id, Action.READ)
        return child, blp.etag(child.version)

    @blp.arguments(ChildPatchSchema(partial=True))
    @blp.response(200, ChildSchema)
    @blp.checks_version
    @blp.alt_response(404, description="No such record, or not yours to see")
    @login_required(*CITIZEN_OR_DOCTOR)
    def patch(self, data: dict[str, Any], child_id: uuid.UUID) -> Any:
        """Correct a child's facts."""
        child = _child(child_id, Action.WRITE)
        blp.check_if_match(child.version)
        children.update_child(
            Session(), child=child, actor=_me(), data=data, default_tz=default_tz()
        )
        return child, blp.etag(child.version)
