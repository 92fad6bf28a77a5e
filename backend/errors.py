"""Domain errors and the one mapping from errors to RFC 9457 problem+json responses."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from flask import Flask, Response, current_app, json, request
from sqlalchemy.exc import (
    DataError,
    DBAPIError,
    IntegrityError,
    InterfaceError,
    OperationalError,
    SQLAlchemyError,
)
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

from backend.db import Session
from backend.i18n import _, _l

PROBLEM_MEDIA_TYPE = "application/problem+json"

# Titles per status, localized when rendered.
TITLES = {
    400: _l("Bad request"),
    401: _l("Authentication required"),
    403: _l("Forbidden"),
    404: _l("Not found"),
    405: _l("Method not allowed"),
    409: _l("Conflict"),
    412: _l("Precondition failed"),
    413: _l("Request body too large"),
    415: _l("Unsupported media type"),
    422: _l("Invalid input"),
    428: _l("Precondition required"),
    429: _l("Too many requests"),
    500: _l("Internal server error"),
    502: _l("Upstream service failed"),
    503: _l("Service unavailable"),
}


class DomainError(Exception):
    """A failure the client can act on; services raise these, never HTTP errors."""

    status = 400

    def __init__(
        self,
        detail: Any = None,
        *,
        errors: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(str(detail) if detail is not None else self.__class__.__name__)
        self.detail = detail
        self.errors = dict(errors or {})
        self.headers = dict(headers or {})


class NotFound(DomainError):
    status = 404


class Unauthorized(DomainError):
    status = 401


class Forbidden(DomainError):
    status = 403


class Conflict(DomainError):
    status = 409


class PreconditionFailed(DomainError):
    status = 412


class PreconditionRequired(DomainError):
    status = 428


class InvalidInput(DomainError):
    """Validation failed; `errors` maps each wrong field to its messages."""

    status = 422


class TooManyRequests(DomainError):
    status = 429


class UpstreamFailed(DomainError):
    status = 502


def invalid(field: str, message: Any) -> InvalidInput:
    """Shorthand for a single-field validation error."""
    return InvalidInput(_l("Some fields are invalid."), errors={field: [message]})


_UNPRINTABLE = re.compile("[\x00\ud800-\udfff]")


def _printable(text: str) -> str:
    """Text safe to send back: no NUL, lone surrogates replaced (they cannot be encoded)."""
    return _UNPRINTABLE.sub("\ufffd", text)


def _localize(value: Any) -> Any:
    """Render lazy strings and translate marshmallow's built-in English messages."""
    if isinstance(value, Mapping):
        return {_printable(str(k)): _localize(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_localize(v) for v in value]
    if isinstance(value, str):
        return _printable(_(value)) if value else value
    return _printable(str(value))


def _flatten_locations(messages: Mapping[str, Any]) -> dict[str, Any]:
    """webargs nests errors by location ({'json': {...}}); clients want fields at the top."""
    flat: dict[str, Any] = {}
    for location, fields in messages.items():
        if isinstance(fields, Mapping):
            for name, msgs in fields.items():
                key = "body" if name == "_schema" else str(name)
                flat[key] = msgs
        else:
            flat[str(location)] = fields
    return flat


def problem(
    status: int,
    detail: Any = None,
    errors: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """Build an application/problem+json response."""
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": _localize(TITLES.get(status, TITLES[400])),
        "status": status,
    }
    if detail is not None:
        body["detail"] = _localize(detail)
    if errors:
        body["errors"] = _localize(errors)
    resp = current_app.response_class(
        json.dumps(body, ensure_ascii=False), status=status, mimetype=PROBLEM_MEDIA_TYPE
    )
    for k, v in (headers or {}).items():
        resp.headers[k] = v
    return resp


def handle_http_exception(error: HTTPException) -> Response:
    """Werkzeug and webargs errors (including 422 from schema validation)."""
    status = error.code or 500
    data = getattr(error, "data", None) or {}
    errors = data.get("errors")
    if errors is None and "messages" in data:
        errors = _flatten_locations(data["messages"])
    detail = data.get("message")
    if detail is None and status == 422:
        detail = _l("Some fields are invalid.")
    if detail is None and status != 500:
        detail = error.description if status not in TITLES else None
    headers = dict(data.get("headers") or {})
    if status == 405 and error.get_response().headers.get("Allow"):
        headers["Allow"] = error.get_response().headers["Allow"]
    return problem(status, detail, errors, headers)


def handle_domain_error(error: DomainError) -> Response:
    """Domain errors raised by services; the failed unit of work is rolled back."""
    rollback_quietly()
    return problem(error.status, error.detail, error.errors, error.headers)


def rollback_quietly() -> None:
    """End the failed unit of work without letting a broken session or connection raise."""
    try:
        Session.rollback()
    except Exception:  # a dead connection: the pool invalidates it
        current_app.logger.warning("rollback failed", exc_info=True)


# PostgreSQL SQLSTATEs: retry the same request (409) or come back later (503).
_RETRY_CONFLICT = {"40001", "40P01"}  # serialization failure, deadlock
_UNAVAILABLE_CLASSES = ("08", "53", "57")  # connection, resources, operator intervention


def database_problem(error: SQLAlchemyError) -> Response:
    """Map a database failure to problem+json; the session is rolled back, never read."""
    rollback_quietly()
    if isinstance(error, StaleDataError):
        # Version check at flush: someone else changed the record since it was read.
        status = 412 if request.headers.get("If-Match") else 409
        return problem(status, _l("This record was changed by someone else. Reload it and retry."))
    if isinstance(error, IntegrityError):
        current_app.logger.info("integrity error: %s", error.orig)
        return problem(409, _l("This record conflicts with an existing one."))
    orig = getattr(error, "orig", None)
    code = str(getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None) or "")
    message = str(orig or error).lower()
    if code in _RETRY_CONFLICT:
        return problem(
            409,
            _l("Another request changed the same records at the same time. Retry."),
            headers={"Retry-After": "1"},
        )
    if isinstance(error, DataError) and not code.startswith(_UNAVAILABLE_CLASSES):
        return problem(422, _l("A value is out of the range the database can store."))
    busy = "database is locked" in message or "database is busy" in message
    if (
        busy
        or code == "55P03"
        or code.startswith(_UNAVAILABLE_CLASSES)
        or (isinstance(error, DBAPIError) and error.connection_invalidated)
        or (
            isinstance(error, OperationalError | InterfaceError)
            and not code
            and not type(orig).__module__.startswith("sqlite3")
        )
    ):
        current_app.logger.warning("database unavailable: %s", message[:200])
        return problem(
            503,
            _l("The service is busy or its database is unreachable. Retry shortly."),
            headers={"Retry-After": "1" if busy else "5"},
        )
    current_app.logger.exception("database error")
    return problem(500)


def handle_unexpected(error: Exception) -> Response:
    """Anything else: a logged 500, still problem+json, the unit of work rolled back."""
    if isinstance(error, HTTPException):
        return handle_http_exception(error)
    rollback_quietly()
    if isinstance(error, RecursionError):  # the JSON parser on a body nested thousands deep
        return problem(400, errors={"json": [_l("The JSON body is nested too deeply.")]})
    current_app.logger.error("unhandled error", exc_info=error)
    return problem(500)


def init_app(app: Flask) -> None:
    """Register the handlers; flask-smorest's own HTTPException handler is replaced."""
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(DomainError, handle_domain_error)
    app.register_error_handler(SQLAlchemyError, database_problem)
    app.register_error_handler(Exception, handle_unexpected)
