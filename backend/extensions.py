"""Extensions created unbound and bound to the app in create_app."""

from __future__ import annotations

from backend.api import Api
from backend.i18n import CatalogBabel

api = Api()
babel = CatalogBabel()
