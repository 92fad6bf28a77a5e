"""Every route × every role × another person's record: the policy answers 401/403/404.

The matrix is built from the app's url_map, so it grows with every new route: a route with a
path parameter the matrix does not know fails the test until a sample id is added here.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid

import pytest

from backend import clock
from backend.auth.models import Role
from backend.auth.policy import route_roles
from tests.conftest import Api, new_phone

# Routes anyone may call (sign-up and log-in), with the methods that are public.
PUBLIC = {
    ("POST", "/api/v1/auth/register"),
    ("POST", "/api/v1/auth/token"),
    ("POST", "/api/v1/auth/miniprogram"),
    ("GET", "/api/v1/calendar-feeds/<secret>.ics"),
}


def _today() -> dt.date:
    return clock.today("Asia/Shanghai")


# A valid body per (method, rule), so that a refusal is the policy's and not the validator's.
def _bodies() -> dict[tuple[str, str], dict]:
    today = _today()
    return {
        ("PATCH", "/api/v1/pregnancies/<uuid:pregnancy_id>"): {"gravidity": 2},
        ("POST", "/api/v1/pregnancies/<uuid:pregnancy_id>/birth"): {
            "born_at": f"{today.isoformat()}T08:00:00+08:00",
            "ga_weeks": 39,
            "babies": [{"sex": "female", "weight_g": 3200, "length_cm": 50}],
        },
        ("POST", "/api/v1/pregnancies/<uuid:pregnancy_id>/end"): {
            "kind": "miscarriage",
            "ended_on": today.isoformat(),
        },
        ("PATCH", "/api/v1/children/<uuid:child_id>"): {"name": "改名"},
        ("PATCH", "/api/v1/me/partners/<uuid:grant_id>"): {"can_write": True},
        ("POST", "/api/v1/care-steps/<uuid:step_id>/results"): {
            "values": {},
            "performed_on": today.isoformat(),
        },
        ("POST", "/api/v1/care-steps/<uuid:step_id>/not-done"): {"reason": "declined"},
        ("POST", "/api/v1/pregnancies/<uuid:pregnancy_id>/risk-assessments"): {
            "colours": ["red"],
            "assessed_on": today.isoformat(),
        },
        ("PUT", "/api/v1/patients/<uuid:patient_id>/regimens/folic-acid"): {
            "risk_factors": ["diabetes"],
        },
        ("POST", "/api/v1/patients/<uuid:patient_id>/contraception"): {
            "method": "condom",
            "started_on": today.isoformat(),
        },
        ("PUT", "/api/v1/patients/<uuid:patient_id>/contraception/facts"): {"smoker": False},
        ("POST", "/api/v1/contraception-methods/<uuid:record_id>/stop"): {
            "ended_on": today.isoformat(),
        },
        ("PATCH", "/api/v1/children/<uuid:child_id>/care-options"): {
            "vaccine_choices": {"JE": "JE-I"},
        },
        ("PATCH", "/api/v1/pregnancies/<uuid:pregnancy_id>/care-options"): {
            "flags": {"previous_birth_defect": True},
        },
        ("PATCH", "/api/v1/lessons/<uuid:lesson_id>"): {"reading_minutes": 9},
        ("POST", "/api/v1/lessons/<uuid:lesson_id>/return"): {"comments": "改一下"},
        ("POST", "/api/v1/lessons/<uuid:lesson_id>/reads"): {"completed": True},
        ("POST", "/api/v1/children/<uuid:child_id>/birth-defects"): {
            "icd10": "Q69.9",
            "timing": "within_42_days",
            "diagnosed_on": today.isoformat(),
        },
        ("POST", "/api/v1/pregnancies/<uuid:pregnancy_id>/birth-defects"): {
            "icd10": "Q21.0",
            "timing": "prenatal_ultrasound",
            "diagnosed_on": today.isoformat(),
        },
        ("POST", "/api/v1/pregnancies/<uuid:pregnancy_id>/prenatal-diagnoses"): {
            "performed_on": today.isoformat(),
            "procedure": "amniocentesis",
            "result": "normal",
        },
    }


def api_routes(app) -> list[tuple[str, str]]:
    """(method, rule) for every API route."""
    return sorted(
        (method, rule.rule)
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1/")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    )


def _view(app, rule: str):
    endpoint = next(r.endpoint for r in app.url_map.iter_rules() if r.rule == rule)
    return app.view_functions[endpoint]


# Operations an admin may run on anyone's record (no health data is read): skipped for admins.
ADMIN_OPERATIONS = {
    ("POST", "/api/v1/reminders/<uuid:reminder_id>/requeue"),
    # Aggregate counts of the city, no record of anyone (tests/indicators covers the scope).
    ("GET", "/api/v1/indicators/<code>"),
}

# Aggregates a health bureau reads (tests/indicators covers its district scope).
BUREAU_OPERATIONS = {("GET", "/api/v1/indicators/<code>")}

# A lesson is shared content, not a personal record: every educator and admin may read any
# lesson and review another's draft (tests/education covers who may do what). So for them, on
# another educator's draft, these routes answer what the workflow says instead of 403/404:
# reading succeeds, and a review decision on a draft that is not in review is a 409. Editing
# or submitting someone else's draft is still a 403, citizens and doctors still get 403 (their
# role), and the readers' routes (content, reads) answer 404 on a draft for everyone.
EDITORIAL_ANSWERS = {
    ("GET", "/api/v1/lessons/<uuid:lesson_id>"): 200,
    ("GET", "/api/v1/lessons/<uuid:lesson_id>/versions"): 200,
    ("GET", "/api/v1/lessons/<uuid:lesson_id>/reach"): 200,
    ("POST", "/api/v1/lessons/<uuid:lesson_id>/approve"): 409,
    ("POST", "/api/v1/lessons/<uuid:lesson_id>/return"): 409,
    ("POST", "/api/v1/lessons/<uuid:lesson_id>/retire"): 409,
}


@pytest.fixture
def victim(make_citizen, make_staff, db):
    """A woman with a pregnancy, a child, a registration and a partner invitation."""
    api, user_id, _ = make_citizen("受害者")
    lmp = (_today() - dt.timedelta(days=100)).isoformat()
    preg = api.post("me/pregnancies", {"lmp": lmp}).json
    child = api.post("me/children", {"sex": "male", "birth_date": "2024-01-15"}).json
    _, doc = make_staff(Role.DOCTOR)
    reg = api.post("me/registrations", {"institution_id": str(doc.institution_id)}).json
    grant = api.post("me/partners", {"phone": new_phone()}).json
    step = api.get("me/schedule?status=due,upcoming&page_size=1").json["items"][0]
    from sqlalchemy import select

    from backend.reminders.models import Notification, Reminder

    reminder = db.scalars(
        select(Reminder).where(Reminder.recipient_id == uuid.UUID(user_id))
    ).first()
    note = Notification(
        user_id=uuid.UUID(user_id),
        reminder_id=reminder.id,
        kind="step_due",
        title="t",
        body="b",
        locale="zh_CN",
    )
    from backend.contraception.models import MethodRecord

    method = MethodRecord(
        woman_id=uuid.UUID(user_id), method="condom", started_on=_today() - dt.timedelta(days=10)
    )
    db.add_all([note, method])
    from backend.education import service as education_service

    _, educator = make_staff(Role.EDUCATOR, name="作者")
    lesson = education_service.create_lesson(
        db,
        actor=educator,
        slug=f"draft-{uuid.uuid4().hex[:8]}",
        stage="pregnancy",
        data={
            "window": {"clock": "pregnancy_week", "from": 12, "to": 17},
            "topics": ["nutrition"],
            "audience": ["mother"],
            "reading_minutes": 3,
            "sources": [{"title": "指南", "ref": "C1"}],
            "variants": {"zh_CN": {"title": "草稿", "summary": "摘要", "body": "正文"}},
        },
    )
    db.commit()
    ids = {
        # Another educator's draft lesson (not a personal record: see EDITORIAL_ANSWERS).
        "lesson_id": str(lesson.id),
        "record_id": str(method.id),
        "notification_id": str(note.id),
        "reminder_id": str(reminder.id),
        "step_id": step["id"],
        "pregnancy_id": preg["id"],
        "child_id": child["id"],
        "registration_id": reg["id"],
        "grant_id": grant["id"],
        "patient_id": user_id,
        # An indicator code (aggregates: admins and health bureaus only).
        "code": "birth_defect_incidence",
        # A stranger's guess at her calendar-feed secret (the feed itself is public by secret).
        "secret": "guessed-secret",
    }
    return api, ids


@pytest.fixture
def strangers(client, db, make_citizen, make_staff):
    """One actor per role, none related to the victim."""
    from backend.auth import service

    phone = new_phone()
    service.create_user(
        db, role=Role.BUREAU, phone=phone, password="Str0ng-passw0rd!", name="卫健局",
        district_codes=["330302"],
    )  # fmt: skip
    db.commit()
    bureau = Api(client)
    bureau.token = bureau.post("auth/token", {"phone": phone, "password": "Str0ng-passw0rd!"}).json[
        "access_token"
    ]
    return {
        "anonymous": Api(client),
        "citizen": make_citizen("路人")[0],
        "doctor": make_staff(Role.DOCTOR)[0],
        "educator": make_staff(Role.EDUCATOR)[0],
        "admin": make_staff(Role.ADMIN)[0],
        # A health bureau of the victim's own district: aggregates only, no record of anyone.
        "bureau": bureau,
    }


def _fill(rule: str, ids: dict[str, str]) -> str:
    def sub(m: re.Match) -> str:
        name = m.group(2)
        assert name in ids, f"add a sample id for <{name}> to tests/test_policy_matrix.py"
        return ids[name]

    return re.sub(r"<(?:(\w+):)?(\w+)>", sub, rule)


def test_every_route_is_public_or_goes_through_the_policy(app):
    for method, rule in api_routes(app):
        roles = route_roles(_view(app, rule), method)
        assert (method, rule) in PUBLIC or roles is not None, f"{method} {rule} has no policy"


def test_anonymous_gets_401_everywhere_but_public_routes(app, victim, strangers):
    _, ids = victim
    anon = strangers["anonymous"]
    for method, rule in api_routes(app):
        if (method, rule) in PUBLIC:
            continue
        r = anon.call(method, _fill(rule, ids), json=_bodies().get((method, rule), {}))
        assert r.status_code == 401, (method, rule, r.status_code)
        assert r.content_type == "application/problem+json"


@pytest.mark.parametrize("role", ["citizen", "doctor", "educator", "admin", "bureau"])
def test_foreign_records_answer_404_or_403(app, db, victim, strangers, role):
    owner, ids = victim
    actor = strangers[role]
    bodies = _bodies()
    checked = 0
    for method, rule in api_routes(app):
        if "<" not in rule or (
            (role == "admin" and (method, rule) in ADMIN_OPERATIONS)
            or (role == "bureau" and (method, rule) in BUREAU_OPERATIONS)
        ):
            continue
        r = actor.call(method, _fill(rule, ids), json=bodies.get((method, rule)))
        if role in ("educator", "admin") and (method, rule) in EDITORIAL_ANSWERS:
            expected = EDITORIAL_ANSWERS[(method, rule)]
            assert r.status_code == expected, (role, method, rule, r.status_code, r.json)
            continue
        assert r.status_code in (403, 404), (role, method, rule, r.status_code, r.json)
        checked += 1
    assert checked >= 10
    # nothing was changed by the refused requests
    preg = owner.get(f"pregnancies/{ids['pregnancy_id']}").json
    assert preg["status"] == "ongoing" and preg["gravidity"] is None
    assert owner.get(f"children/{ids['child_id']}").json["name"] is None
    assert all(r["active"] for r in owner.get("me/registrations").json)
    step = owner.get(f"care-steps/{ids['step_id']}").json
    assert step["status"] in ("due", "upcoming") and step["results"] == []
    from sqlalchemy import select

    from backend.education.models import Lesson, LessonVersion

    lesson = db.get(Lesson, uuid.UUID(ids["lesson_id"]))
    db.refresh(lesson)
    assert (lesson.status, lesson.current_number) == ("draft", 1)
    version = db.scalars(select(LessonVersion).where(LessonVersion.lesson_id == lesson.id)).one()
    assert (version.status, version.reading_minutes) == ("draft", 3)
    assert owner.get(f"pregnancies/{ids['pregnancy_id']}/risk-assessments").json == []
