"""Family benefits (leave, nursing time, the childcare subsidy) for her births and losses."""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask.views import MethodView

from backend.api import Blueprint
from backend.auth.models import Role
from backend.auth.policy import login_required, signed_in_user
from backend.benefits import service
from backend.benefits.schemas import BenefitsQueryArgsSchema, BenefitsSchema
from backend.db import Session
from backend.preamble import request_locale, today_of

blp = Blueprint(
    "benefits",
    __name__,
    url_prefix="/api/v1",
    description="Maternity, paternity and parental leave, nursing time and the childcare subsidy",
)


@blp.route("/me/benefits")
class MyBenefits(MethodView):
    @blp.arguments(BenefitsQueryArgsSchema, location="query")
    @blp.response(200, BenefitsSchema)
    @login_required(Role.CITIZEN)
    def get(self, args: dict[str, Any]) -> Any:
        """Maternity, paternity and parental leave, nursing time and the childcare subsidy."""
        user = signed_in_user()
        planned = service.planned_birth(args)
        return service.benefits(
            Session(),
            woman=user,
            rules=current_app.extensions["benefits.rules"],
            today=today_of(user),
            locale=request_locale(),
            planned=planned,
        )
