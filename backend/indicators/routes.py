"""The bureau's indicators over HTTP: definitions, tables (JSON or CSV), the monthly report.

Admins read every district; a health-bureau account (role `bureau`, created by an admin with
its districts) reads its own. Outputs hold counts, never people; every read is audited.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Response, current_app
from flask.views import MethodView

from backend import clock
from backend.api import Blueprint
from backend.auth.models import Role
from backend.auth.policy import Action, aggregate_districts, audit, login_required, signed_in_user
from backend.db import Session
from backend.indicators import report, service
from backend.indicators.schemas import (
    IndicatorQueryArgsSchema,
    IndicatorSchema,
    IndicatorTableSchema,
    MonthlyReportArgsSchema,
    OverviewArgsSchema,
    OverviewSchema,
)
from backend.preamble import request_locale

blp = Blueprint(
    "indicators",
    __name__,
    url_prefix="/api/v1",
    description="The health bureau's indicators: counts by district, institution and month, "
    "with 95% Wilson intervals, targets and small-cell suppression (admin, bureau)",
)

READERS = (Role.ADMIN, Role.BUREAU)


def _clock() -> tuple[dt.date, int]:
    """Today in the city's time zone and that zone's offset from UTC in minutes."""
    tz = str(current_app.config["DEFAULT_TIMEZONE"])
    now = clock.now().astimezone(clock.zone(tz))
    offset = now.utcoffset() or dt.timedelta(0)
    return now.date(), int(offset.total_seconds() // 60)


@blp.route("/indicators")
class Indicators(MethodView):
    @blp.response(200, IndicatorSchema(many=True))
    @login_required(*READERS)
    def get(self) -> Any:
        """The indicator definitions: what each counts, its period rule, target and source."""
        return service.list_(locale=request_locale())


@blp.route("/indicators/overview")
class Overview(MethodView):
    @blp.arguments(OverviewArgsSchema, location="query")
    @blp.response(200, OverviewSchema)
    @blp.alt_response(404, description="A district that is not yours")
    @login_required(*READERS)
    def get(self, args: dict[str, Any]) -> Any:
        """Every indicator at once: its total and each district's cells, target, met or not.

        One request for the bureau's overview; the same counts, suppression and placement as
        `GET /indicators/{code}?by=district`. Audited as one read.
        """
        session, actor = Session(), signed_in_user()
        today, offset = _clock()
        body = service.overview(
            session,
            since=args["from_"],
            until=args["to"],
            district=args.get("district"),
            allowed=aggregate_districts(session, actor),
            today=today,
            offset_minutes=offset,
            locale=request_locale(),
        )
        audit(session, actor, Action.READ, record_type="Indicator")
        return body


@blp.route("/indicators/<code>")
class IndicatorByCode(MethodView):
    @blp.arguments(IndicatorQueryArgsSchema, location="query")
    @blp.response(
        200,
        IndicatorTableSchema,
        description="The table as JSON; with format=csv the same rows as text/csv.",
    )
    @blp.alt_response(404, description="No such indicator, or a district that is not yours")
    @login_required(*READERS)
    def get(self, args: dict[str, Any], code: str) -> Any:
        """One indicator by district, institution or month: counts, rate, 95% CI, target met.

        Rows are placed where the woman was registered (建册) on the row's date; a city total
        is the sum of its districts. Counts below 5 read null (CSV "<5") and are named in
        `suppressed`, as is a second cell where one hidden cell could be recovered.
        """
        session, actor = Session(), signed_in_user()
        today, offset = _clock()
        body = service.table(
            session,
            code=code,
            since=args["from_"],
            until=args["to"],
            by=args["by"],
            district=args.get("district"),
            allowed=aggregate_districts(session, actor),
            today=today,
            offset_minutes=offset,
            locale=request_locale(),
        )
        audit(session, actor, Action.READ, record_type="Indicator")
        if args["format"] == "csv":
            name = f"{code}_{args['from_']:%Y%m%d}-{args['to']:%Y%m%d}.csv"
            return Response(
                service.to_csv(body),
                mimetype="text/csv",
                headers={"Content-Disposition": f'attachment; filename="{name}"'},
            )
        return body


@blp.route("/reports/monthly")
class MonthlyReport(MethodView):
    @blp.arguments(MonthlyReportArgsSchema, location="query")
    @blp.response(
        200,
        description="An HTML page (text/html): every indicator for the month against its "
        "target, with a 12-month trend chart each and the suppressed cells marked.",
    )
    @blp.alt_response(404, description="A district that is not yours")
    @login_required(*READERS)
    def get(self, args: dict[str, Any]) -> Any:
        """The monthly report of one district, as the bureau prints it (HTML)."""
        session, actor = Session(), signed_in_user()
        district = args["district"]
        service.scope(aggregate_districts(session, actor), district)
        today, offset = _clock()
        first = dt.datetime.strptime(args["month"], "%Y-%m").date()
        page, _ = report.build(
            session,
            district=district,
            month=first,
            today=today,
            offset_minutes=offset,
            locale=request_locale(),
            generated_at=clock.now(),
        )
        audit(session, actor, Action.READ, record_type="Report")
        return Response(
            page,
            mimetype="text/html",
            headers={
                "Content-Disposition": f'inline; filename="monthly-{district}-{args["month"]}.html"'
            },
        )
