"""What many routes need before calling a service: the default zone, the catalog locale and the
signed-in person's today. Routes call these instead of reading `current_app` and flask-babel."""

from __future__ import annotations

import datetime as dt

from flask import current_app
from flask_babel import get_locale

from backend import clock
from backend.clock import HasTimezone
from backend.i18n import catalog_name


def default_tz() -> str:
    """The city's zone (config DEFAULT_TIMEZONE), for people who set none."""
    return str(current_app.config["DEFAULT_TIMEZONE"])


def request_locale() -> str:
    """The catalog name of the request's locale (zh_CN or en), for texts kept as data."""
    return catalog_name(get_locale())


def today_of(person: HasTimezone) -> dt.date:
    """Today's date in the person's own time zone."""
    return clock.person_today(person, default_tz())
