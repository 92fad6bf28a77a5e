"""The folic acid regimen over HTTP: her plan, daily check-ins, adherence; a doctor's input."""

from __future__ import annotations

import dataclasses
import uuid
from typing import Any

from flask import current_app
from flask.views import MethodView

from backend import clock
from backend.api import Blueprint
from backend.auth.models import Role, User
from backend.auth.policy import (
    Action,
    authorize,
    authorize_owner,
    login_required,
    signed_in_user,
)
from backend.care import service as care_service
from backend.db import Session
from backend.errors import NotFound
from backend.i18n import _l
from backend.preamble import default_tz, request_locale
from backend.regimens import adherence, plans, service
from backend.regimens.folic_acid import FolicAcid
from backend.regimens.models import Regimen
from backend.regimens.schemas import (
    AdherenceQueryArgsSchema,
    CheckInCreateSchema,
    CheckInSchema,
    FolicAcidPutSchema,
    FolicAcidSchema,
    PatientRiskFactorsPutSchema,
    PatientRiskFactorsSchema,
    RegimenAdherenceSchema,
)

blp = Blueprint(
    "regimens",
    __name__,
    url_prefix="/api/v1",
    description="Daily regimens: folic acid before and in early pregnancy, with check-ins",
)

CITIZEN, DOCTOR = Role.CITIZEN, Role.DOCTOR


_me = signed_in_user  # the route's login_required mark guarantees one


def _content() -> FolicAcid:
    return current_app.extensions["regimens.folic_acid"]  # type: ignore[no-any-return]


def _my_regimen(action: Action) -> Regimen:
    """Her active or latest folic acid regimen, through the policy; 404 when she has none."""
    session, user = Session(), _me()
    regimen = service.latest(session, user_id=user.id)
    if regimen is None:
        raise NotFound(_l("You have no folic acid regimen yet: record your plan first."))
    return authorize(session, user, action, regimen)  # type: ignore[no-any-return]


def _overview(regimen: Regimen) -> dict[str, Any]:
    return adherence.overview(
        Session(),
        regimen=regimen,
        content=_content(),
        locale=request_locale(),
        default_tz=default_tz(),
    )


@blp.route("/me/regimens/folic-acid")
class MyFolicAcid(MethodView):
    @blp.response(200, FolicAcidSchema)
    @blp.alt_response(404, description="No folic acid regimen yet")
    @login_required(CITIZEN)
    def get(self) -> Any:
        """Your folic acid regimen: dose, today's check-in, adherence and streaks."""
        return _overview(_my_regimen(Action.READ))

    @blp.arguments(FolicAcidPutSchema)
    @blp.response(200, FolicAcidSchema)
    @blp.alt_response(409, description="Pregnant past the first trimester: nothing to start")
    @login_required(CITIZEN)
    def put(self, data: dict[str, Any]) -> Any:
        """Record or change your plan: the planned date, the reminder time, your risk factors."""
        session, user = Session(), _me()
        regimen = plans.save_plan(
            session, woman=user, data=data, content=_content(), default_tz=default_tz()
        )
        if data.get("planned_pregnancy_on"):
            # One plan: the same date plans her pre-pregnancy checks (孕前优生健康检查).
            care_service.set_options(
                session,
                subject=care_service.woman_subject(user),
                vaccine_choices=None,
                flags=None,
                anchors={"plan_date": data["planned_pregnancy_on"]},
                protocols=current_app.extensions["care.protocols"],
                default_tz=default_tz(),
            )
        return _overview(authorize(session, user, Action.WRITE, regimen))


@blp.route("/me/regimens/folic-acid/check-ins")
class MyFolicAcidCheckIns(MethodView):
    @blp.arguments(CheckInCreateSchema)
    @blp.response(201, CheckInSchema)
    @blp.alt_response(404, description="No folic acid regimen yet")
    @login_required(CITIZEN)
    def post(self, data: dict[str, Any]) -> Any:
        """Tick off a day (today by default); answering again for a day changes the answer."""
        regimen = _my_regimen(Action.WRITE)
        return adherence.check_in(
            Session(),
            regimen=regimen,
            on=data.get("on"),
            taken=data["taken"],
            default_tz=default_tz(),
        )


@blp.route("/me/regimens/folic-acid/adherence")
class MyFolicAcidAdherence(MethodView):
    @blp.arguments(AdherenceQueryArgsSchema, location="query")
    @blp.response(200, RegimenAdherenceSchema)
    @blp.alt_response(404, description="No folic acid regimen yet")
    @login_required(CITIZEN)
    def get(self, args: dict[str, Any]) -> Any:
        """Days taken over a period of your regimen (all of it by default), and streaks."""
        regimen = _my_regimen(Action.READ)
        result = adherence.adherence(
            Session(),
            regimen=regimen,
            since=args.get("from_"),
            until=args.get("to"),
            today=clock.person_today(regimen.user, default_tz()),
        )
        return {"regimen_id": regimen.id, **dataclasses.asdict(result)}


@blp.route("/patients/<uuid:patient_id>/regimens/folic-acid")
class PatientFolicAcid(MethodView):
    @blp.arguments(PatientRiskFactorsPutSchema)
    @blp.response(200, PatientRiskFactorsSchema)
    @blp.alt_response(404, description="No such patient, or not yours to see")
    @login_required(DOCTOR)
    def put(self, data: dict[str, Any], patient_id: uuid.UUID) -> Any:
        """Record a patient's folic acid risk factors; her active regimen takes the new tier."""
        session = Session()
        woman = authorize_owner(session, _me(), Action.WRITE, session.get(User, patient_id))
        record, regimen = plans.set_risk_factors(
            session,
            woman=woman,
            actor=_me(),
            codes=data["risk_factors"],
            content=_content(),
            default_tz=default_tz(),
        )
        tier = _content().tier_for(record.codes)
        return {
            "patient_id": woman.id,
            "risk_factors": record.codes,
            "tier": tier.code,
            "dose": tier.dose_in(request_locale()),
            "ask_doctor": tier.ask_doctor,
            "regimen_id": regimen.id if regimen else None,
            "updated_at": record.updated_at,
        }
