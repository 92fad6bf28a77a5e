"""Schedules, results, not-done, risk grades, care options, home measurements, worklists."""

from __future__ import annotations

import dataclasses
import uuid
from typing import Any

from flask import current_app
from flask.views import MethodView

from backend import clock
from backend.api import Blueprint, PageArgsSchema, page
from backend.auth.models import Role, User
from backend.auth.policy import (
    Action,
    audit,
    authorize,
    authorize_owner,
    login_required,
    signed_in_user,
)
from backend.care import service
from backend.care.models import CareStep
from backend.care.protocols import ProtocolSet
from backend.care.schemas import (
    CareOptionsSchema,
    ChildCareOptionsSchema,
    HighRiskPageSchema,
    MeasurementCreateSchema,
    MeasurementPageSchema,
    MeasurementQueryArgsSchema,
    MeasurementSchema,
    NotDoneSchema,
    PregnancyCareOptionsSchema,
    ResultCreateSchema,
    RiskAssessmentCreateSchema,
    RiskAssessmentSchema,
    ScheduleQueryArgsSchema,
    StepDetailSchema,
    StepPageSchema,
    UngradedPageSchema,
    WomanCareDatesSchema,
    WorklistQueryArgsSchema,
    WorklistStepPageSchema,
)
from backend.db import Session
from backend.handbook import dating
from backend.handbook import service as handbook_service
from backend.handbook.models import Child, Pregnancy
from backend.preamble import default_tz, request_locale, today_of
from backend.responses import conditional, json_response, not_modified, version_etag

blp = Blueprint(
    "care",
    __name__,
    url_prefix="/api/v1",
    description="Care schedules from cited protocols, results, risk grades and worklists",
)

CITIZEN, DOCTOR = Role.CITIZEN, Role.DOCTOR


_me = signed_in_user  # the route's login_required mark guarantees one


def _protocols() -> ProtocolSet:
    return current_app.extensions["care.protocols"]  # type: ignore[no-any-return]


def _views(steps: list[CareStep], today: Any, *, compact: bool = False) -> list[dict[str, Any]]:
    protocols, locale = _protocols(), request_locale()
    return [
        service.step_view(s, protocols=protocols, locale=locale, today=today, compact=compact)
        for s in steps
    ]


def _schedule_page(person: User, args: dict[str, Any], *, etag: bool = False) -> Any:
    """A page of her schedule; `etag` (under @conditional): a poll whose If-None-Match holds
    the version of the rows read is answered 304 before any step is rendered."""
    today, locale, compact = today_of(person), request_locale(), args["view"] == "compact"
    status = args.get("status")
    steps, total = service.schedule(
        Session(),
        person=person,
        today=today,
        page=args["page"],
        page_size=args["page_size"],
        subject_id=args.get("subject"),
        status=status.split(",") if status else None,
        since=args.get("from_"),
        until=args.get("to"),
        compact=compact,
    )
    if etag:
        not_modified(
            version_etag(
                service.page_version(steps, total, compact=compact),
                today,
                locale,
                args["page"],
                args["page_size"],
                _protocols().version,
            )
        )
    protocols = _protocols()
    views = [
        service.step_view(s, protocols=protocols, locale=locale, today=today, compact=compact)
        for s in steps
    ]
    # Written directly: the same body as StepPageSchema's dump (tests/test_hot_endpoints.py).
    return json_response(page(views, total=total, page=args["page"], page_size=args["page_size"]))


@blp.route("/me/schedule")
class MySchedule(MethodView):
    @conditional
    @blp.arguments(ScheduleQueryArgsSchema, location="query")
    @blp.response(200, StepPageSchema)
    @login_required(CITIZEN)
    def get(self, args: dict[str, Any]) -> Any:
        """Your schedule and your children's: each step with its window and status.

        Compact by default (what a list shows); `view=full` adds why, source and reason, which
        GET /care-steps/{id} always has. Answers 304 to a matching If-None-Match."""
        return _schedule_page(_me(), args, etag=True)


@blp.route("/patients/<uuid:patient_id>/schedule")
class PatientSchedule(MethodView):
    @blp.arguments(ScheduleQueryArgsSchema, location="query")
    @blp.response(200, StepPageSchema)
    @blp.alt_response(404, description="No such patient, or not yours to see")
    @login_required(DOCTOR, CITIZEN)
    def get(self, args: dict[str, Any], patient_id: uuid.UUID) -> Any:
        """A patient's schedule (her doctor; a partner she shared her schedule with)."""
        session = Session()
        person = authorize_owner(
            session, _me(), Action.READ, session.get(User, patient_id), scope="schedule"
        )
        return _schedule_page(person, args)


