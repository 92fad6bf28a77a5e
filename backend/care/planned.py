"""What the schedule engine takes and gives: subject facts in, planned steps (each with its
reason) out, and the statuses a step can have. Apart from engine.py so both stay readable;
engine re-exports them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from backend.care.protocols import KINDS, RISK_COLOURS, SEXES, Item
from backend.conditions import Source

UPCOMING = "upcoming"
DUE = "due"
OVERDUE = "overdue"
DONE = "done"
MISSED = "missed"
CANCELLED = "cancelled"
NOT_APPLICABLE = "not_applicable"
STATUSES = (UPCOMING, DUE, OVERDUE, DONE, MISSED, CANCELLED, NOT_APPLICABLE)


@dataclass(frozen=True)
class Completion:
    """A step that was done: when, the interpretation recorded, and the values logged."""

    done_on: dt.date
    interpretation: str | None = None
    values: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SubjectFacts:
    """Everything the engine may know about one woman, pregnancy or child; read-only.

    `anchors` holds the subject's dates by name (lmp, edd, birth, discharge, plan_date,
    marriage_registration, insertion, pregnancy_end, risk_assessment). `completed` maps a step
    code to a Completion (a (done_on, interpretation) tuple is accepted). `ended_on` is set when
    the subject's course ended (a pregnancy by birth or loss): pending steps are then cancelled.
    """

    kind: str
    enrolled_on: dt.date
    anchors: Mapping[str, dt.date] = field(default_factory=dict)
    sex: str | None = None
    ga_at_birth_days: int | None = None
    preterm: bool | None = None
    birth_weight_g: int | None = None
    risk_colours: frozenset[str] = frozenset()
    completed: Mapping[str, Completion] = field(default_factory=dict)
    vaccine_choices: Mapping[str, str] = field(default_factory=dict)
    flags: Mapping[str, Any] = field(default_factory=dict)
    ended_on: dt.date | None = None
    mother_birth_date: dt.date | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, not {self.kind!r}")
        if self.sex is not None and self.sex not in SEXES:
            raise ValueError(f"sex must be one of {SEXES}, not {self.sex!r}")
        colours = frozenset(self.risk_colours)
        if colours - set(RISK_COLOURS):
            raise ValueError(f"unknown risk colours: {sorted(colours - set(RISK_COLOURS))}")
        completed = {
            code: c if isinstance(c, Completion) else Completion(*c)
            for code, c in self.completed.items()
        }
        object.__setattr__(self, "risk_colours", colours)
        object.__setattr__(self, "completed", MappingProxyType(completed))
        for name in ("anchors", "vaccine_choices", "flags"):
            object.__setattr__(self, name, MappingProxyType(dict(getattr(self, name))))


@dataclass(frozen=True)
class Reason:
    """Why a step has its dates and status, in machine-readable form."""

    programme: str
    version: str
    effective_from: dt.date
    anchor: str | None
    anchor_date: dt.date | None
    offsets: Mapping[str, str]
    condition: Any = None
    excluded_by: str | None = None
    adjustments: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly form (dates as ISO strings)."""
        return {
            "programme": self.programme,
            "version": self.version,
            "effective_from": self.effective_from.isoformat(),
            "anchor": self.anchor,
            "anchor_date": self.anchor_date.isoformat() if self.anchor_date else None,
            "offsets": dict(self.offsets),
            "condition": _jsonable(self.condition),
            "excluded_by": self.excluded_by,
            "adjustments": list(self.adjustments),
        }


@dataclass(frozen=True)
class PlannedStep:
    """One step of one subject's schedule: its window, status, texts and reason.

    Dates are None only for a not_applicable step whose anchor is unknown, or a done step whose
    window can no longer be computed; the texts are returned unrendered in every locale.
    """

    code: str
    programme: str
    version: str
    kind: str
    status: str
    opens_on: dt.date | None
    due_on: dt.date | None
    closes_on: dt.date | None
    title: Mapping[str, str]
    why: Mapping[str, str]
    title_key: str
    why_key: str
    source: Source
    verified: bool
    optional: bool
    actor: str
    reason: Reason
    closed_before_enrolment: bool = False
    done_on: dt.date | None = None
    interpretation: str | None = None
    item: Item | None = field(default=None, compare=False, repr=False)


def _jsonable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dt.date):
        return value.isoformat()
    return value
