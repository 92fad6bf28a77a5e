"""Project flavours of flask-smorest's Api, Blueprint and marshmallow's Schema."""

from __future__ import annotations

import datetime as dt
import http
from collections.abc import Mapping
from typing import Any

import flask_smorest
import marshmallow as ma
from apispec import BasePlugin
from flask import current_app, request, send_from_directory
from flask_smorest.utils import prepare_response
from marshmallow import fields, pre_load, validate
from swagger_ui_bundle import swagger_ui_path
from webargs.flaskparser import FlaskParser
from werkzeug.http import parse_etags

from backend import content
from backend.content.models import Measurements
from backend.errors import PreconditionFailed, PreconditionRequired
from backend.i18n import _l

# Dates and instants outside these bounds are typing mistakes or probes (0001-01-01,
# 9999-12-31): refused as a field error before any date arithmetic can overflow.
EARLIEST_DATE = dt.date(1900, 1, 1)
LATEST_DATE = dt.date(2199, 12, 31)
DATE_RANGE_ERROR = _l("Enter a date between {min} and {max}.")
TEXT_ERROR = _l("This text contains characters that are not allowed.")
BOOLEAN_ERROR = _l("Not a valid boolean.")


def _bad_text(value: str) -> bool:
    """NUL (PostgreSQL refuses it, SQLite keeps it silently) or a lone surrogate (no UTF-8)."""
    if "\x00" in value:
        return True
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _bad_texts(data: Any, path: str, found: dict[str, list[Any]]) -> None:
    if isinstance(data, str):
        if _bad_text(data):
            found.setdefault(path or "body", [TEXT_ERROR])
    elif isinstance(data, Mapping):
        for key in list(data.keys()):
            name = f"{path}.{key}" if path else str(key)
            if isinstance(key, str) and _bad_text(key):
                found.setdefault(name, [TEXT_ERROR])
            _bad_texts(data[key], name, found)
    elif isinstance(data, list | tuple):
        for i, item in enumerate(data):
            _bad_texts(item, f"{path}.{i}" if path else str(i), found)


def _in_date_range(value: dt.date | dt.datetime) -> bool:
    day = value.date() if isinstance(value, dt.datetime) else value
    return EARLIEST_DATE <= day <= LATEST_DATE


class Schema(ma.Schema):
    """Base schema: unknown fields are refused (fields keep declaration order); text must be
    storable (no NUL, no lone surrogate) and dates plausible, whatever the field."""

    class Meta:
        unknown = ma.RAISE

    @pre_load
    def _refuse_unstorable_text(self, data: Any, **_kwargs: Any) -> Any:
        found: dict[str, list[Any]] = {}
        _bad_texts(data, "", found)
        if type(data) is dict:  # a JSON body (query strings arrive as a MultiDict)
            # JSON has true and false: 0, 1 or "yes" are refused as the schema says.
            for name, field in self.load_fields.items():
                key = field.data_key or name
                value = data.get(key)
                boolean = isinstance(field, fields.Boolean)
                if boolean and value is not None and not isinstance(value, bool):
                    found.setdefault(key, [BOOLEAN_ERROR])
        if found:
            raise ma.ValidationError(found)
        return data

    def on_bind_field(self, field_name: str, field_obj: fields.Field) -> None:
        """Every date or instant field refuses years outside EARLIEST_DATE..LATEST_DATE."""
        if (
            isinstance(field_obj, fields.Date | fields.DateTime)
            and not isinstance(field_obj, fields.Time)  # a DateTime subclass in marshmallow 3
            and _date_bounds not in field_obj.validators
        ):
            field_obj.validators.append(_date_bounds)


def _date_bounds(value: dt.date | dt.datetime) -> None:
    if isinstance(value, dt.date) and not _in_date_range(value):
        raise ma.ValidationError(
            [DATE_RANGE_ERROR.format(min=EARLIEST_DATE.isoformat(), max=LATEST_DATE.isoformat())]
        )


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


def page_schema(item: type[ma.Schema], name: str, **extra: fields.Field) -> type[ma.Schema]:
    """A page envelope {items, page, page_size, total} around `item`, and `extra` fields."""
    return Schema.from_dict(
        {
            "items": fields.List(fields.Nested(item)),
            "page": fields.Integer(),
            "page_size": fields.Integer(),
            "total": fields.Integer(),
            **extra,
        },
        name=name,
    )


def page(items: Any, *, page: int, page_size: int, total: int) -> dict[str, Any]:
    """The body of one page of a list."""
    return {"items": list(items), "page": page, "page_size": page_size, "total": total}


PROBLEM_MEDIA_TYPE = "application/problem+json"

