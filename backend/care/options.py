"""Care options: the programmes and choices a subject opted into."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from backend.auth.models import User
from backend.care.models import (
    CareOptions,
)
from backend.care.protocols import (
    ProtocolSet,
)
from backend.care.subjects import Subject, woman_subject
from backend.care.sync import sync
from backend.db import utcnow
from backend.errors import InvalidInput, invalid
from backend.handbook import dating
from backend.i18n import _l


def _options(session: Session, subject: Subject) -> CareOptions | None:
    return session.get(CareOptions, (subject.kind, subject.id))


def _check_options(
    protocols: ProtocolSet,
    *,
    vaccine_choices: Mapping[str, str] | None,
    flags: Mapping[str, Any] | None,
) -> None:
    """Only choices and flags the protocols declare, with values they allow (422 otherwise)."""
    groups = {
        name: group
        for versions in protocols.programmes.values()
        for version in versions
        for name, group in version.choices.items()
    }
    errors: dict[str, list[Any]] = {}
    for name, value in (vaccine_choices or {}).items():
        if name not in groups or value not in groups[name].options:
            errors[f"vaccine_choices.{name}"] = [_l("Must be one of the allowed values.")]
    declared = protocols.definitions.flags
    for name, value in (flags or {}).items():
        if name not in declared or value not in declared[name].values:
            errors[f"flags.{name}"] = [_l("Must be one of the allowed values.")]
    if errors:
        raise InvalidInput(_l("Some fields are invalid."), errors=errors)


def set_options(
    session: Session,
    *,
    subject: Subject,
    vaccine_choices: Mapping[str, str] | None,
    flags: Mapping[str, Any] | None,
    anchors: Mapping[str, dt.date | None] | None,
    protocols: ProtocolSet,
    default_tz: str,
) -> CareOptions:
    """Record a subject's vaccine choices, flags or extra dates (None clears one), then re-plan."""
    _check_options(protocols, vaccine_choices=vaccine_choices, flags=flags)
    options = _options(session, subject)
    if options is None:
        options = CareOptions(
            subject_kind=subject.kind,
            subject_id=subject.id,
            vaccine_choices={},
            flags={},
            anchors={},
        )
        session.add(options)
    if vaccine_choices is not None:
        options.vaccine_choices = {**options.vaccine_choices, **vaccine_choices}
    if flags is not None:
        options.flags = {**options.flags, **flags}
    if anchors is not None:
        merged = dict(options.anchors)
        for name, value in anchors.items():
            if value is None:
                merged.pop(name, None)
            else:
                merged[name] = value.isoformat()
        options.anchors = merged
    options.updated_at = utcnow()
    session.flush()
    sync(session, subject=subject, protocols=protocols, default_tz=default_tz)
    return options


def set_care_dates(
    session: Session,
    *,
    woman: User,
    dates: Mapping[str, Any],
    today: dt.date,
    protocols: ProtocolSet,
    default_tz: str,
) -> CareOptions:
    """Her planned pregnancy date (at most a year ahead) or marriage registration (not in the
    future), which plan the pre-pregnancy checks."""
    plan, married = dates.get("plan_date"), dates.get("marriage_registration")
    if plan is not None and not today <= plan <= dating.latest_plan_date(today):
        raise invalid("plan_date", _l("The planned date can be at most one year from today."))
    if married is not None and married > today:
        raise invalid("marriage_registration", _l("This date cannot be in the future."))
    return set_options(
        session,
        subject=woman_subject(woman),
        vaccine_choices=None,
        flags=None,
        anchors=dates,
        protocols=protocols,
        default_tz=default_tz,
    )
