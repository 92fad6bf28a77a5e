"""Birth-defect surveillance over HTTP: doctors record, the family reads in plain words."""

from __future__ import annotations

import uuid
from typing import Any

from flask.views import MethodView

from backend.api import Blueprint
from backend.auth.models import Role
from backend.auth.policy import Action, audit, authorize, login_required, signed_in_user
from backend.db import Session
from backend.handbook import service as handbook
from backend.handbook.models import Child, Pregnancy
from backend.preamble import request_locale, today_of
from backend.surveillance import service
from backend.surveillance.content import categories
from backend.surveillance.schemas import (
    BirthDefectCreateSchema,
    BirthDefectSchema,
    CategoryListSchema,
    PrenatalDiagnosisCreateSchema,
    PrenatalDiagnosisSchema,
)

blp = Blueprint(
    "surveillance",
    __name__,
    url_prefix="/api/v1",
    description="Birth-defect surveillance (出生缺陷监测) and prenatal-diagnosis results",
)

CITIZEN_OR_DOCTOR = (Role.CITIZEN, Role.DOCTOR)
_me = signed_in_user


def _pregnancy(pregnancy_id: uuid.UUID, action: Action) -> Pregnancy:
    session = Session()
    record: Pregnancy = authorize(
        session, _me(), action, handbook.get_pregnancy(session, pregnancy_id=pregnancy_id)
    )
    return record


def _child(child_id: uuid.UUID, action: Action) -> Child:
    session = Session()
    record: Child = authorize(
        session, _me(), action, handbook.get_child(session, child_id=child_id)
    )
    return record


def _audit_write(record: Any) -> None:
    """Who wrote the surveillance record (besides the policy's row on the pregnancy/child)."""
    audit(
        Session(),
        _me(),
        Action.WRITE,
        record_type=type(record).__name__,
        record_id=record.id,
        owner_id=record.woman_id,
    )


@blp.route("/birth-defect-categories")
class Categories(MethodView):
    @blp.response(200, CategoryListSchema)
    @login_required()
    def get(self) -> Any:
        """The monitored birth-defect categories with their ICD-10 codes (content/surveillance)."""
        cats, locale = categories(), request_locale()
        return {
            "version": cats.version,
            "source": cats.source,
            "verified": cats.verified,
            "categories": [
                {
                    "code": c.code,
                    "number": c.number,
                    "icd10": list(c.icd10),
                    "title": c.title.get(locale, c.title["zh_CN"]),
                    "plain": c.plain.get(locale, c.plain["zh_CN"]),
                }
                for c in (*cats.items, cats.other)
            ],
        }


@blp.route("/children/<uuid:child_id>/birth-defects")
class ChildBirthDefects(MethodView):
    @blp.response(200, BirthDefectSchema(many=True))
    @blp.alt_response(404, description="No such record, or not yours to see")
    @login_required(*CITIZEN_OR_DOCTOR)
    def get(self, child_id: uuid.UUID) -> Any:
        """A child's birth defects, in plain words (guardians, shared partners, her doctors)."""
        child = _child(child_id, Action.READ)
        return [
            service.view(r, locale=request_locale())
            for r in service.for_child(Session(), child=child)
        ]

    @blp.arguments(BirthDefectCreateSchema)
    @blp.response(201, BirthDefectSchema)
    @blp.alt_response(404, description="No such record, or not a family of your institution")
    @login_required(Role.DOCTOR)
    def post(self, data: dict[str, Any], child_id: uuid.UUID) -> Any:
        """Record a birth defect of a live-born child (doctor of her institution)."""
        child = _child(child_id, Action.WRITE)
        record = service.record_for_child(
            Session(), child=child, actor=_me(), data=data, today=today_of(_me())
        )
        _audit_write(record)
        return service.view(record, locale=request_locale())


@blp.route("/pregnancies/<uuid:pregnancy_id>/birth-defects")
class PregnancyBirthDefects(MethodView):
    @blp.response(200, BirthDefectSchema(many=True))
    @blp.alt_response(404, description="No such record, or not yours to see")
    @login_required(*CITIZEN_OR_DOCTOR)
    def get(self, pregnancy_id: uuid.UUID) -> Any:
        """Defects found in pregnancy, in a stillbirth or a termination, in plain words."""
        pregnancy = _pregnancy(pregnancy_id, Action.READ)
        rows = service.for_pregnancy(Session(), pregnancy=pregnancy)
        return [service.view(r, locale=request_locale()) for r in rows]

    @blp.arguments(BirthDefectCreateSchema)
    @blp.response(201, BirthDefectSchema)
    @blp.alt_response(404, description="No such record, or not a family of your institution")
    @login_required(Role.DOCTOR)
    def post(self, data: dict[str, Any], pregnancy_id: uuid.UUID) -> Any:
        """Record a defect found in pregnancy, in a stillbirth or a termination (doctor)."""
        pregnancy = _pregnancy(pregnancy_id, Action.WRITE)
        record = service.record_for_pregnancy(
            Session(), pregnancy=pregnancy, actor=_me(), data=data, today=today_of(_me())
        )
        _audit_write(record)
        return service.view(record, locale=request_locale())


@blp.route("/pregnancies/<uuid:pregnancy_id>/prenatal-diagnoses")
class PrenatalDiagnoses(MethodView):
    @blp.response(200, PrenatalDiagnosisSchema(many=True))
    @blp.alt_response(404, description="No such record, or not yours to see")
    @login_required(*CITIZEN_OR_DOCTOR)
    def get(self, pregnancy_id: uuid.UUID) -> Any:
        """The pregnancy's prenatal-diagnosis results."""
        pregnancy = _pregnancy(pregnancy_id, Action.READ)
        return service.diagnoses(Session(), pregnancy=pregnancy)

    @blp.arguments(PrenatalDiagnosisCreateSchema)
    @blp.response(201, PrenatalDiagnosisSchema)
    @blp.alt_response(404, description="No such record, or not a family of your institution")
    @login_required(Role.DOCTOR)
    def post(self, data: dict[str, Any], pregnancy_id: uuid.UUID) -> Any:
        """Record a prenatal-diagnosis result (amniocentesis, CVS, cordocentesis...)."""
        pregnancy = _pregnancy(pregnancy_id, Action.WRITE)
        record = service.record_diagnosis(
            Session(), pregnancy=pregnancy, actor=_me(), data=data, today=today_of(_me())
        )
        _audit_write(record)
        return record
