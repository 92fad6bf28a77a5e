"""Delivery channels: the in-app inbox (always) and a signed webhook to the SMS/mini-program
gateway. A failing channel raises ChannelError; the dispatcher moves on to the next one."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

SIGNATURE_HEADER = "X-MCH-Signature"
TIMESTAMP_HEADER = "X-MCH-Timestamp"


class ChannelError(Exception):
    """The channel could not deliver (the gateway failed, timed out or refused)."""


@dataclass(frozen=True)
class Message:
    """One rendered reminder, ready for any channel."""

    reminder_id: str
    kind: str
    title: str
    body: str
    locale: str
    data: Mapping[str, Any]


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """HMAC-SHA256 over "<timestamp>." + body, hex; the gateway recomputes it to verify."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify(
    secret: str,
    timestamp: str,
    body: bytes,
    signature: str,
    max_age_seconds: int = 300,
    now: float | None = None,
) -> bool:
    """What a gateway does with our request: fresh timestamp and matching signature."""
    if abs((now or time.time()) - int(timestamp)) > max_age_seconds:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


def post_webhook(
    *,
    url: str,
    secret: str,
    timeout: float,
    channel: str,
    message: Message,
    recipient: Mapping[str, Any],
    template_id: str | None = None,
) -> str:
    """POST the message as JSON, signed, with an idempotency key; return the gateway's status."""
    payload = {
        "id": message.reminder_id,
        "channel": channel,
        "template_id": template_id,
        "recipient": dict(recipient),
        "kind": message.kind,
        "locale": message.locale,
        "title": message.title,
        "body": message.body,
        "data": dict(message.data),
    }
    body = json.dumps(payload, ensure_ascii=False, sort_keys=True).encode()
    timestamp = str(int(time.time()))
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json; charset=utf-8",
            # The same reminder on the same channel always carries the same key, so a gateway
            # that sees a retry of a message it already sent can drop it (at-least-once).
            "Idempotency-Key": f"{message.reminder_id}:{channel}",
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: sign(secret, timestamp, body),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return f"HTTP {response.status}"
    except urllib.error.HTTPError as exc:
        raise ChannelError(f"HTTP {exc.code}") from exc
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise ChannelError(f"{type(exc).__name__}: {exc}"[:300]) from exc
