"""A person's profile and her life stages (derived from her pregnancies and children)."""

from __future__ import annotations

import datetime as dt
import functools
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Date,
    String,
    Uuid,
    bindparam,
    case,
    cast,
    exists,
    literal,
    null,
    select,
    union_all,
)
from sqlalchemy.orm import Session

from backend import clock
from backend.auth.models import User
from backend.auth.security import FieldCipher, national_id_birth_date
from backend.clock import person_today
from backend.errors import invalid
from backend.handbook import dating, stages
from backend.handbook.models import Child, Guardian, Pregnancy
from backend.handbook.service import flush, is_birth_for_mother
from backend.i18n import _l


@dataclass(frozen=True)
class Profile:
    """A person's profile as shown to herself, with the national ID masked."""

    id: uuid.UUID
    phone: str | None
    name: str | None
    sex: str | None
    birth_date: dt.date | None
    national_id: str | None
    district_code: str | None
    locale: str | None
    timezone: str | None
    role: str
    version: int
    life_stages: list[stages.LifeStage]


def mask_national_id(value: str) -> str:
    """Keep the region code and the last two characters: 330302**********3X."""
    return value[:6] + "*" * (len(value) - 8) + value[-2:]


@functools.cache
def _stage_facts() -> Any:
    """Her pregnancies and the children she is guardian of, as one statement built once (a GET
    /me runs it; building it each time cost more than the ORM's work on its rows)."""
    person = bindparam("person", type_=Uuid)
    as_date, as_text = cast(null(), Date), cast(null(), String)
    return union_all(
        select(
            literal("pregnancy").label("kind"),
            Pregnancy.id,
            Pregnancy.status.label("text_a"),
            Pregnancy.edd.label("date_a"),
            Pregnancy.ended_on.label("date_b"),
            Pregnancy.end_kind.label("text_b"),
            Pregnancy.ga_at_end_days.label("number"),
        ).where(Pregnancy.woman_id == person),
        select(
            literal("child"),
            Child.id,
            Guardian.relation,
            Child.birth_date,
            as_date,
            as_text,
            case((Child.pregnancy_id.is_not(None), 1), else_=0),
        )
        .join(Guardian, Guardian.child_id == Child.id)
        .where(Guardian.user_id == person),
    )


def person_facts(session: Session, *, person: User) -> stages.PersonFacts:
    """Her pregnancies and the children she is guardian of, in one query (one round trip of a
    GET /me or /me/feed), whatever the number of records."""
    # Plain columns: run on the session's connection (Core), without the ORM's per-call set-up.
    rows = session.connection().execute(_stage_facts(), {"person": person.id}).all()
    pregnancies = [
        stages.PregnancyFacts(
            id=row.id,
            status=row.text_a,
            dating_lmp=dating.dating_lmp(row.date_a),
            delivered_on=row.date_b
            if is_birth_for_mother(row.text_a, row.text_b, row.number)
            else None,
            ended_on=row.date_b,
        )
        for row in rows
        if row.kind == "pregnancy"
    ]
    children = [
        stages.ChildFacts(
            id=row.id,
            birth_date=row.date_a,
            born_of_recorded_pregnancy=bool(row.number),
            relation=row.text_a,
        )
        for row in rows
        if row.kind == "child"
    ]
    return stages.PersonFacts(
        id=person.id, birth_date=person.birth_date, pregnancies=pregnancies, children=children
    )


def life_stages(session: Session, *, person: User, today: dt.date) -> list[stages.LifeStage]:
    """The person's current life stages (one query: `person_facts`)."""
    return stages.derive(person_facts(session, person=person), today=today)


def profile(session: Session, *, user: User, default_tz: str, cipher: FieldCipher) -> Profile:
    """The user's profile with her current life stages."""
    national_id = cipher.decrypt(user.national_id_cipher) if user.national_id_cipher else None
    return Profile(
        id=user.id,
        phone=user.phone,
        name=user.name,
        sex=user.sex,
        birth_date=user.birth_date,
        national_id=mask_national_id(national_id) if national_id else None,
        district_code=user.district_code,
        locale=user.locale,
        timezone=user.timezone,
        role=user.role,
        version=user.version,
        life_stages=life_stages(session, person=user, today=person_today(user, default_tz)),
    )


def update_profile(
    session: Session,
    *,
    user: User,
    data: Mapping[str, Any],
    default_tz: str,
    cipher: FieldCipher,
) -> User:
    """Change the profile; a national ID is stored encrypted with its keyed hash, never in clear."""
    changes = dict(data)
    today = clock.today(changes.get("timezone") or user.timezone, default_tz)
    if "national_id" in changes:
        national_id = changes.pop("national_id")
        if national_id is None:
            user.national_id_cipher = None
            user.national_id_hash = None
        else:
            national_id = national_id.upper()
            digest = cipher.lookup_hash(national_id)
            taken = session.scalar(
                select(exists().where(User.national_id_hash == digest, User.id != user.id))
            )
            if taken:
                raise invalid(
                    "national_id", _l("This ID number is already registered to another account.")
                )
            id_birth_date = national_id_birth_date(national_id)
            if id_birth_date > today:
                raise invalid("national_id", _l("This ID number gives a birth date in the future."))
            given = changes.get("birth_date")
            if given is not None and given != id_birth_date:
                raise invalid("birth_date", _l("The birth date does not match the ID number."))
            changes["birth_date"] = id_birth_date
            user.national_id_cipher = cipher.encrypt(national_id)
            user.national_id_hash = digest
    elif changes.get("birth_date") is not None and user.national_id_cipher:
        stored = cipher.decrypt(user.national_id_cipher)
        if stored and national_id_birth_date(stored) != changes["birth_date"]:
            raise invalid("birth_date", _l("The birth date does not match the ID number."))
    if changes.get("birth_date") is not None and changes["birth_date"] > today:
        raise invalid("birth_date", _l("The birth date cannot be in the future."))
    for key, value in changes.items():
        setattr(user, key, value)
    flush(session)
    return user
