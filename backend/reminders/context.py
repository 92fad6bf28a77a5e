"""What a dispatcher run needs besides the database, and what one batch did."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from backend.care.protocols import ProtocolSet
from backend.reminders.rules import Rules


@dataclass(frozen=True)
class Context:
    """What delivery needs besides the database."""

    rules: Rules
    protocols: ProtocolSet
    default_tz: str
    default_locale: str
    webhook_url: str
    webhook_secret: str
    webhook_timeout: float
    lease_seconds: int
    batch_size: int
    drain_seconds: float = 0.0
    webhook_concurrency: int = 16

    @classmethod
    def from_settings(
        cls, settings: Mapping[str, Any], *, rules: Rules, protocols: ProtocolSet
    ) -> Context:
        return cls(
            rules,
            protocols,
            settings["DEFAULT_TIMEZONE"],
            settings["DEFAULT_LOCALE"],
            settings["REMINDER_WEBHOOK_URL"],
            settings["REMINDER_WEBHOOK_SECRET"],
            float(settings["REMINDER_WEBHOOK_TIMEOUT_SECONDS"]),
            settings.get("DISPATCHER_LEASE_SECONDS") or rules.lease_seconds,
            settings.get("DISPATCHER_BATCH_SIZE") or rules.batch_size,
            float(settings.get("DISPATCHER_DRAIN_SECONDS") or rules.drain_seconds),
            int(settings.get("REMINDER_WEBHOOK_CONCURRENCY") or rules.webhook_concurrency),
        )


@dataclass
class Batch:
    """What one batch did."""

    claimed: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)

    def add(self, outcome: str, n: int = 1) -> None:
        if n:
            self.outcomes[outcome] = self.outcomes.get(outcome, 0) + n
