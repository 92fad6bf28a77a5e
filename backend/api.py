"""Project flavours of flask-smorest's Api, Blueprint and marshmallow's Schema."""

from __future__ import annotations

from typing import Any

import flask_smorest
import marshmallow as ma
from marshmallow import fields, validate

from backend.i18n import _l


class Schema(ma.Schema):
    """Base schema: unknown fields are refused (fields keep declaration order)."""

    class Meta:
        unknown = ma.RAISE


class ProblemSchema(Schema):
    """RFC 9457 problem details (documentation only; errors.problem builds the payload)."""

    type = fields.String(metadata={"example": "about:blank"})
    title = fields.String()
    status = fields.Integer()
    detail = fields.String()
    errors = fields.Dict(
        keys=fields.String(),
        metadata={"description": "Field name → list of localized messages (validation)."},
    )


RANGE_ERROR = _l("Enter a value from {min} to {max}.")


class PageArgsSchema(Schema):
    """Pagination query arguments shared by every list."""

    page = fields.Integer(
        load_default=1, validate=validate.Range(min=1, max=100_000, error=RANGE_ERROR)
    )
    page_size = fields.Integer(
        load_default=20, validate=validate.Range(min=1, max=100, error=RANGE_ERROR)
    )


def page_schema(item: type[ma.Schema], name: str) -> type[ma.Schema]:
    """A page envelope {items, page, page_size, total} around `item`."""
    return Schema.from_dict(
        {
            "items": fields.List(fields.Nested(item)),
            "page": fields.Integer(),
            "page_size": fields.Integer(),
            "total": fields.Integer(),
        },
        name=name,
    )


def page(items: Any, *, page: int, page_size: int, total: int) -> dict[str, Any]:
    """The body of one page of a list."""
    return {"items": list(items), "page": page, "page_size": page_size, "total": total}


class Api(flask_smorest.Api):
    """flask-smorest's Api whose errors are rendered by backend.errors (problem+json)."""

    ERROR_SCHEMA = ProblemSchema

    def _register_error_handlers(self) -> None:
        """Errors are registered once in backend.errors.init_app."""


class Blueprint(flask_smorest.Blueprint):
    """flask-smorest Blueprint; every route is documented with problem responses."""
