"""Liveness and readiness probes for the load balancer and the operator."""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask.views import MethodView
from marshmallow import fields
from sqlalchemy import text

from backend.api import Blueprint, Schema
from backend.db import Session
from backend.errors import DomainError
from backend.i18n import _l

blp = Blueprint("ops", __name__, url_prefix="", description="Health and readiness")


class HealthSchema(Schema):
    status = fields.String()
    checks = fields.Dict(
        keys=fields.String(),
        metadata={
            "description": "database, and what each domain reports (dispatcher lag, dead letters)."
        },
    )


class ServiceUnavailable(DomainError):
    status = 503


@blp.route("/healthz")
class Health(MethodView):
    @blp.response(200, HealthSchema)
    @blp.doc(security=[])
    def get(self) -> Any:
        """Liveness: the process answers."""
        return {"status": "ok", "checks": {}}


@blp.route("/readyz")
class Ready(MethodView):
    @blp.response(200, HealthSchema)
    @blp.alt_response(503, description="A dependency is down")
    @blp.doc(security=[])
    def get(self) -> Any:
        """Readiness: the database answers; domains add their own figures."""
        session = Session()
        try:
            session.execute(text("SELECT 1"))
        except Exception as exc:
            raise ServiceUnavailable(_l("The database is unreachable.")) from exc
        checks: dict[str, Any] = {"database": "ok"}
        for probe in current_app.extensions.get("readiness_probes", []):
            checks.update(probe(session))
        return {"status": "ok", "checks": checks}