def _step(step_id: uuid.UUID, action: Action) -> CareStep:
    """The step if the policy allows `action` on it; else 404."""
    session = Session()
    step: CareStep = authorize(session, _me(), action, service.get_step(session, step_id=step_id))
    return step


def _pregnancy(pregnancy_id: uuid.UUID, action: Action) -> Pregnancy:
    """The pregnancy if the policy allows `action` on it; else 404."""
    session = Session()
    record = handbook_service.get_pregnancy(session, pregnancy_id=pregnancy_id)
    pregnancy: Pregnancy = authorize(session, _me(), action, record)
    return pregnancy


def _child(child_id: uuid.UUID, action: Action) -> Child:
    """The child if the policy allows `action` on it; else 404."""
    session = Session()
    child: Child = authorize(
        session, _me(), action, handbook_service.get_child(session, child_id=child_id)
    )
    return child


def _detail(step: CareStep) -> dict[str, Any]:
    session = Session()
    person = session.get(User, step.person_id)
    assert person is not None
    view = service.step_view(
        step, protocols=_protocols(), locale=request_locale(), today=today_of(person), detail=True
    )
    view["results"], view["window_history"] = service.step_history(session, step=step)
    return view


@blp.route("/care-steps/<uuid:step_id>")
class StepById(MethodView):
    @blp.response(200, StepDetailSchema)
    @blp.alt_response(404, description="No such step, or not yours to see")
    @login_required(CITIZEN, DOCTOR)
    def get(self, step_id: uuid.UUID) -> Any:
        """One step with its results and the history of its window."""
        return _detail(_step(step_id, Action.READ))


@blp.route("/care-steps/<uuid:step_id>/results")
class StepResults(MethodView):
    @blp.arguments(ResultCreateSchema)
    @blp.response(201, StepDetailSchema)
    @blp.alt_response(404, description="No such step, or not yours to see")
    @blp.alt_response(409, description="The step was cancelled")
    @login_required(DOCTOR)
    def post(self, data: dict[str, Any], step_id: uuid.UUID) -> Any:
        """Log a result: typed values checked against the protocol; abnormal adds follow-ups."""
        step = _step(step_id, Action.WRITE)
        person = Session().get_one(User, step.person_id)
        service.log_result(
            Session(),
            step=step,
            actor=_me(),
            protocols=_protocols(),
            default_tz=default_tz(),
            today=today_of(person),
            **data,
        )
        return _detail(step)


@blp.route("/care-steps/<uuid:step_id>/not-done")
class StepNotDone(MethodView):
    @blp.arguments(NotDoneSchema)
    @blp.response(200, StepDetailSchema)
    @blp.alt_response(404, description="No such step, or not yours to see")
    @blp.alt_response(409, description="The step already has a result")
    @login_required(CITIZEN, DOCTOR)
    def post(self, data: dict[str, Any], step_id: uuid.UUID) -> Any:
        """Mark a step not done: declined, or done elsewhere (with the date)."""
        step = _step(step_id, Action.WRITE)
        person = Session().get_one(User, step.person_id)
        service.mark_not_done(
            Session(),
            step=step,
            protocols=_protocols(),
            default_tz=default_tz(),
            today=today_of(person),
            reason=data["reason"],
            done_on=data.get("done_on"),
            note=data.get("note"),
        )
        return _detail(step)


@blp.route("/pregnancies/<uuid:pregnancy_id>/risk-assessments")
class PregnancyRisk(MethodView):
    @blp.response(200, RiskAssessmentSchema(many=True))
    @blp.alt_response(404, description="No such record, or not yours to see")
    @login_required(CITIZEN, DOCTOR)
    def get(self, pregnancy_id: uuid.UUID) -> Any:
        """The risk grades of a pregnancy, newest first."""
        pregnancy = _pregnancy(pregnancy_id, Action.READ)
        return service.risk_history(Session(), pregnancy=pregnancy)

    @blp.arguments(RiskAssessmentCreateSchema)
    @blp.response(201, RiskAssessmentSchema)
    @blp.alt_response(404, description="No such record, or not yours to see")
    @blp.alt_response(409, description="The pregnancy is closed")
    @login_required(DOCTOR)
    def post(self, data: dict[str, Any], pregnancy_id: uuid.UUID) -> Any:
        """Record the five-colour risk grade; orange/red/purple add case management steps."""
        pregnancy = _pregnancy(pregnancy_id, Action.WRITE)
        return service.assess_risk(
            Session(),
            pregnancy=pregnancy,
            actor=_me(),
            protocols=_protocols(),
            default_tz=default_tz(),
            today=today_of(pregnancy.woman),
            colours=data["colours"],
            conditions=data["conditions"],
            assessed_on=data["assessed_on"],
            note=data.get("note"),
        )


