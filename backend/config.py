"""Settings, read from environment variables in one place."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

INSTANCE_DIR = Path(__file__).resolve().parent.parent / "instance"


# The development values of the secrets: known to everyone, so refused in production.
DEV_SECRETS = {
    "SECRET_KEY": "dev-secret-key-change-me",
    "FIELD_ENCRYPTION_KEY": "ZGV2LWZpZWxkLWtleS1jaGFuZ2UtbWUtMzJieXRlcyE=",
    "REMINDER_WEBHOOK_SECRET": "dev-webhook-secret",
}


class InsecureSettings(RuntimeError):
    """Production settings that still hold a development secret, or none."""


def check_secrets(config: Mapping[str, Any]) -> None:
    """Refuse to start outside development (and tests) with a default or missing secret."""
    if config.get("TESTING") or config.get("ENVIRONMENT") == "development":
        return
    bad = [
        name for name, value in DEV_SECRETS.items() if not config.get(name) or config[name] == value
    ]
    if any(
        part.strip() == DEV_SECRETS["FIELD_ENCRYPTION_KEY"]
        for part in str(config.get("FIELD_ENCRYPTION_KEY", "")).split(",")
    ):
        bad.append("FIELD_ENCRYPTION_KEY")
    if not config.get("FIELD_LOOKUP_KEY"):
        bad.append("FIELD_LOOKUP_KEY")
    if not config.get("REMINDER_WEBHOOK_URL") and "REMINDER_WEBHOOK_SECRET" in bad:
        bad.remove("REMINDER_WEBHOOK_SECRET")  # no gateway, nothing is signed
    if bad:
        names = ", ".join(sorted(set(bad)))
        raise InsecureSettings(
            f"ENVIRONMENT={config.get('ENVIRONMENT')}: set {names} (development values refused); "
            "or set ENVIRONMENT=development on a developer's machine"
        )


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def from_env(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Return the app settings; every setting the product reads is listed here."""
    env = os.environ if environ is None else environ
    database_url = env.get("DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'mch.sqlite3'}")
    return {
        # Database: an embedded SQLite file by default, PostgreSQL in production.
        "DATABASE_URL": database_url,
        "SQL_ECHO": env.get("SQL_ECHO", "") == "1",
        # SQLite: how long a writer waits for the lock before the request answers 503.
        "DATABASE_BUSY_TIMEOUT_SECONDS": float(env.get("DATABASE_BUSY_TIMEOUT_SECONDS", "30")),
        # development (the defaults below may serve) or production (every secret must be set).
        # The production entry points (backend.wsgi, `make serve`) default to production.
        "ENVIRONMENT": env.get("ENVIRONMENT", "development"),
        # Secrets: the defaults only serve development; production refuses to start with them.
        "SECRET_KEY": env.get("SECRET_KEY", DEV_SECRETS["SECRET_KEY"]),
        # Fernet keys (urlsafe base64 of 32 bytes), comma-separated, newest first, for national
        # ID numbers at rest; `flask --app backend keys reencrypt` moves data to the first.
        "FIELD_ENCRYPTION_KEY": env.get(
            "FIELD_ENCRYPTION_KEY", DEV_SECRETS["FIELD_ENCRYPTION_KEY"]
        ),
        # HMAC key of the national ID look-up hash, separate so the cipher key can rotate.
        # Empty in development: derived from the oldest encryption key (the former scheme).
        "FIELD_LOOKUP_KEY": env.get("FIELD_LOOKUP_KEY", ""),
        "DEFAULT_TIMEZONE": env.get("DEFAULT_TIMEZONE", "Asia/Shanghai"),
        # A write to a versioned record (profile, pregnancy, child, lesson) without If-Match:
        # allowed by default (the handbook contract's clients send none); "1" answers 428.
        "REQUIRE_IF_MATCH": env.get("REQUIRE_IF_MATCH", "") == "1",
        "DEFAULT_LOCALE": env.get("DEFAULT_LOCALE", "zh_CN"),
        # argon2id cost; the defaults are argon2-cffi's (RFC 9106 low-memory profile).
        "PASSWORD_HASH_TIME_COST": _int("PASSWORD_HASH_TIME_COST", 3),
        "PASSWORD_HASH_MEMORY_KIB": _int("PASSWORD_HASH_MEMORY_KIB", 65536),
        "PASSWORD_HASH_PARALLELISM": _int("PASSWORD_HASH_PARALLELISM", 4),
        "TOKEN_TTL_SECONDS": _int("TOKEN_TTL_SECONDS", 7 * 24 * 3600),
        # Log-in throttling, per window: failures of one phone from one address before 429;
        # failures of one phone from anywhere before attempts are spaced (slowed, never
        # blocked, so nobody can lock the owner out); failures from one address, any phone.
        "LOGIN_WINDOW_SECONDS": _int("LOGIN_WINDOW_SECONDS", 15 * 60),
        "LOGIN_MAX_FAILURES_PER_PHONE_ADDRESS": _int("LOGIN_MAX_FAILURES_PER_PHONE_ADDRESS", 5),
        "LOGIN_MAX_FAILURES_PER_PHONE": _int("LOGIN_MAX_FAILURES_PER_PHONE", 20),
        "LOGIN_PHONE_SLOWDOWN_SECONDS": _int("LOGIN_PHONE_SLOWDOWN_SECONDS", 10),
        "LOGIN_MAX_FAILURES_PER_ADDRESS": _int("LOGIN_MAX_FAILURES_PER_ADDRESS", 20),
        # WeChat-style mini-program log-in: code → session exchange endpoint.
        "MINIPROGRAM_APPID": env.get("MINIPROGRAM_APPID", ""),
        "MINIPROGRAM_SECRET": env.get("MINIPROGRAM_SECRET", ""),
        "MINIPROGRAM_CODE2SESSION_URL": env.get(
            "MINIPROGRAM_CODE2SESSION_URL", "https://api.weixin.qq.com/sns/jscode2session"
        ),
        "MINIPROGRAM_TIMEOUT_SECONDS": float(env.get("MINIPROGRAM_TIMEOUT_SECONDS", "5")),
        # Reminders: the SMS / mini-program gateway webhook (empty URL: in-app inbox only).
        "REMINDER_WEBHOOK_URL": env.get("REMINDER_WEBHOOK_URL", ""),
        "REMINDER_WEBHOOK_SECRET": env.get(
            "REMINDER_WEBHOOK_SECRET", DEV_SECRETS["REMINDER_WEBHOOK_SECRET"]
        ),
        "REMINDER_WEBHOOK_TIMEOUT_SECONDS": float(env.get("REMINDER_WEBHOOK_TIMEOUT_SECONDS", "5")),
        "DISPATCHER_INTERVAL_SECONDS": float(env.get("DISPATCHER_INTERVAL_SECONDS", "3")),
        # Override content/reminders.yaml's lease and batch size (tests, tuning); 0 = the file's.
        "DISPATCHER_LEASE_SECONDS": _int("DISPATCHER_LEASE_SECONDS", 0),
        "DISPATCHER_BATCH_SIZE": _int("DISPATCHER_BATCH_SIZE", 0),
        # Retention (README "Data retention"): stored answers of idempotent POSTs (they hold
        # health data), tokens after they expired or were revoked, failed log-ins.
        "IDEMPOTENCY_RETENTION_HOURS": _int("IDEMPOTENCY_RETENTION_HOURS", 24),
        "TOKEN_RETENTION_DAYS": _int("TOKEN_RETENTION_DAYS", 7),
        "LOGIN_FAILURE_RETENTION_HOURS": _int("LOGIN_FAILURE_RETENTION_HOURS", 24),
        # Behind a reverse proxy: how many proxies set X-Forwarded-For / -Proto / -Host
        # (werkzeug ProxyFix). 0 trusts none: the client address is the socket's.
        "PROXY_FIX_X_FOR": _int("PROXY_FIX_X_FOR", 0),
        "PROXY_FIX_X_PROTO": _int("PROXY_FIX_X_PROTO", 0),
        "PROXY_FIX_X_HOST": _int("PROXY_FIX_X_HOST", 0),
        # How long one run of the dispatcher job keeps draining, and the gateway calls in
        # flight at once; 0 = content/reminders.yaml's.
        "DISPATCHER_DRAIN_SECONDS": float(env.get("DISPATCHER_DRAIN_SECONDS", "0")),
        "REMINDER_WEBHOOK_CONCURRENCY": _int("REMINDER_WEBHOOK_CONCURRENCY", 0),
        # Request bodies above this answer 413.
        "MAX_CONTENT_LENGTH": _int("MAX_CONTENT_LENGTH", 256 * 1024),
        # Version of the consent texts shown to citizens (recorded with each consent).
        "CONSENT_TEXT_VERSION": env.get("CONSENT_TEXT_VERSION", "2026-11"),
        # The built web clients served at /app/ and /m/ (`make web` builds them).
        "WEB_DIST_DIR": env.get("WEB_DIST_DIR", str(INSTANCE_DIR.parent / "web" / "dist")),
    }


API_SETTINGS: dict[str, Any] = {
    "API_TITLE": "Maternal-child health companion API",
    "API_VERSION": "v1",
    "OPENAPI_VERSION": "3.0.3",
    "OPENAPI_URL_PREFIX": "/api",
    "OPENAPI_JSON_PATH": "openapi.json",
    "OPENAPI_SWAGGER_UI_PATH": "/docs",
    # Served by the app itself from the swagger-ui-bundle package: the docs page works on an
    # intranet without internet access (backend/api.py serve_swagger_ui_assets).
    "OPENAPI_SWAGGER_UI_URL": "/api/docs/assets/",
    "JSON_SORT_KEYS": False,
}
