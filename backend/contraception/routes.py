"""Contraception advice for her stage (WHO MEC), methods and facts on record."""

from __future__ import annotations

import uuid
from typing import Any

from flask import current_app
from flask.views import MethodView

from backend.api import Blueprint
from backend.auth.models import Role, User
from backend.auth.policy import (
    Action,
    authorize,
    authorize_owner,
    login_required,
    signed_in_user,
)
from backend.contraception import service
from backend.contraception.models import MethodRecord
from backend.contraception.schemas import (
    AdviceSchema,
    FactsOutSchema,
    FactsSchema,
    MethodCreateSchema,
    MethodSchema,
    MethodStopSchema,
)
from backend.db import Session
from backend.i18n import _l
from backend.localized import plain
from backend.preamble import default_tz, request_locale, today_of

blp = Blueprint(
    "contraception",
    __name__,
    url_prefix="/api/v1",
    description="Contraception guidance (WHO MEC 2015) and IUD follow-up",
)

CITIZEN, DOCTOR = Role.CITIZEN, Role.DOCTOR


_me = signed_in_user  # the route's login_required mark guarantees one


def _ctx(person: User) -> dict[str, Any]:
    return {
        "table": current_app.extensions["contraception.table"],
        "protocols": current_app.extensions["care.protocols"],
        "default_tz": default_tz(),
        "today": today_of(person),
    }


def _advice(person: User, *, full: bool) -> dict[str, Any]:
    session, ctx = Session(), _ctx(person)
    if service.is_pregnant(session, woman=person):
        # The eligibility table has no rows for pregnancy: advice is for after the birth, and
        # the schedule already has the counselling steps of late pregnancy.
        return {
            "methods": [],
            "services": [],
            "missing_facts": [],
            "questions": [],
            "edition": ctx["table"].edition,
            "locale": request_locale(),
            "current_methods": [],
            "status": "pregnant",
            "note": _l(
                "While you are pregnant there is nothing to choose yet: your doctor "
                "talks contraception with you at the late antenatal visits."
            ),
        }
    assessment = service.assess(
        session,
        woman=person,
        table=ctx["table"],
        today=ctx["today"],
        locale=request_locale(),
    )
    body = plain(assessment, assessment.locale)
    if not full:
        # Her view: the options and why; the doctor's view adds every matching row.
        for method in body["methods"]:
            method.pop("possible", None)
            method["reasons"] = [
                {
                    "code": r["code"],
                    "title": r["title"],
                    "category": r["category"],
                    "verified": r["verified"],
                }
                for r in method["reasons"]
            ]
    body["current_methods"] = service.current_methods(session, woman=person)
    body["status"] = "assessed"
    return dict(body)


@blp.route("/me/contraception")
class MyContraception(MethodView):
    @blp.response(200, AdviceSchema)
    @login_required(CITIZEN)
    def get(self) -> Any:
        """Methods for you now, each with its WHO MEC category, the reason and free services."""
        return _advice(_me(), full=False)


@blp.route("/me/contraception/facts")
class MyContraceptionFacts(MethodView):
    @blp.arguments(FactsSchema)
    @blp.response(200, FactsOutSchema)
    @login_required(CITIZEN)
    def put(self, data: dict[str, Any]) -> Any:
        """Tell the app what it needs to know: breastfeeding, smoking, conditions, last period."""
        user = _me()
        return service.set_facts(Session(), woman=user, actor=user, data=data, **_ctx(user))


@blp.route("/patients/<uuid:patient_id>/contraception")
class PatientContraception(MethodView):
    @blp.response(200, AdviceSchema)
    @blp.alt_response(404, description="No such patient at your institution")
    @login_required(DOCTOR)
    def get(self, patient_id: uuid.UUID) -> Any:
        """A patient's contraception advice with the full reasoning (every matching condition)."""
        session = Session()
        patient = authorize_owner(session, _me(), Action.READ, session.get(User, patient_id))
        return _advice(patient, full=True)

    @blp.arguments(MethodCreateSchema)
    @blp.response(201, MethodSchema)
    @blp.alt_response(404, description="No such patient at your institution")
    @blp.alt_response(409, description="An IUD is already in place")
    @login_required(DOCTOR)
    def post(self, data: dict[str, Any], patient_id: uuid.UUID) -> Any:
        """Record a method she started; an IUD schedules its follow-up checks."""
        session = Session()
        patient = authorize_owner(session, _me(), Action.WRITE, session.get(User, patient_id))
        return service.record_method(session, woman=patient, actor=_me(), **data, **_ctx(patient))


@blp.route("/patients/<uuid:patient_id>/contraception/facts")
class PatientContraceptionFacts(MethodView):
    @blp.arguments(FactsSchema)
    @blp.response(200, FactsOutSchema)
    @blp.alt_response(404, description="No such patient at your institution")
    @login_required(DOCTOR)
    def put(self, data: dict[str, Any], patient_id: uuid.UUID) -> Any:
        """Record a patient's conditions and facts (blood pressure, migraine, VTE history...)."""
        session = Session()
        patient = authorize_owner(session, _me(), Action.WRITE, session.get(User, patient_id))
        return service.set_facts(session, woman=patient, actor=_me(), data=data, **_ctx(patient))


@blp.route("/contraception-methods/<uuid:record_id>/stop")
class StopMethod(MethodView):
    @blp.arguments(MethodStopSchema)
    @blp.response(200, MethodSchema)
    @blp.alt_response(404, description="No such record, or not yours to see")
    @login_required(DOCTOR, CITIZEN)
    def post(self, data: dict[str, Any], record_id: uuid.UUID) -> Any:
        """Record that a method stopped (an IUD removed): its pending follow-ups are cancelled."""
        session = Session()
        record = authorize(session, _me(), Action.WRITE, session.get(MethodRecord, record_id))
        woman = session.get(User, record.woman_id)
        ctx = _ctx(woman)  # type: ignore[arg-type]
        return service.stop_method(session, record=record, ended_on=data["ended_on"], **ctx)
