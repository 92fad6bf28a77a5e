"""Extensions created unbound and bound to the app in create_app."""

from __future__ import annotations

from flask_babel import Babel

from backend.api import Api

api = Api()
babel = Babel()
