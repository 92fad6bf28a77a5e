"""Calendar feeds: her schedule as an iCalendar file, behind a secret URL phones can poll.

Phone calendars subscribe to a URL and cannot send a bearer token, so the feed has its own
credential: a 256-bit secret in the path, stored only as its SHA-256, rotated or revoked by
her at any time. The same file is served to the app itself under her bearer token.
"""

from __future__ import annotations

from flask import Flask

from backend.api import Api
from backend.calendars import routes


def init_app(app: Flask, api: Api) -> None:
    """Register the blueprint."""
    api.register_blueprint(routes.blp)
