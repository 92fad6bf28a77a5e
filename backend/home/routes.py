"""GET /me/home: the family client's first screen in one request."""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask.views import MethodView
from flask_babel import get_locale

from backend.api import Blueprint
from backend.auth.models import Role
from backend.auth.policy import login_required, signed_in_user
from backend.db import Session
from backend.home import service
from backend.home.schemas import HomeSchema
from backend.i18n import catalog_name

blp = Blueprint("home", __name__, url_prefix="/api/v1", description="The family's home screen")


@blp.route("/me/home")
class MyHome(MethodView):
    @blp.response(200, HomeSchema)
    @login_required(Role.CITIZEN)
    def get(self) -> Any:
        """Your first screen: stages, pregnancy week or children's ages, the next steps, today's
        folic acid, unread messages and a lesson for now — in one request."""
        return service.home(
            Session(),
            user=signed_in_user(),
            protocols=current_app.extensions["care.protocols"],
            folic_acid=current_app.extensions["regimens.folic_acid"],
            locale=catalog_name(get_locale()),
            default_tz=str(current_app.config["DEFAULT_TIMEZONE"]),
        )
