"""Results and not-done marks of care steps, checked against the protocol item."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from backend.auth.models import User
from backend.care import signals
from backend.care.models import (
    CareResult,
    CareStep,
    StepState,
)
from backend.care.protocols import (
    Item,
    ProtocolSet,
    check_result,
    interpret,
)
from backend.care.sync import sync_subject_of
from backend.db import utcnow
from backend.errors import Conflict, InvalidInput, invalid
from backend.i18n import _, _l

# --- results, not done, risk ------------------------------------------------------------------


def _values_errors(item: Item, values: Mapping[str, Any]) -> dict[str, list[str]]:
    """Localized field errors for a result's values (names as values.<field>)."""
    messages = {
        "unknown field for this step": _("This step does not take this value."),
        "required": _("Missing data for required field."),
        "must be true or false": _("Not a valid boolean."),
        "must be text": _("Not a valid string."),
        "must be a whole number": _("Not a valid integer."),
        "must be a number": _("Not a valid number."),
        "must be a ratio such as 1/270": _("Give a ratio such as 1/270."),
        "must give a value per side: {left: ..., right: ...}": _(
            "Give a value for each side: left and right."
        ),
    }
    errors: dict[str, list[str]] = {}
    for name, message in check_result(item, values).items():
        if message in messages:
            text = messages[message]
        elif message.startswith("must be one of"):
            text = _("Must be one of the allowed values.")
        elif message.startswith("must be at least"):
            text = _("This value is impossibly low: %(limit)s.", limit=message.split("least ")[1])
        elif message.startswith("must be at most"):
            text = _("This value is impossibly high: %(limit)s.", limit=message.split("most ")[1])
        else:
            text = message
        errors[f"values.{name}"] = [text]
    return errors


def log_result(
    session: Session,
    *,
    step: CareStep,
    actor: User,
    values: Mapping[str, Any],
    performed_on: dt.date,
    protocols: ProtocolSet,
    default_tz: str,
    today: dt.date,
    interpretation: str | None = None,
    note: str | None = None,
) -> CareResult:
    """Log a result: validate against the protocol, interpret, mark done, re-plan follow-ups."""
    if step.state == StepState.CANCELLED:
        raise Conflict(_l("This step was cancelled."))
    if performed_on > today:
        raise invalid("performed_on", _l("This date cannot be in the future."))
    item = protocols.item(step.code, on=step.opens_on)
    errors = _values_errors(item, values)
    if errors:
        raise InvalidInput(_l("Some fields are invalid."), errors=errors)
    result = CareResult(
        step_id=step.id,
        values=dict(values),
        interpretation=interpretation or interpret(item, values),
        performed_on=performed_on,
        note=note,
        recorded_by=actor.id,
    )
    session.add(result)
    step.state = StepState.DONE
    step.done_on = performed_on
    step.interpretation = result.interpretation
    step.not_done_reason = None
    step.updated_at = utcnow()
    session.flush()
    sync_subject_of(session, step, protocols=protocols, default_tz=default_tz)
    signals.schedule_changed.send(None, session=session, person_ids={step.person_id})
    return result


def mark_not_done(
    session: Session,
    *,
    step: CareStep,
    reason: str,
    done_on: dt.date | None,
    note: str | None,
    protocols: ProtocolSet,
    default_tz: str,
    today: dt.date,
) -> CareStep:
    """Declined, or done elsewhere (with its date, which then counts as done)."""
    if step.state == StepState.DONE and step.not_done_reason is None:
        raise Conflict(_l("This step already has a result."))
    if reason == "done_elsewhere":
        if done_on is None:
            raise invalid("done_on", _l("Give the date it was done."))
        if done_on > today:
            raise invalid("done_on", _l("This date cannot be in the future."))
        step.state, step.done_on = StepState.DONE, done_on
    else:
        step.state, step.done_on = StepState.DECLINED, None
    step.not_done_reason, step.note = reason, note
    step.updated_at = utcnow()
    session.flush()
    sync_subject_of(session, step, protocols=protocols, default_tz=default_tz)
    signals.schedule_changed.send(None, session=session, person_ids={step.person_id})
    return step
