"""Request guards in front of every view: bodies the views must never see.

- a streamed (chunked) body longer than MAX_CONTENT_LENGTH answers 413, as a declared one does;
- a PUT or PATCH whose view takes a JSON body but that sent none answers 422 naming `body`
  (webargs would read a missing body as `{}` and the update would "succeed" doing nothing).
A JSON body nested too deep for the parser answers 400 through backend.errors.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, request
from werkzeug.exceptions import RequestEntityTooLarge

from backend.errors import InvalidInput
from backend.i18n import _l


def _limit_streamed_body() -> None:
    if request.content_length is not None or not request.environ.get("wsgi.input_terminated"):
        return
    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    if limit and len(request.get_data(cache=True)) >= limit:
        raise RequestEntityTooLarge()


def _json_body_required() -> bool:
    view = current_app.view_functions.get(request.endpoint or "")
    method = getattr(getattr(view, "view_class", None), request.method.lower(), None)
    doc: dict[str, Any] = getattr(method, "_apidoc", {}) or {}
    params = (doc.get("arguments") or {}).get("parameters") or []
    return any(p.get("in") == "json" and p.get("required", True) for p in params)


def _refuse_missing_body() -> None:
    if request.method not in ("PUT", "PATCH") or not _json_body_required():
        return
    if not request.get_data(cache=True).strip():
        raise InvalidInput(
            _l("Some fields are invalid."), errors={"body": [_l("Send the fields to change.")]}
        )


def init_app(app: Flask) -> None:
    """Register the guards (after the role check: a stranger learns nothing of the body)."""
    app.before_request(_limit_streamed_body)
    app.before_request(_refuse_missing_body)
