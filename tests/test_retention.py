"""The retention purge deletes what has outlived its period and nothing younger (README
"Data retention": answers 24 h, tokens 7 days after expiry or revocation, log-in failures
24 h, never less than the throttling window)."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import func, select

from backend.auth.models import AccessToken, LoginFailure, Role, User
from backend.db import utcnow
from backend.ops import retention
from backend.ops.models import IdempotencyRecord


def _count(db, model) -> int:
    return int(db.scalar(select(func.count()).select_from(model)) or 0)


def test_purge_keeps_what_is_young_and_deletes_what_is_old(app, db):
    now = utcnow()
    user = User(role=Role.CITIZEN, phone=f"136{uuid.uuid4().int % 10**8:08d}", name="x")
    db.add(user)
    db.flush()
    hours, days = dt.timedelta(hours=1), dt.timedelta(days=1)

    def token(**kw):
        return AccessToken(user_id=user.id, token_hash=uuid.uuid4().hex, **kw)

    def answer(age):
        return IdempotencyRecord(
            user_id=user.id,
            key=uuid.uuid4().hex,
            fingerprint="f",
            status=201,
            content_type="application/json",
            body=b"{}",
            created_at=now - age,
        )

    db.add_all(
        [
            answer(25 * hours),  # purged
            answer(23 * hours),
            token(expires_at=now - 8 * days),  # purged
            token(expires_at=now - 6 * days),
            token(expires_at=now + days, revoked_at=now - 8 * days),  # purged
            token(expires_at=now + days, revoked_at=now - hours),
            token(expires_at=now + days),
            LoginFailure(key="pair:x", at=now - 25 * hours),  # purged
            LoginFailure(key="pair:x", at=now - 23 * hours),
        ]
    )
    db.flush()
    before = {m: _count(db, m) for m in (IdempotencyRecord, AccessToken, LoginFailure)}
    counts = retention.purge(db, settings=app.config)
    assert counts == {
        "idempotency_records": 1,
        "expired_tokens": 1,
        "revoked_tokens": 1,
        "login_failures": 1,
    }
    assert _count(db, IdempotencyRecord) == before[IdempotencyRecord] - 1
    assert _count(db, AccessToken) == before[AccessToken] - 2
    assert _count(db, LoginFailure) == before[LoginFailure] - 1


def test_failures_are_kept_at_least_the_throttling_window(app, db):
    now = utcnow()
    db.add(LoginFailure(key="pair:y", at=now - dt.timedelta(hours=30)))
    db.flush()
    settings = {**app.config, "LOGIN_WINDOW_SECONDS": 48 * 3600}
    assert retention.purge(db, settings=settings)["login_failures"] == 0
