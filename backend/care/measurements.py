"""Home measurements (blood pressure, weight, …) checked against content/measurements.yaml."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend import content
from backend.auth.models import User
from backend.care.models import (
    Measurement,
)
from backend.care.subjects import Subject
from backend.db import utcnow
from backend.errors import InvalidInput, invalid
from backend.i18n import _, _l
from backend.paging import paginate

# --- home measurements --------------------------------------------------------------------------


def measurement_kinds() -> dict[str, dict[str, Any]]:
    """The kinds of home measurement and their fields' plausible ranges (content/, at start-up)."""
    return dict(content.raw("measurements")["kinds"])


def _measurement_errors(kind: str, values: Mapping[str, Any]) -> dict[str, list[str]]:
    spec = measurement_kinds()[kind]["fields"]
    errors: dict[str, list[str]] = {}
    for name in values:
        if name not in spec:
            errors[f"values.{name}"] = [_("Unknown field.")]
    for name, rule in spec.items():
        value = values.get(name)
        key = f"values.{name}"
        if value is None:
            if rule.get("required"):
                errors[key] = [_("Missing data for required field.")]
            continue
        integer = rule["type"] == "integer"
        if isinstance(value, bool) or not isinstance(value, int if integer else int | float):
            errors[key] = [_("Not a valid integer.") if integer else _("Not a valid number.")]
        elif not rule["min"] <= value <= rule["max"]:
            errors[key] = [
                _(
                    "Enter a value from %(min)s to %(max)s %(unit)s.",
                    min=rule["min"],
                    max=rule["max"],
                    unit=rule["unit"],
                )
            ]
    sys, dia = values.get("systolic_mmhg"), values.get("diastolic_mmhg")
    if not errors and isinstance(sys, int) and isinstance(dia, int) and dia >= sys:
        errors["values.diastolic_mmhg"] = [_("The lower pressure must be below the upper one.")]
    return errors


def record_measurement(
    session: Session,
    *,
    subject: Subject,
    actor: User,
    kind: str,
    values: Mapping[str, Any],
    measured_at: dt.datetime,
) -> Measurement:
    """A home measurement, marked self-reported unless a doctor logged it."""
    if measured_at > utcnow() + dt.timedelta(minutes=5):
        raise invalid("measured_at", _l("This date cannot be in the future."))
    errors = _measurement_errors(kind, values)
    if errors:
        raise InvalidInput(_l("Some fields are invalid."), errors=errors)
    row = Measurement(
        subject_kind=subject.kind,
        subject_id=subject.id,
        person_id=subject.person.id,
        kind=kind,
        values=dict(values),
        measured_at=measured_at,
        self_reported=actor.role == "citizen",
        recorded_by=actor.id,
    )
    session.add(row)
    session.flush()
    return row


def measurements(
    session: Session, *, person: User, page: int, page_size: int, kind: str | None = None
) -> tuple[list[Measurement], int]:
    """A page of the person's measurements, newest first."""
    stmt = select(Measurement).where(Measurement.person_id == person.id)
    if kind:
        stmt = stmt.where(Measurement.kind == kind)
    stmt = stmt.order_by(Measurement.measured_at.desc(), Measurement.id)
    return paginate(session, stmt, page=page, page_size=page_size)