@blp.route("/children/<uuid:child_id>/care-options")
class ChildCareOptions(MethodView):
    @blp.arguments(ChildCareOptionsSchema)
    @blp.response(200, CareOptionsSchema)
    @blp.alt_response(404, description="No such record, or not yours to see")
    @login_required(CITIZEN, DOCTOR)
    def patch(self, data: dict[str, Any], child_id: uuid.UUID) -> Any:
        """Choose vaccine alternatives (JE-L or JE-I...) and record flags; re-plans the child."""
        session, child = Session(), _child(child_id, Action.WRITE)
        return service.set_options(
            session,
            subject=service.child_subject(session, child),
            vaccine_choices=data.get("vaccine_choices"),
            flags=data.get("flags"),
            anchors=None,
            protocols=_protocols(),
            default_tz=default_tz(),
        )


@blp.route("/pregnancies/<uuid:pregnancy_id>/care-options")
class PregnancyCareOptions(MethodView):
    @blp.arguments(PregnancyCareOptionsSchema)
    @blp.response(200, CareOptionsSchema)
    @blp.alt_response(404, description="No such record, or not yours to see")
    @login_required(CITIZEN, DOCTOR)
    def patch(self, data: dict[str, Any], pregnancy_id: uuid.UUID) -> Any:
        """Record a pregnancy's flags (a previous baby with a birth defect); re-plans it."""
        pregnancy = _pregnancy(pregnancy_id, Action.WRITE)
        return service.set_options(
            Session(),
            subject=service.pregnancy_subject(pregnancy),
            vaccine_choices=None,
            flags=data["flags"],
            anchors=None,
            protocols=_protocols(),
            default_tz=default_tz(),
        )


@blp.route("/me/care-dates")
class MyCareDates(MethodView):
    @blp.arguments(WomanCareDatesSchema)
    @blp.response(200, CareOptionsSchema)
    @login_required(CITIZEN)
    def put(self, data: dict[str, Any]) -> Any:
        """Record when you plan a pregnancy (or married): plans the pre-pregnancy checks."""
        user = _me()
        return service.set_care_dates(
            Session(),
            woman=user,
            dates=data,
            today=today_of(user),
            protocols=_protocols(),
            default_tz=default_tz(),
        )


@blp.route("/me/measurements")
class MyMeasurements(MethodView):
    @blp.arguments(MeasurementQueryArgsSchema, location="query")
    @blp.response(200, MeasurementPageSchema)
    @login_required(CITIZEN)
    def get(self, args: dict[str, Any]) -> Any:
        """Your home measurements, newest first."""
        rows, total = service.measurements(Session(), person=_me(), **args)
        return page(rows, total=total, page=args["page"], page_size=args["page_size"])

    @blp.arguments(MeasurementCreateSchema)
    @blp.response(201, MeasurementSchema)
    @login_required(CITIZEN)
    def post(self, data: dict[str, Any]) -> Any:
        """Log a home measurement (weight, blood pressure, fetal movements); self-reported."""
        session, user = Session(), _me()
        subject = service.woman_subject(user)
        if data.get("pregnancy_id"):
            pregnancy = _pregnancy(data["pregnancy_id"], Action.WRITE)
            subject = service.pregnancy_subject(pregnancy)
        return service.record_measurement(
            session,
            subject=subject,
            actor=user,
            kind=data["kind"],
            values=data["values"],
            measured_at=data["measured_at"],
        )


@blp.route("/patients/<uuid:patient_id>/measurements")
class PatientMeasurements(MethodView):
    @blp.arguments(MeasurementQueryArgsSchema, location="query")
    @blp.response(200, MeasurementPageSchema)
    @blp.alt_response(404, description="No such patient, or not yours to see")
    @login_required(DOCTOR)
    def get(self, args: dict[str, Any], patient_id: uuid.UUID) -> Any:
        """A patient's home measurements (marked self-reported)."""
        session = Session()
        person = authorize_owner(session, _me(), Action.READ, session.get(User, patient_id))
        rows, total = service.measurements(session, person=person, **args)
        return page(rows, total=total, page=args["page"], page_size=args["page_size"])


