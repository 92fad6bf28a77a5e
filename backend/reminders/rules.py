"""The reminder policy of content/reminders.yaml (validated at start-up by backend.content)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from backend import content
from backend.content.models import ReminderOffset, ReminderRules

STEP_OCCURRENCES = ("before", "due", "nudge_1", "nudge_2", "escalation")
ANCHORS = ("opens_on", "due_on")


@dataclass(frozen=True)
class Offset:
    """A reminder `days` after (negative: before) a step's `anchor` date."""

    anchor: str
    days: int

    def date(self, opens_on: dt.date, due_on: dt.date) -> dt.date:
        base = opens_on if self.anchor == "opens_on" else due_on
        return base + dt.timedelta(days=self.days)


@dataclass(frozen=True)
class Rules:
    step_offsets: dict[str, Offset]
    overrides: dict[str, dict[str, Offset | None]]
    family_only: bool
    send_time: dt.time
    quiet_start: dt.time
    quiet_end: dt.time
    effect_window_days: int
    max_attempts: int
    backoff_seconds: float
    backoff_max_seconds: float
    jitter: float
    lease_seconds: int
    batch_size: int
    drain_seconds: float
    webhook_concurrency: int
    regimen_horizon_days: int
    miniprogram_templates: dict[str, str]

    def offsets_for(self, code: str) -> dict[str, Offset]:
        """The step offsets for a protocol item, defaults overridden per code."""
        merged: dict[str, Offset | None] = {**self.step_offsets, **self.overrides.get(code, {})}
        return {k: v for k, v in merged.items() if v is not None}


def _offset(value: ReminderOffset) -> Offset:
    return Offset(value.from_, value.days)


def _offsets(values: Mapping[Any, ReminderOffset | None]) -> dict[str, Offset | None]:
    return {k: None if v is None else _offset(v) for k, v in values.items()}


def from_model(data: ReminderRules) -> Rules:
    """The runtime rules from the validated file (backend.content.models.ReminderRules)."""
    steps = data.steps
    overrides = {code: _offsets(values) for code, values in steps.overrides.items()}
    if steps.after_loss is not None:
        # Steps that follow a pregnancy loss: one gentler rule replaces the standard nudges
        # and escalation for each listed code (clinical audit, issue 9 point 9).
        gentle = _offsets(steps.after_loss.offsets)
        for code in steps.after_loss.codes:
            overrides[code] = {**gentle, **overrides.get(code, {})}
    delivery = data.delivery
    return Rules(
        step_offsets={k: _offset(v) for k, v in steps.defaults.items()},
        overrides=overrides,
        family_only=steps.family_only,
        send_time=data.send_time,
        quiet_start=data.quiet_hours.start,
        quiet_end=data.quiet_hours.end,
        effect_window_days=data.effect_window_days,
        max_attempts=delivery.max_attempts,
        backoff_seconds=float(delivery.backoff_seconds),
        backoff_max_seconds=float(delivery.backoff_max_seconds),
        jitter=float(delivery.jitter),
        lease_seconds=delivery.lease_seconds,
        batch_size=delivery.batch_size,
        drain_seconds=float(delivery.drain_seconds),
        webhook_concurrency=delivery.webhook_concurrency,
        regimen_horizon_days=data.regimens.horizon_days,
        miniprogram_templates=dict(data.miniprogram_templates),
    )


_built: tuple[ReminderRules, Rules] | None = None


def load() -> Rules:
    """The rules of content/reminders.yaml, as validated at start-up (built once per load)."""
    global _built
    data = content.typed(ReminderRules)
    if _built is None or _built[0] is not data:
        _built = (data, from_model(data))
    return _built[1]