_HEADER_DOCS: dict[str, dict[str, Any]] = {
    "Idempotency-Key": {
        "description": "Any unique string (a UUID) per intended action: a retry with the same "
        "key and body gets the first answer (header Idempotent-Replayed) instead of a twin; "
        "the same key with another body is 422. Kept 24 hours.",
        "schema": {"type": "string", "maxLength": 200},
    },
    "If-Match": {
        "description": "The ETag last read: when the record changed since, the answer is 412 "
        "instead of a lost update. Optional.",
        "schema": {"type": "string"},
    },
}
_RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before retrying.",
        "schema": {"type": "integer"},
    }
}
_ETAG = {
    "ETag": {"description": "The record's version, for If-Match.", "schema": {"type": "string"}}
}


class HttpConventionsPlugin(BasePlugin):
    """Documents what every route shares: Idempotency-Key on POSTs, If-Match and ETag where
    a version is checked (an operation that may answer 412), Retry-After on 429 and 503."""

    def operation_helper(
        self, path: str | None = None, operations: dict[str, Any] | None = None, **_: Any
    ) -> None:
        operations = operations or {}
        for op in operations.values():
            for key in ("summary", "description"):
                if isinstance(op.get(key), str):
                    op[key] = content.fill(op[key])
        versioned = any(
            "412" in map(str, (op.get("responses") or {})) for op in operations.values()
        )
        for method, op in operations.items():
            responses = op.get("responses") or {}
            codes = {str(code) for code in responses}
            params = op.setdefault("parameters", [])
            public = op.get("security") == []
            if method == "post" and not public:
                params.append(
                    {"in": "header", "name": "Idempotency-Key", **_HEADER_DOCS["Idempotency-Key"]}
                )
            if "412" in codes:
                params.append({"in": "header", "name": "If-Match", **_HEADER_DOCS["If-Match"]})
            for code, response in responses.items():
                if not isinstance(response, dict):
                    continue
                if (
                    versioned
                    and str(code) in ("200", "201")
                    and method in ("get", "patch", "post", "put")
                ):
                    response.setdefault("headers", {}).update(_ETAG)
                if str(code) in ("429", "503"):
                    response.setdefault("headers", {}).update(_RETRY_AFTER)


def _content_description(
    _converter: Any, field: fields.Field, ret: dict[str, Any]
) -> dict[str, Any]:
    """A field description that quotes content/ ({kind:path}) shows the loaded value."""
    text = ret.get("description")
    return {"description": content.fill(text)} if isinstance(text, str) else {}


class ContentRange(validate.Range):
    """A Range whose bounds are the plausibility bounds of content/measurements.yaml: the
    `facts` entry `name`, or the field `name` of the measurement `kind`. Read when the spec is
    built and on each check, so no bound is copied into the code."""

    def __init__(self, name: str, *, kind: str | None = None) -> None:
        self.name, self.kind = name, kind
        super().__init__()

    def _bounds(self) -> Any:
        measurements = content.typed(Measurements)
        if self.kind is None:
            return measurements.facts[self.name]
        return measurements.kinds[self.kind].fields[self.name]

    @property  # marshmallow assigns min/max; here they are read from content
    def min(self) -> Any:
        return self._bounds().min

    @min.setter
    def min(self, _value: Any) -> None:
        pass

    @property
    def max(self) -> Any:
        return self._bounds().max

    @max.setter
    def max(self, _value: Any) -> None:
        pass


class Api(flask_smorest.Api):
    """flask-smorest's Api whose errors are rendered by backend.errors (problem+json)."""

    ERROR_SCHEMA = ProblemSchema

    def _init_spec(self, *args: Any, **kwargs: Any) -> None:
        super()._init_spec(*args, **kwargs)
        self.ma_plugin.converter.add_attribute_function(_content_description)

    def _register_error_handlers(self) -> None:
        """Errors are registered once in backend.errors.init_app."""

    def _register_responses(self) -> None:
        """The shared error responses, documented as application/problem+json."""
        for status in http.HTTPStatus:
            response: dict[str, Any] = {"description": status.phrase}
            if status >= 400:
                response["schema"] = self.ERROR_SCHEMA
                if status in (429, 503):
                    response["headers"] = dict(_RETRY_AFTER)
            elif not (100 <= status < 200) and status not in (204, 304):
                response["schema"] = self.ERROR_SCHEMA
            prepare_response(response, self.spec, PROBLEM_MEDIA_TYPE)
            self.spec.components.response(status.name, response, lazy=True)
        response = {
            "description": "Any other error, such as 503 (with Retry-After) when the database "
            "is unreachable or busy",
            "schema": self.ERROR_SCHEMA,
            "headers": dict(_RETRY_AFTER),
        }
        prepare_response(response, self.spec, PROBLEM_MEDIA_TYPE)
        self.spec.components.response("DEFAULT_ERROR", response, lazy=True)


def _hook_names(schema: ma.Schema | type[ma.Schema]) -> set[str]:
    """The names of a schema's load and dump hooks (marshmallow keeps them in `_hooks`)."""
    hooks = getattr(schema, "_hooks", None)
    return {name for entries in (hooks or {}).values() for name, *_ in entries}


