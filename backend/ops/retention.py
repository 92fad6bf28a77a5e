"""What is kept how long: stored idempotent answers, spent tokens, log-in failures.

One DELETE per kind (set-based, on an indexed instant). The README's "Data retention" table
lists the same periods.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, cast

from sqlalchemy import CursorResult, Delete, delete
from sqlalchemy.orm import Session

from backend.auth.models import AccessToken, LoginFailure
from backend.db import utcnow
from backend.ops.models import IdempotencyRecord


def purge(session: Session, *, settings: Mapping[str, Any]) -> dict[str, int]:
    """Delete what has outlived its retention; returns the count per kind. Flushes only."""
    now = utcnow()
    answers = now - dt.timedelta(hours=settings["IDEMPOTENCY_RETENTION_HOURS"])
    tokens = now - dt.timedelta(days=settings["TOKEN_RETENTION_DAYS"])
    # Never shorter than the throttling window, or the throttle would forget too early.
    failures = now - dt.timedelta(
        seconds=max(
            settings["LOGIN_FAILURE_RETENTION_HOURS"] * 3600, settings["LOGIN_WINDOW_SECONDS"]
        )
    )
    statements = {
        "idempotency_records": delete(IdempotencyRecord).where(
            IdempotencyRecord.created_at < answers
        ),
        "expired_tokens": delete(AccessToken).where(AccessToken.expires_at < tokens),
        "revoked_tokens": delete(AccessToken).where(AccessToken.revoked_at < tokens),
        "login_failures": delete(LoginFailure).where(LoginFailure.at < failures),
    }
    return {name: _deleted(session, stmt) for name, stmt in statements.items()}


def _deleted(session: Session, stmt: Delete) -> int:
    """Run a DELETE and say how many rows it removed."""
    result = session.execute(stmt)
    return int(cast(CursorResult[Any], result).rowcount or 0)
