"""Responses for the read endpoints a phone polls (schedule, feed, inbox): JSON written
directly, conditional GET, compression.

A long list dumped through marshmallow costs more than building it; `json_response` writes
the same body (a test compares it with the documented schema's dump) in one orjson.dumps.

A phone that asks again with `If-None-Match` gets `304 Not Modified` and no body when nothing
changed; a large body goes gzip-compressed when the client accepts it. The ETag is a hash of the
body, so it changes with anything the user would see (her language included) — or, where a view
knows a cheaper version of what it shows (the rows it read, her language, the day), a hash of
that, checked by `not_modified` before the body is built: then a 304 costs the query, not the
rendering.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
from collections.abc import Callable
from typing import Any

import orjson
from flask import Response, current_app, g, make_response, request

# Bodies smaller than this gain little from compression and cost a little CPU.
GZIP_MIN_BYTES = 1024
GZIP_LEVEL = 5


def json_response(body: Any) -> Response:
    """`body` (dicts and lists of str, numbers, dates, UUIDs) as a JSON response, UTF-8.

    orjson writes what `json.dumps(body, ensure_ascii=False, separators=(",", ":"))` with ISO
    dates would (a test compares them), in a tenth of the time: a schedule's 50 steps spent
    more in the encoder's per-date callbacks than in their query."""
    data = orjson.dumps(body, option=orjson.OPT_NON_STR_KEYS)  # dates and UUIDs natively
    return current_app.response_class(data, mimetype="application/json")


VARY = ("Authorization", "Accept-Language", "Accept-Encoding")


def _headers(response: Response) -> Response:
    # private: health data, never in a shared cache; no-cache: always revalidate.
    response.headers["Cache-Control"] = "private, no-cache"
    if "Vary" in response.headers:
        response.vary.update(VARY)
    else:  # the usual case, written directly (parsing an empty header set cost more)
        response.headers["Vary"] = ", ".join(VARY)
    return response


def _not_modified_response(etag: str) -> Response:
    response = current_app.response_class(status=304)
    response.set_etag(etag, weak=True)
    return _headers(response)


def version_etag(*parts: object) -> str:
    """A weak ETag's value from what a body is a function of (see `not_modified`)."""
    return hashlib.blake2b(repr(parts).encode(), digest_size=16).hexdigest()


class _NotModified(Exception):
    """Raised by `not_modified` through the view's decorators to `conditional`."""

    def __init__(self, etag: str):
        super().__init__(etag)
        self.etag = etag


def _client_holds(etag: str) -> bool:
    """Whether If-None-Match names `etag` (weak comparison, `*` included). These bodies carry
    no Last-Modified and serve no ranges, the rest of what werkzeug's make_conditional parses."""
    return request.if_none_match.contains_weak(etag)


def not_modified(etag: str) -> None:
    """Answer 304 now if the client holds `etag` (raises to `conditional`, which must wrap the
    view); else remember it for the 200 that follows, so the next poll matches."""
    if _client_holds(etag):
        raise _NotModified(etag)
    g.response_etag = etag


def _finish(response: Response) -> Response:
    if request.method != "GET" or response.status_code != 200 or response.direct_passthrough:
        return response
    body = response.get_data()
    etag = response.get_etag()[0]
    if not etag:
        etag = g.pop("response_etag", None) or hashlib.blake2b(body, digest_size=16).hexdigest()
        response.set_etag(etag, weak=True)
    if _client_holds(etag):
        return _not_modified_response(etag)
    _headers(response)
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
        try:
            response = make_response(view(*args, **kwargs))
        except _NotModified as early:
            return _not_modified_response(early.etag)
        return _finish(response)

    return wrapper
