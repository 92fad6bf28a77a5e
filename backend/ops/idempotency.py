"""Idempotency-Key on POST: a retried request gets the first answer instead of a twin record.

Scoped per signed-in user; the key must be reused with the same method, path and body.
"""

from __future__ import annotations

import hashlib

from flask import Flask, Response, current_app, g, request
from sqlalchemy import select

from backend.db import Session
from backend.errors import invalid
from backend.i18n import _l
from backend.ops.models import IdempotencyRecord

HEADER = "Idempotency-Key"


def _fingerprint() -> str:
    digest = hashlib.sha256()
    digest.update(f"{request.method} {request.path}\n".encode())
    digest.update(request.get_data(cache=True))
    return digest.hexdigest()


def _key() -> str | None:
    if request.method != "POST" or g.get("current_user") is None:
        return None
    key = request.headers.get(HEADER, "").strip()
    if not key:
        return None
    if len(key) > 200:
        raise invalid(HEADER, _l("Use at most 200 characters."))
    return key


def replay() -> Response | None:
    """Answer a repeated POST with the stored response."""
    key = _key()
    if key is None:
        return None
    record = (
        Session()
        .scalars(
            select(IdempotencyRecord).where(
                IdempotencyRecord.user_id == g.current_user.id, IdempotencyRecord.key == key
            )
        )
        .first()
    )
    if record is None:
        return None
    if record.fingerprint != _fingerprint():
        raise invalid(HEADER, _l("This key was already used for a different request."))
    resp = current_app.response_class(
        record.body, status=record.status, content_type=record.content_type
    )
    resp.headers["Idempotent-Replayed"] = "true"
    return resp


def remember(response: Response) -> Response:
    """Keep a successful POST's response under its key, in the request's unit of work."""
    if (
        200 <= response.status_code < 300
        and "Idempotent-Replayed" not in response.headers
        # A response that must not be stored (it holds a secret) is not kept for replay.
        and "no-store" not in (response.headers.get("Cache-Control") or "")
    ):
        key = _key()
        if key is not None:
            Session().add(
                IdempotencyRecord(
                    user_id=g.current_user.id,
                    key=key,
                    fingerprint=_fingerprint(),
                    status=response.status_code,
                    content_type=response.content_type or "application/json",
                    body=response.get_data(),
                )
            )
    return response


def init_app(app: Flask) -> None:
    """Register the replay and remember hooks."""
    app.before_request(replay)
    app.after_request(remember)
