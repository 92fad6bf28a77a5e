import datetime as dt

from sqlalchemy import select, update

from backend.auth.models import AccessToken, Role
from backend.auth.security import token_digest
from backend.db import utcnow
from tests.conftest import PASSWORD, Api, new_phone


def test_sign_up_and_log_in(anon: Api):
    phone = new_phone()
    r = anon.post("auth/register", {"phone": phone, "password": PASSWORD, "name": "王芳"})
    assert r.status_code == 201
    assert r.json["role"] == "citizen"
    r = anon.post("auth/token", {"phone": phone, "password": PASSWORD})
    assert r.status_code == 200
    body = r.json
    assert body["token_type"] == "Bearer" and len(body["access_token"]) >= 32
    assert dt.datetime.fromisoformat(body["expires_at"]) > utcnow()


def test_second_sign_up_with_same_phone_names_the_field(anon: Api):
    phone = new_phone()
    assert anon.post("auth/register", {"phone": phone, "password": PASSWORD}).status_code == 201
    r = anon.post("auth/register", {"phone": phone, "password": PASSWORD})
    assert r.status_code == 422
    assert r.content_type == "application/problem+json"
    assert "phone" in r.json["errors"]


def test_bad_sign_up_input_is_422_with_fields(anon: Api):
    r = anon.post("auth/register", {"phone": "12345", "password": "short", "extra": 1})
    assert r.status_code == 422
    assert set(r.json["errors"]) == {"phone", "password", "extra"}


def test_errors_are_localized(anon: Api):
    body = {"phone": "12345", "password": PASSWORD}
    zh = Api(anon.client, lang="zh-CN").post("auth/register", body).json
    en = Api(anon.client, lang="en").post("auth/register", body).json
    assert en["errors"]["phone"] == ["Enter an 11-digit mobile number."]
    assert zh["errors"]["phone"] != en["errors"]["phone"]
    assert zh["title"] != en["title"]


def test_token_is_stored_only_as_hash(make_citizen, db):
    api, _, _ = make_citizen()
    stored = set(db.scalars(select(AccessToken.token_hash)))
    assert stored and api.token not in stored
    assert token_digest(api.token) in stored


def test_logout_revokes_at_once(citizen: Api):
    assert citizen.get("me").status_code == 200
    assert citizen.delete("auth/token").status_code == 204
    r = citizen.get("me")
    assert r.status_code == 401
    assert r.content_type == "application/problem+json"


def test_expired_token_is_refused(citizen: Api, db):
    db.execute(update(AccessToken).values(expires_at=utcnow() - dt.timedelta(seconds=1)))
    db.commit()
    assert citizen.get("me").status_code == 401


def test_login_is_throttled_per_phone(make_citizen, anon: Api):
    _, _, phone = make_citizen()
    statuses = [
        anon.post("auth/token", {"phone": phone, "password": "wrong-pass"}).status_code
        for _ in range(7)
    ]
    assert statuses[:5] == [401] * 5
    assert statuses[5:] == [429, 429]
    r = anon.post("auth/token", {"phone": phone, "password": PASSWORD})
    assert r.status_code == 429, "the right password does not bypass the throttle"
    assert 0 < int(r.headers["Retry-After"]) <= 15 * 60


def test_login_is_throttled_per_address(app, make_citizen, anon: Api):
    app.config["LOGIN_MAX_FAILURES_PER_ADDRESS"] = 3
    try:
        statuses = [
            anon.post("auth/token", {"phone": new_phone(), "password": "x"}).status_code
            for _ in range(4)
        ]
    finally:
        app.config["LOGIN_MAX_FAILURES_PER_ADDRESS"] = 1000
    assert statuses == [401, 401, 401, 429]


def test_admin_creates_institution_and_doctor(make_staff, anon: Api):
    admin, _ = make_staff(Role.ADMIN)
    r = admin.post(
        "institutions",
        {"name": "鹿城区妇幼保健院", "kind": "maternal_child_hospital", "district_code": "330302"},
    )
    assert r.status_code == 201
    inst = r.json["id"]
    r = admin.post(
        "staff",
        {
            "phone": new_phone(),
            "password": PASSWORD,
            "name": "李医生",
            "role": "doctor",
            "institution_id": inst,
        },
    )
    assert r.status_code == 201 and r.json["institution_id"] == inst
    assert admin.get("staff").json[0]["role"] == "doctor"


def test_staff_needs_a_real_institution(make_staff):
    admin, _ = make_staff(Role.ADMIN)
    r = admin.post(
        "staff",
        {
            "phone": new_phone(),
            "password": PASSWORD,
            "name": "x",
            "role": "doctor",
            "institution_id": "7d4f6e4e-3f7a-4a6e-9c7e-1b2c3d4e5f60",
        },
    )
    assert r.status_code == 422 and "institution_id" in r.json["errors"]


def test_citizen_cannot_create_staff(citizen: Api):
    r = citizen.post(
        "staff",
        {
            "phone": new_phone(),
            "password": PASSWORD,
            "name": "x",
            "role": "doctor",
            "institution_id": "7d4f6e4e-3f7a-4a6e-9c7e-1b2c3d4e5f60",
        },
    )
    assert r.status_code == 403
