"""Her schedule as iCalendar: under her bearer token, or at a secret URL phones subscribe to."""

from __future__ import annotations

from typing import Any

from flask import current_app, request, url_for
from flask.views import MethodView
from flask_babel import force_locale
from werkzeug.wrappers import Response

from backend.api import Blueprint
from backend.auth.models import Role, User
from backend.auth.policy import login_required, signed_in_user
from backend.calendars import service
from backend.calendars.schemas import ICS_DOC, CalendarFeedSchema
from backend.db import Session
from backend.i18n import SUPPORTED_LOCALES

blp = Blueprint(
    "calendars",
    __name__,
    url_prefix="/api/v1",
    description="Her schedule as a calendar file, and the secret feed URL phones subscribe to",
)

CITIZEN = Role.CITIZEN
ICS_MEDIA_TYPE = "text/calendar"
# Phones poll; the file is hers alone, so no shared cache may keep it.
CACHE_CONTROL = "private, max-age=300"


_me = signed_in_user  # the route's login_required mark guarantees one


def _ics(person: User) -> Response:
    """Render her calendar in her own language (not the caller's), with an ETag."""
    config = current_app.config
    locale = person.locale if person.locale in SUPPORTED_LOCALES else config["DEFAULT_LOCALE"]
    with force_locale(locale):
        body = service.calendar(
            Session(),
            person=person,
            protocols=current_app.extensions["care.protocols"],
            locale=locale,
            default_tz=config["DEFAULT_TIMEZONE"],
        )
    response = current_app.response_class(body, mimetype=ICS_MEDIA_TYPE)
    response.headers["Cache-Control"] = CACHE_CONTROL
    response.headers["Content-Disposition"] = 'inline; filename="calendar.ics"'
    response.add_etag()
    return response.make_conditional(request)


@blp.route("/me/calendar.ics")
class MyCalendar(MethodView):
    @blp.response(200, ICS_DOC, content_type=ICS_MEDIA_TYPE, description="iCalendar file")
    @blp.alt_response(304, description="Not modified (If-None-Match)")
    @login_required(CITIZEN)
    def get(self) -> Any:
        """Your schedule and your children's as an iCalendar file: all-day events with alarms."""
        return _ics(_me())


@blp.route("/me/calendar-feed")
class MyCalendarFeed(MethodView):
    @blp.response(201, CalendarFeedSchema)
    @login_required(CITIZEN)
    def post(self) -> Any:
        """Create or rotate your secret feed URL; the previous URL stops working at once."""
        feed, secret = service.issue(Session(), user=_me())
        url = url_for("calendars.CalendarFeedBySecret", secret=secret, _external=True)
        # The body holds a credential: no cache (nor the idempotency store) should keep it.
        return {"url": url, "rotated_at": feed.rotated_at}, {"Cache-Control": "no-store"}

    @blp.response(204)
    @login_required(CITIZEN)
    def delete(self) -> None:
        """Revoke your feed URL: it answers 404 from now on."""
        service.revoke(Session(), user=_me())


@blp.route("/calendar-feeds/<secret>.ics")
class CalendarFeedBySecret(MethodView):
    @blp.response(200, ICS_DOC, content_type=ICS_MEDIA_TYPE, description="iCalendar file")
    @blp.alt_response(304, description="Not modified (If-None-Match)")
    @blp.alt_response(404, description="Unknown, rotated or revoked feed")
    @blp.doc(security=[])
    def get(self, secret: str) -> Any:
        """A citizen's schedule for calendar apps: the secret in the URL is the credential."""
        return _ics(service.owner_of(Session(), secret=secret))
