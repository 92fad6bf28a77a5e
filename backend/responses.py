"""Responses for the read endpoints a phone polls (schedule, feed, inbox): JSON written
directly, conditional GET, compression.

A long list dumped through marshmallow costs more than building it; `json_response` writes
the same body (a test compares it with the documented schema's dump) in one json.dumps.

A phone that asks again with `If-None-Match` gets `304 Not Modified` and no body when nothing
changed; a large body goes gzip-compressed when the client accepts it. The ETag is a hash of the
body, so it changes with anything the user would see (her language included).
"""

from __future__ import annotations

import datetime as dt
import functools
import gzip
import hashlib
import json
import uuid
from collections.abc import Callable
from typing import Any

from flask import Response, current_app, request

# Bodies smaller than this gain little from compression and cost a little CPU.
GZIP_MIN_BYTES = 1024
GZIP_LEVEL = 5


def _default(value: Any) -> Any:
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


def json_response(body: Any) -> Response:
    """`body` (dicts and lists of str, numbers, dates, UUIDs) as a JSON response, UTF-8."""
    data = json.dumps(body, default=_default, ensure_ascii=False, separators=(",", ":"))
    return current_app.response_class(data, mimetype="application/json")


def _finish(response: Response) -> Response:
    if request.method != "GET" or response.status_code != 200 or response.direct_passthrough:
        return response
    body = response.get_data()
    if not response.get_etag()[0]:
        response.set_etag(hashlib.blake2b(body, digest_size=16).hexdigest(), weak=True)
    # private: health data, never in a shared cache; no-cache: always revalidate.
    response.headers["Cache-Control"] = "private, no-cache"
    response.vary.update(("Authorization", "Accept-Language", "Accept-Encoding"))
    response.make_conditional(request)
    if response.status_code == 304:
        return response
    if len(body) >= GZIP_MIN_BYTES and "gzip" in request.headers.get("Accept-Encoding", ""):
        response.set_data(gzip.compress(body, GZIP_LEVEL, mtime=0))
        response.headers["Content-Encoding"] = "gzip"
    return response


def conditional(view: Callable[..., Any]) -> Callable[..., Any]:
    """ETag / If-None-Match → 304, and gzip for large bodies, around a GET view.

    Place it above flask-smorest's decorators, so it sees the serialized response.
    """

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from flask import make_response

        return _finish(make_response(view(*args, **kwargs)))

    return wrapper