# --- worklists ----------------------------------------------------------------------------------


def _worklist_items(rows: list[tuple[CareStep, User]], today: Any) -> list[dict[str, Any]]:
    views = _views([step for step, _ in rows], today)
    for view, (step, patient) in zip(views, rows, strict=True):
        view["patient"] = {"id": patient.id, "name": patient.name, "phone": patient.phone}
        view["days_overdue"] = (today - step.due_on).days if today > step.due_on else None
    return views


def _worklist(finder: Any, args: dict[str, Any], *, dated: bool = True) -> dict[str, Any]:
    today = clock.today(None, default_tz())
    extra = {"today": today} if dated else {}
    session, doctor = Session(), _me()
    rows, total = finder(session, doctor=doctor, **extra, **args)
    audit(session, doctor, Action.READ, record_type="Worklist")
    return page(
        _worklist_items(rows, today), total=total, page=args["page"], page_size=args["page_size"]
    )


@blp.route("/worklists/due")
class WorklistDue(MethodView):
    @blp.arguments(WorklistQueryArgsSchema, location="query")
    @blp.response(200, WorklistStepPageSchema)
    @login_required(DOCTOR)
    def get(self, args: dict[str, Any]) -> Any:
        """Steps of your institution's patients due this week, soonest deadline first."""
        return _worklist(service.worklist_due, args)


@blp.route("/worklists/overdue")
class WorklistOverdue(MethodView):
    @blp.arguments(WorklistQueryArgsSchema, location="query")
    @blp.response(200, WorklistStepPageSchema)
    @login_required(DOCTOR)
    def get(self, args: dict[str, Any]) -> Any:
        """Overdue steps whose window is still open, the longest overdue first."""
        return _worklist(service.worklist_overdue, args)


@blp.route("/worklists/abnormal")
class WorklistAbnormal(MethodView):
    @blp.arguments(WorklistQueryArgsSchema, location="query")
    @blp.response(200, WorklistStepPageSchema)
    @login_required(DOCTOR)
    def get(self, args: dict[str, Any]) -> Any:
        """Abnormal and critical results whose follow-up is not done, critical first."""
        return _worklist(service.worklist_abnormal, args, dated=False)


@blp.route("/worklists/high-risk")
class WorklistHighRisk(MethodView):
    @blp.arguments(PageArgsSchema, location="query")
    @blp.response(200, HighRiskPageSchema)
    @login_required(DOCTOR)
    def get(self, args: dict[str, Any]) -> Any:
        """Ongoing pregnancies graded orange, red or purple (专案管理), red first."""
        session, doctor = Session(), _me()
        rows, total = service.worklist_high_risk(session, doctor=doctor, **args)
        audit(session, doctor, Action.READ, record_type="Worklist")
        items = [
            {
                "patient": {"id": woman.id, "name": woman.name, "phone": woman.phone},
                "pregnancy_id": pregnancy.id,
                "edd": pregnancy.edd,
                "gestational_age": dataclasses.asdict(
                    dating.gestational_age(pregnancy.edd, today_of(woman))
                ),
                "risk": risk,
            }
            for pregnancy, woman, risk in rows
        ]
        return page(items, total=total, page=args["page"], page_size=args["page_size"])


@blp.route("/worklists/ungraded")
class WorklistUngraded(MethodView):
    @blp.arguments(PageArgsSchema, location="query")
    @blp.response(200, UngradedPageSchema)
    @login_required(DOCTOR)
    def get(self, args: dict[str, Any]) -> Any:
        """Ongoing pregnancies past 13 weeks without a risk grade (late booking), oldest first."""
        session, doctor = Session(), _me()
        rows, total = service.worklist_ungraded(
            session,
            doctor=doctor,
            today=clock.today(None, default_tz()),
            protocols=_protocols(),
            **args,
        )
        audit(session, doctor, Action.READ, record_type="Worklist")
        items = [
            {
                "patient": {"id": woman.id, "name": woman.name, "phone": woman.phone},
                "pregnancy_id": pregnancy.id,
                "edd": pregnancy.edd,
                "gestational_age": dataclasses.asdict(
                    dating.gestational_age(pregnancy.edd, today_of(woman))
                ),
            }
            for pregnancy, woman in rows
        ]
        return page(items, total=total, page=args["page"], page_size=args["page_size"])