# The base Schema's own hooks (its text check), which load {} the same way every time.
_PURE_HOOKS = frozenset(_hook_names(Schema))


def _loads_empty_the_same(schema: ma.Schema) -> bool:
    """Whether loading {} always gives the same result: no hook but the base Schema's, no
    default computed at load time (a callable load_default, such as today)."""
    return (
        getattr(schema, "_hooks", None) is not None
        and _hook_names(schema) <= _PURE_HOOKS
        and not any(callable(f.load_default) for f in schema.load_fields.values())
    )


class ArgumentsParser(FlaskParser):
    """webargs' Flask parser; a query schema met with an empty query string (what a phone's
    poll sends) gives its defaults from a memo, when loading {} always gives the same: a
    marshmallow load of nothing was 4 % of a hot GET. Each call gets its own copy."""

    def __init__(self) -> None:
        super().__init__()
        # Per schema: its defaults, or None when they cannot be remembered (decided once).
        self._defaults: dict[ma.Schema, dict[str, Any] | None] = {}

    def parse(
        self, argmap: Any, req: Any = None, *, location: str | None = None, **kwargs: Any
    ) -> Any:
        if (
            location != "query"
            or (req or request).query_string
            or kwargs.get("validate") is not None
            or not isinstance(argmap, ma.Schema)
        ):
            return super().parse(argmap, req, location=location, **kwargs)
        if argmap in self._defaults:
            defaults = self._defaults[argmap]
            if defaults is not None:
                return dict(defaults)
            return super().parse(argmap, req, location=location, **kwargs)
        loaded = super().parse(argmap, req, location=location, **kwargs)
        self._defaults[argmap] = dict(loaded) if _rememberable(argmap, loaded) else None
        return loaded


def _rememberable(schema: ma.Schema, loaded: Any) -> bool:
    """Defaults that a shallow copy copies (immutable values) of a schema that loads {} the
    same way every time."""
    if not isinstance(loaded, dict) or not _loads_empty_the_same(schema):
        return False
    try:
        hash(tuple(loaded.values()))
    except TypeError:
        return False
    return True


class Blueprint(flask_smorest.Blueprint):
    """flask-smorest Blueprint; every route is documented with problem responses."""

    ARGUMENTS_PARSER = ArgumentsParser()

    def arguments(self, schema: Any, *args: Any, **kwargs: Any) -> Any:
        """As flask-smorest's, with a schema class made an instance once: webargs would build
        one per request (a tenth of a hot GET's time); loading keeps no state on it."""
        if isinstance(schema, type):
            schema = schema()
        return super().arguments(schema, *args, **kwargs)

    def alt_response(self, status_code: Any, response: Any = None, **kwargs: Any) -> Any:
        """An error answer is documented as application/problem+json."""
        if response is None and int(status_code) >= 400:
            kwargs.setdefault("content_type", PROBLEM_MEDIA_TYPE)
            kwargs.setdefault("schema", ProblemSchema)
        return super().alt_response(status_code, response, **kwargs)

    def checks_version(self, func: Any) -> Any:
        """Document the version check of a write: 412 when If-Match names another version, 428
        when it is missing and the server requires it (the If-Match header and the ETag of the
        answer are documented by HttpConventionsPlugin)."""
        func = self.alt_response(
            428, description="No If-Match, and this server requires one (REQUIRE_IF_MATCH)"
        )(func)
        return self.alt_response(412, description="If-Match names another version")(func)

    @staticmethod
    def etag(version: int) -> dict[str, str]:
        """The ETag header of a record at `version`, for the client's next If-Match."""
        return {"ETag": f'"{version}"'}

    @staticmethod
    def check_if_match(version: int) -> None:
        """An If-Match that names another version answers 412. No If-Match is allowed unless the
        server is configured to require one (REQUIRE_IF_MATCH), which answers 428."""
        header = request.headers.get("If-Match")
        if header is None:
            if current_app.config.get("REQUIRE_IF_MATCH"):
                raise PreconditionRequired(
                    _l("Send If-Match with the ETag you last read of this record.")
                )
            return
        etags = parse_etags(header)
        if not (etags.star_tag or etags.contains_weak(str(version))):
            raise PreconditionFailed(
                _l("The record was changed meanwhile; reload it and try again.")
            )


def serve_swagger_ui_assets(app: Any) -> None:
    """Serve Swagger UI's scripts and styles from the installed swagger-ui-bundle package."""

    def swagger_ui_asset(filename: str) -> Any:
        return send_from_directory(str(swagger_ui_path), filename, max_age=86400)

    app.add_url_rule(
        f"{app.config['OPENAPI_SWAGGER_UI_URL']}<path:filename>",
        endpoint="swagger_ui_asset",
        view_func=swagger_ui_asset,
    )
