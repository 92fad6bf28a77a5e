"""Settings, read from environment variables in one place."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

INSTANCE_DIR = Path(__file__).resolve().parent.parent / "instance"


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def from_env(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Return the app settings; every setting the product reads is listed here."""
    env = os.environ if environ is None else environ
    return {
        # Database: an embedded SQLite file by default, PostgreSQL in production.
        "DATABASE_URL": env.get("DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'mch.sqlite3'}"),
        "SQL_ECHO": env.get("SQL_ECHO", "") == "1",
        # Secrets: the defaults only serve `make run` on a laptop; production must set both.
        "SECRET_KEY": env.get("SECRET_KEY", "dev-secret-key-change-me"),
        # A Fernet key (urlsafe base64 of 32 bytes) for national ID numbers at rest.
        "FIELD_ENCRYPTION_KEY": env.get(
            "FIELD_ENCRYPTION_KEY", "ZGV2LWZpZWxkLWtleS1jaGFuZ2UtbWUtMzJieXRlcyE="
        ),
        "DEFAULT_TIMEZONE": env.get("DEFAULT_TIMEZONE", "Asia/Shanghai"),
        "DEFAULT_LOCALE": env.get("DEFAULT_LOCALE", "zh_CN"),
        # argon2id cost; the defaults are argon2-cffi's (RFC 9106 low-memory profile).
        "PASSWORD_HASH_TIME_COST": _int("PASSWORD_HASH_TIME_COST", 3),
        "PASSWORD_HASH_MEMORY_KIB": _int("PASSWORD_HASH_MEMORY_KIB", 65536),
        "PASSWORD_HASH_PARALLELISM": _int("PASSWORD_HASH_PARALLELISM", 4),
        "TOKEN_TTL_SECONDS": _int("TOKEN_TTL_SECONDS", 7 * 24 * 3600),
        # Log-in throttling: failures allowed per window, per phone and per client address.
        "LOGIN_WINDOW_SECONDS": _int("LOGIN_WINDOW_SECONDS", 15 * 60),
        "LOGIN_MAX_FAILURES_PER_PHONE": _int("LOGIN_MAX_FAILURES_PER_PHONE", 5),
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
        "REMINDER_WEBHOOK_SECRET": env.get("REMINDER_WEBHOOK_SECRET", "dev-webhook-secret"),
        "REMINDER_WEBHOOK_TIMEOUT_SECONDS": float(env.get("REMINDER_WEBHOOK_TIMEOUT_SECONDS", "5")),
        "DISPATCHER_INTERVAL_SECONDS": float(env.get("DISPATCHER_INTERVAL_SECONDS", "3")),
        # Override content/reminders.yaml's lease and batch size (tests, tuning); 0 = the file's.
        "DISPATCHER_LEASE_SECONDS": _int("DISPATCHER_LEASE_SECONDS", 0),
        "DISPATCHER_BATCH_SIZE": _int("DISPATCHER_BATCH_SIZE", 0),
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
    "OPENAPI_SWAGGER_UI_URL": "https://cdn.jsdelivr.net/npm/swagger-ui-dist/",
    "JSON_SORT_KEYS": False,
}
