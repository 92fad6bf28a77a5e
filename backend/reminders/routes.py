"""The inbox, reminder preferences, mini-program opt-ins, dead letters, effectiveness and the
doctors' escalation list."""

from __future__ import annotations

import uuid
from typing import Any

from flask import current_app
from flask.views import MethodView

from backend import clock
from backend.api import Blueprint, PageArgsSchema, page
from backend.auth.models import Role, User
from backend.auth.policy import Action, audit, login_required, signed_in_user
from backend.care import service as care_service
from backend.db import Session
from backend.preamble import default_tz, request_locale
from backend.regimens import service as regimen_service
from backend.reminders import planning, preferences, rules, service
from backend.reminders.schemas import (
    EffectivenessSchema,
    EscalationPageSchema,
    NotificationPageSchema,
    NotificationQueryArgsSchema,
    NotificationSchema,
    OptInCreateSchema,
    OptInSchema,
    PeriodArgsSchema,
    PreferencesSchema,
    ReadAllSchema,
    ReminderPageSchema,
    ReminderSchema,
)
from backend.responses import conditional, json_response

blp = Blueprint(
    "reminders",
    __name__,
    url_prefix="/api/v1",
    description="Reminders: the in-app inbox, preferences, dead letters, effectiveness",
)

CITIZEN = Role.CITIZEN


_me = signed_in_user  # the route's login_required mark guarantees one


def replan_person(user: User) -> None:
    """Re-plan her step and regimen reminders (after her preferences changed)."""
    session = Session()
    tz = current_app.config["DEFAULT_TIMEZONE"]
    planning.plan_steps(
        session,
        person_ids={user.id},
        protocols=current_app.extensions["care.protocols"],
        rules=rules.load(),
        default_tz=tz,
    )
    planning.plan_regimens(
        session,
        regimens=regimen_service.active_regimens(session, user_ids=[user.id]),
        user_ids={user.id},
        rules=rules.load(),
        default_tz=tz,
    )


@blp.route("/me/notifications")
class MyNotifications(MethodView):
    @conditional
    @blp.arguments(NotificationQueryArgsSchema, location="query")
    @blp.response(200, NotificationPageSchema)
    @login_required(CITIZEN)
    def get(self, args: dict[str, Any]) -> Any:
        """Your in-app inbox, newest first, with the unread count."""
        rows, total, unread = service.inbox(Session(), user=_me(), **args)
        # Written directly: the same body as NotificationPageSchema's dump
        # (tests/test_hot_endpoints.py).
        return json_response(
            page(rows, total=total, page=args["page"], page_size=args["page_size"])
            | {"unread_count": unread}
        )


@blp.route("/me/notifications/<uuid:notification_id>/read")
class NotificationRead(MethodView):
    @blp.response(200, NotificationSchema)
    @blp.alt_response(404, description="No such notification")
    @login_required(CITIZEN)
    def post(self, notification_id: uuid.UUID) -> Any:
        """Mark a notification read."""
        return service.mark_read(Session(), user=_me(), notification_id=notification_id)


@blp.route("/me/notifications/read-all")
class NotificationsReadAll(MethodView):
    @blp.response(200, ReadAllSchema)
    @login_required(CITIZEN)
    def post(self) -> Any:
        """Mark every notification read."""
        return {"count": service.mark_all_read(Session(), user=_me())}


@blp.route("/me/reminder-preferences")
class MyPreferences(MethodView):
    @blp.response(200, PreferencesSchema)
    @login_required(CITIZEN)
    def get(self) -> Any:
        """Your channels in order, quiet hours, opt-outs and the time reminders are sent."""
        return preferences.get_preferences(Session(), user=_me(), rules=rules.load())

    @blp.arguments(PreferencesSchema)
    @blp.response(200, PreferencesSchema)
    @login_required(CITIZEN)
    def put(self, data: dict[str, Any]) -> Any:
        """Change your preferences; pending reminders are re-planned at once."""
        user = _me()
        prefs = preferences.set_preferences(Session(), user=user, rules=rules.load(), data=data)
        replan_person(user)
        return prefs


@blp.route("/me/miniprogram-subscriptions")
class MyOptIns(MethodView):
    @blp.response(200, OptInSchema(many=True))
    @login_required(CITIZEN)
    def get(self) -> Any:
        """The one-time subscription messages you granted, per template, still unused."""
        return service.opt_ins(Session(), user=_me())

    @blp.arguments(OptInCreateSchema)
    @blp.response(201, OptInSchema)
    @login_required(CITIZEN)
    def post(self, data: dict[str, Any]) -> Any:
        """Record subscription opt-ins the mini-program obtained (wx.requestSubscribeMessage)."""
        return service.grant_opt_ins(Session(), user=_me(), **data)


@blp.route("/reminders/dead-letters")
class DeadLetters(MethodView):
    @blp.arguments(PageArgsSchema, location="query")
    @blp.response(200, ReminderPageSchema)
    @login_required(Role.ADMIN)
    def get(self, args: dict[str, Any]) -> Any:
        """Reminders that failed every delivery attempt."""
        rows, total = service.dead_letters(Session(), **args)
        return page(rows, total=total, **args)


@blp.route("/reminders/<uuid:reminder_id>/requeue")
class Requeue(MethodView):
    @blp.response(200, ReminderSchema)
    @blp.alt_response(404, description="No such reminder")
    @blp.alt_response(409, description="Not a dead letter")
    @login_required(Role.ADMIN)
    def post(self, reminder_id: uuid.UUID) -> Any:
        """Send a dead letter again now."""
        return service.requeue(Session(), reminder_id=reminder_id)


@blp.route("/indicators/reminders")
class ReminderEffectiveness(MethodView):
    @blp.arguments(PeriodArgsSchema, location="query")
    @blp.response(200, EffectivenessSchema)
    @login_required(Role.ADMIN)
    def get(self, args: dict[str, Any]) -> Any:
        """Does it work? Steps done within {reminders:effect_window_days} days of a reminder, per kind, channel, institution."""  # noqa: E501  (one line: the OpenAPI summary)
        return service.effectiveness(Session(), since=args["from_"], until=args["to"])


@blp.route("/worklists/escalated")
class WorklistEscalated(MethodView):
    @blp.arguments(PageArgsSchema, location="query")
    @blp.response(200, EscalationPageSchema)
    @login_required(Role.DOCTOR)
    def get(self, args: dict[str, Any]) -> Any:
        """Steps still undone {reminders:steps.defaults.escalation.days} days after their due date: the families to call."""  # noqa: E501  (one line: the OpenAPI summary)
        session, doctor = Session(), _me()
        rows, total = service.escalated(session, doctor=doctor, **args)
        audit(session, doctor, Action.READ, record_type="Worklist")
        today = clock.today(None, default_tz())
        protocols, locale = current_app.extensions["care.protocols"], request_locale()
        items = []
        for escalation, step, patient in rows:
            view = care_service.step_view(step, protocols=protocols, locale=locale, today=today)
            view["patient"] = {"id": patient.id, "name": patient.name, "phone": patient.phone}
            view["escalated_at"] = escalation.created_at
            items.append(view)
        return page(items, total=total, **args)
