"""The reminder policy of content/reminders.yaml, loaded once and checked."""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

RULES_FILE = Path(__file__).resolve().parents[2] / "content" / "reminders.yaml"
STEP_OCCURRENCES = ("before", "due", "nudge_1", "nudge_2", "escalation")
ANCHORS = ("opens_on", "due_on")


class RulesError(ValueError):
    """content/reminders.yaml is broken; the message names the field."""


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


def _time(value: Any, field: str) -> dt.time:
    try:
        return dt.time.fromisoformat(str(value))
    except ValueError as exc:
        raise RulesError(f"{RULES_FILE.name}: field {field}: not a time HH:MM") from exc


def _offset(value: Any, field: str) -> Offset:
    if not isinstance(value, dict) or value.get("from") not in ANCHORS:
        raise RulesError(f"{RULES_FILE.name}: field {field}: needs from: opens_on|due_on")
    if not isinstance(value.get("days"), int):
        raise RulesError(f"{RULES_FILE.name}: field {field}.days: not an integer")
    return Offset(value["from"], value["days"])


def parse(data: dict[str, Any], known_codes: set[str] | None = None) -> Rules:
    """Build the rules; raise RulesError naming the field on any problem."""
    try:
        steps = data["steps"]
        defaults = {k: _offset(v, f"steps.defaults.{k}") for k, v in steps["defaults"].items()}
        unknown = set(defaults) - set(STEP_OCCURRENCES)
        if unknown:
            raise RulesError(f"{RULES_FILE.name}: field steps.defaults: unknown {sorted(unknown)}")
        overrides: dict[str, dict[str, Offset | None]] = {}
        for code, values in (steps.get("overrides") or {}).items():
            if known_codes is not None and code not in known_codes:
                raise RulesError(f"{RULES_FILE.name}: field steps.overrides.{code}: no such item")
            overrides[code] = {
                k: None if v is None else _offset(v, f"steps.overrides.{code}.{k}")
                for k, v in values.items()
            }
        gentle = steps.get("after_loss")
        if gentle is not None:
            # Steps that follow a pregnancy loss: one gentler rule replaces the standard nudges
            # and escalation for each listed code (clinical audit, issue 9 point 9).
            offsets = {
                k: None if v is None else _offset(v, f"steps.after_loss.offsets.{k}")
                for k, v in (gentle.get("offsets") or {}).items()
            }
            if set(offsets) - set(STEP_OCCURRENCES):
                raise RulesError(f"{RULES_FILE.name}: field steps.after_loss.offsets: unknown keys")
            for code in gentle.get("codes") or []:
                if known_codes is not None and code not in known_codes:
                    raise RulesError(
                        f"{RULES_FILE.name}: field steps.after_loss.codes: no such item {code}"
                    )
                overrides[code] = {**offsets, **overrides.get(code, {})}
        delivery = data["delivery"]
        return Rules(
            step_offsets=defaults,
            overrides=overrides,
            family_only=bool(steps.get("family_only", True)),
            send_time=_time(data["send_time"], "send_time"),
            quiet_start=_time(data["quiet_hours"]["start"], "quiet_hours.start"),
            quiet_end=_time(data["quiet_hours"]["end"], "quiet_hours.end"),
            effect_window_days=int(data["effect_window_days"]),
            max_attempts=int(delivery["max_attempts"]),
            backoff_seconds=float(delivery["backoff_seconds"]),
            backoff_max_seconds=float(delivery["backoff_max_seconds"]),
            jitter=float(delivery["jitter"]),
            lease_seconds=int(delivery["lease_seconds"]),
            batch_size=int(delivery["batch_size"]),
            drain_seconds=float(delivery["drain_seconds"]),
            webhook_concurrency=int(delivery["webhook_concurrency"]),
            regimen_horizon_days=int(data["regimens"]["horizon_days"]),
            miniprogram_templates=dict(data.get("miniprogram_templates") or {}),
        )
    except KeyError as exc:
        raise RulesError(f"{RULES_FILE.name}: field {exc.args[0]}: required") from exc


@functools.cache
def load(path: str = str(RULES_FILE)) -> Rules:
    """The rules from content/reminders.yaml."""
    with open(path, encoding="utf-8") as f:
        return parse(yaml.safe_load(f))
