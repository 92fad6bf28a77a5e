"""Request and response bodies of the indicators (counts only, never people)."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields, validate, validates_schema

from backend.api import Schema
from backend.i18n import _l

BY_CHOICES = ("district", "institution", "month", "category")


class TargetSchema(Schema):
    operator = fields.String(metadata={"description": "<, <=, > or >= (the rate, times `per`)."})
    value = fields.Float()
    source = fields.String()


class IndicatorSchema(Schema):
    """An indicator's definition (content/indicators/<code>.yaml), in the reader's language."""

    code = fields.String()
    group = fields.String(metadata={"description": "surveillance, pregnancy, newborn, ..."})
    basis = fields.String(
        metadata={
            "description": "statutory (surveillance, public-health service reporting) or "
            "consent (only women who consented to anonymous statistics are counted)"
        }
    )
    title = fields.String()
    numerator = fields.String(metadata={"description": "What counts in the numerator, in words."})
    denominator = fields.String(metadata={"description": "What counts in the denominator."})
    period = fields.String(
        metadata={"description": "The period rule: birth, delivery, booking, window_close, ..."}
    )
    period_text = fields.String()
    per = fields.Integer(metadata={"description": "Rates are shown per this many (100, 1000)."})
    unit = fields.String()
    target = fields.Nested(TargetSchema, allow_none=True)
    source = fields.String()
    verified = fields.Boolean(metadata={"description": "False until a clinician signs it off."})
    breakdowns = fields.List(fields.String())


class IndicatorQueryArgsSchema(Schema):
    from_ = fields.Date(
        data_key="from", required=True, metadata={"description": "First day, local date."}
    )
    to = fields.Date(required=True, metadata={"description": "Last day (included)."})
    by = fields.String(
        load_default="district",
        metadata={
            "description": "Breakdown: district, institution, month or category (birth defects), "
            "or several joined by commas (district,month); 'total' for the total only."
        },
    )
    district = fields.String(
        validate=validate.Regexp(r"^\d{6}$", error=_l("Use the 6-digit administrative code.")),
        metadata={"description": "Only this district (GB/T 2260, e.g. 330302)."},
    )
    format = fields.String(
        load_default="json",
        validate=validate.OneOf(["json", "csv"]),
        metadata={"description": "csv downloads the same table (text/csv, UTF-8 with BOM)."},
    )

    @validates_schema
    def _check(self, data: dict[str, Any], **_: object) -> None:
        if data["from_"] > data["to"]:
            raise ValidationError(_l("The period ends before it starts."), "to")
        if (data["to"] - data["from_"]).days > 366 * 5:
            raise ValidationError(_l("Ask for five years at most."), "from")
        parts = [p for p in data["by"].split(",") if p]
        if not parts or any(p not in (*BY_CHOICES, "total") for p in parts):
            raise ValidationError(_l("Use district, institution, month, category or total."), "by")


class CellSchema(Schema):
    """One cell of the table: counts, rate and interval. A count hidden by the small-cell rule
    is null and named in `suppressed` (CSV shows "<5")."""

    district_code = fields.String(allow_none=True)
    district_name = fields.String(allow_none=True)
    institution_id = fields.UUID(allow_none=True)
    institution_name = fields.String(allow_none=True)
    month = fields.String(allow_none=True, metadata={"description": "YYYY-MM"})
    category = fields.String(allow_none=True, metadata={"description": "Birth-defect category."})
    numerator = fields.Integer(allow_none=True)
    denominator = fields.Integer(allow_none=True)
    rate = fields.Float(allow_none=True, metadata={"description": "numerator / denominator"})
    value = fields.Float(allow_none=True, metadata={"description": "rate × per (e.g. ‰)"})
    ci_low = fields.Float(allow_none=True, metadata={"description": "95% Wilson, × per"})
    ci_high = fields.Float(allow_none=True)
    meets_target = fields.Boolean(allow_none=True)
    suppressed = fields.List(
        fields.String(), metadata={"description": "Counts hidden (below the minimum cell size)."}
    )


AS_OF = (
    "When the oldest snapshot read was taken (closed months are counted nightly and kept); "
    "null: every row counted now."
)


class IndicatorTableSchema(IndicatorSchema):
    from_ = fields.Date(data_key="from", attribute="from")
    to = fields.Date()
    by = fields.List(fields.String())
    district = fields.String(allow_none=True)
    min_cell = fields.Integer(metadata={"description": "Counts below this are suppressed."})
    rows = fields.List(fields.Nested(CellSchema))
    total = fields.Nested(CellSchema, metadata={"description": "The sum of the rows' cells."})
    as_of = fields.DateTime(allow_none=True, metadata={"description": AS_OF})


class OverviewArgsSchema(Schema):
    from_ = fields.Date(
        data_key="from", required=True, metadata={"description": "First day, local date."}
    )
    to = fields.Date(required=True, metadata={"description": "Last day (included)."})
    district = fields.String(
        validate=validate.Regexp(r"^\d{6}$", error=_l("Use the 6-digit administrative code.")),
        metadata={"description": "Only this district (GB/T 2260, e.g. 330302)."},
    )

    @validates_schema
    def _check(self, data: dict[str, Any], **_: object) -> None:
        if data["from_"] > data["to"]:
            raise ValidationError(_l("The period ends before it starts."), "to")
        if (data["to"] - data["from_"]).days > 366 * 5:
            raise ValidationError(_l("Ask for five years at most."), "from")


class DistrictSchema(Schema):
    code = fields.String(metadata={"description": "GB/T 2260"})
    name = fields.String()


class OverviewItemSchema(IndicatorSchema):
    """One indicator: its definition, its total (city, or the reader's districts) and the
    cells of each district."""

    rows = fields.List(fields.Nested(CellSchema))
    total = fields.Nested(CellSchema)
    as_of = fields.DateTime(allow_none=True, metadata={"description": AS_OF})


class OverviewSchema(Schema):
    from_ = fields.Date(data_key="from", attribute="from")
    to = fields.Date()
    district = fields.String(allow_none=True)
    min_cell = fields.Integer(metadata={"description": "Counts below this are suppressed."})
    districts = fields.List(
        fields.Nested(DistrictSchema), metadata={"description": "The districts this reader reads."}
    )
    indicators = fields.List(fields.Nested(OverviewItemSchema))


class MonthlyReportArgsSchema(Schema):
    district = fields.String(
        required=True,
        validate=validate.Regexp(r"^\d{6}$", error=_l("Use the 6-digit administrative code.")),
    )
    month = fields.String(
        required=True,
        # The years the API's dates allow (backend.api: 1900-2199); year 0 would crash strptime.
        validate=validate.Regexp(r"^(19|20|21)\d\d-(0[1-9]|1[0-2])$", error=_l("Use YYYY-MM.")),
    )
