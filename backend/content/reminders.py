"""content/reminders.yaml."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import (
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
)

from backend.content.common import (
    Code,
    Strict,
)


class ReminderOffset(Strict):
    from_: Literal["opens_on", "due_on"] = Field(alias="from")
    days: StrictInt


Occurrence = Literal["before", "due", "nudge_1", "nudge_2", "escalation"]


class AfterLoss(Strict):
    codes: list[Code]
    offsets: dict[Occurrence, ReminderOffset | None]


class StepRules(Strict):
    defaults: dict[Occurrence, ReminderOffset]
    family_only: StrictBool = True
    overrides: dict[Code, dict[Occurrence, ReminderOffset | None]] = Field(default_factory=dict)
    after_loss: AfterLoss | None = None


class QuietHours(Strict):
    model_config = ConfigDict(extra="forbid", strict=False, frozen=True)  # "21:00" is a time

    start: dt.time
    end: dt.time


class Delivery(Strict):
    max_attempts: Annotated[StrictInt, Field(gt=0)]
    backoff_seconds: Annotated[float, Field(gt=0)]
    backoff_max_seconds: Annotated[float, Field(gt=0)]
    jitter: Annotated[float, Field(ge=0, lt=1)]
    lease_seconds: Annotated[StrictInt, Field(gt=0)]
    batch_size: Annotated[StrictInt, Field(gt=0)]
    drain_seconds: Annotated[float, Field(gt=0)]
    webhook_concurrency: Annotated[StrictInt, Field(gt=0)]


class RegimenReminders(Strict):
    horizon_days: Annotated[StrictInt, Field(gt=0)]


class ReminderRules(Strict):
    """content/reminders.yaml: when families are reminded, and how delivery retries."""

    model_config = ConfigDict(extra="forbid", strict=False, frozen=True)  # "09:00" is a time

    version: StrictInt
    source: str
    steps: StepRules
    send_time: dt.time
    quiet_hours: QuietHours
    effect_window_days: Annotated[StrictInt, Field(gt=0)]
    delivery: Delivery
    regimens: RegimenReminders
    miniprogram_templates: dict[str, str] = Field(default_factory=dict)
