"""Bodies of the family benefits route."""

from __future__ import annotations

from marshmallow import fields, validate

from backend.api import Schema


class BenefitsQueryArgsSchema(Schema):
    birth_date = fields.Date(metadata={"description": "A planned or past birth to compute."})
    child_order = fields.Integer(validate=validate.Range(min=1, max=10))


class BenefitsSchema(Schema):
    events = fields.List(
        fields.Dict(),
        metadata={"description": "Each birth or loss on record with its leave (days and dates)."},
    )
    children = fields.List(
        fields.Dict(),
        metadata={"description": "Each child with the national childcare subsidy due."},
    )
    planned = fields.Dict(
        allow_none=True,
        metadata={"description": "The leave and subsidy of the birth given in the query."},
    )
