"""`flask --app backend seed-demo`: the small demo that `make run` serves (idempotent).

Logins (listed in the README): admin 13800000001, doctor 13800000002, educator 13800000003,
citizen 13800000004, health bureau 13800000005 (Lucheng and Longwan), all with the password
`demo-pass-2026`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select
from sqlalchemy.orm import Session as OrmSession

from backend import clock
from backend.access import service as access_service
from backend.auth import service as auth_service
from backend.auth.models import Institution, Registration, Role, User
from backend.db import Session
from backend.education import lesson_files
from backend.education import service as lesson_service
from backend.handbook import service as handbook_service
from backend.handbook.children import create_child
from backend.handbook.pregnancies import create_pregnancy
from backend.indicators.demo import seed_population

PASSWORD = "demo-pass-2026"
INSTITUTION = {
    "name": "鹿城区南汇街道社区卫生服务中心",
    "kind": "community_health_centre",
    "district_code": "330302",
}
PEOPLE: tuple[tuple[Role, str, str], ...] = (
    (Role.ADMIN, "13800000001", "系统管理员"),
    (Role.DOCTOR, "13800000002", "李医生"),
    (Role.EDUCATOR, "13800000003", "王老师"),
    (Role.CITIZEN, "13800000004", "陈小梅"),
    (Role.BUREAU, "13800000005", "鹿城区卫健局"),
)
# The demo health bureau reads these districts (GB/T 2260).
BUREAU_DISTRICTS = ["330302", "330303"]


def _institution(session: OrmSession) -> Institution:
    inst = session.scalars(
        select(Institution).where(Institution.name == INSTITUTION["name"])
    ).first()
    return inst or auth_service.create_institution(session, data=INSTITUTION)


def _person(session: OrmSession, role: Role, phone: str, name: str, inst: Institution) -> User:
    user = auth_service.get_by_phone(session, phone=phone)
    if user is None:
        needs_inst = role in (Role.DOCTOR, Role.EDUCATOR)
        user = auth_service.create_user(
            session,
            role=role,
            phone=phone,
            password=PASSWORD,
            name=name,
            institution_id=inst.id if needs_inst else None,
            district_codes=BUREAU_DISTRICTS if role == Role.BUREAU else None,
        )
    return user


def seed(session: OrmSession, settings: Any) -> dict[str, User]:
    """Create what is missing of the demo; returns the demo users by role."""
    inst = _institution(session)
    users = {role.value: _person(session, role, phone, name, inst) for role, phone, name in PEOPLE}
    citizen = users["citizen"]
    _seed_citizen(session, citizen, inst, settings)
    _seed_lessons(session, author=users["educator"], approver=users["admin"])
    _seed_statistics(session, settings)
    return users


def _seed_statistics(session: OrmSession, settings: Any) -> None:
    """A synthetic population behind the bureau's indicators (backend/indicators/demo.py)."""
    seed_population(session, today=clock.today(None, settings["DEFAULT_TIMEZONE"]))


def _seed_lessons(session: OrmSession, *, author: User, approver: User) -> None:
    """The lessons of content/lessons, written by the educator and approved by the admin."""
    lesson_service.import_lessons(
        session, lessons=lesson_files.read_tree(), author=author, approver=approver
    )


def _seed_citizen(session: OrmSession, citizen: User, inst: Institution, settings: Any) -> None:
    """Her profile and registration, a two-year-old, and a pregnancy at 20 weeks."""
    if citizen.birth_date is None:
        citizen.birth_date = dt.date(1996, 5, 12)
        citizen.sex = "female"
        citizen.district_code = INSTITUTION["district_code"]
    registered = session.scalars(
        select(Registration).where(
            Registration.user_id == citizen.id, Registration.left_at.is_(None)
        )
    ).first()
    if registered is None:
        access_service.register_at(session, user=citizen, institution_id=inst.id)
    pregnancies, children = handbook_service.all_records(session, person=citizen)
    today = clock.today(citizen.timezone, settings["DEFAULT_TIMEZONE"])
    tz = settings["DEFAULT_TIMEZONE"]
    if not children:
        create_child(
            session,
            guardian=citizen,
            default_tz=tz,
            data={"name": "小宝", "sex": "male", "birth_date": today - dt.timedelta(days=2 * 365)},
        )
    if not pregnancies:
        create_pregnancy(
            session,
            woman=citizen,
            actor=citizen,
            default_tz=tz,
            data={"lmp": today - dt.timedelta(weeks=20), "gravidity": 2, "parity": 1},
        )
    session.flush()


@click.command("seed-demo")
@with_appcontext
def seed_demo() -> None:
    """Create the demo institution, admin, doctor, educator and citizen (idempotent)."""
    session = Session()
    users = seed(session, current_app.config)
    session.commit()
    for role, user in users.items():
        click.echo(f"demo {role:<9} phone {user.phone}  password {PASSWORD}")
