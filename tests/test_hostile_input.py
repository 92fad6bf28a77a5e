"""Inputs found to crash the server or to be stored when they should not: each answers a 4xx
problem+json naming the field, on SQLite and PostgreSQL, and changes nothing."""

from __future__ import annotations

import io

import pytest

from backend.auth.models import Role

PROBLEM = "application/problem+json"


def _field_error(r, field: str, status: int = 422) -> None:
    assert r.status_code == status, (r.status_code, r.data[:300])
    assert r.content_type == PROBLEM
    assert field in r.json["errors"], r.json


def _raw(api, method: str, path: str, body: bytes):
    """Send bytes as a JSON body (escapes such as \\u0000 stay as the client wrote them)."""
    return api.call(method, path, data=body, headers={"Content-Type": "application/json"})


@pytest.mark.parametrize(
    "body",
    [b'{"name": "a\\u0000b"}', b'{"name": "a\\ud800b"}', b'{"name": "\\udfff"}'],
    ids=["nul", "lone-high-surrogate", "lone-low-surrogate"],
)
def test_unstorable_text_in_a_field_is_refused(citizen, body):
    before = citizen.get("me").json["name"]
    _field_error(_raw(citizen, "PATCH", "me", body), "name")
    assert citizen.get("me").json["name"] == before


def test_nul_in_the_login_phone_is_refused(anon):
    _field_error(
        _raw(anon, "POST", "auth/token", b'{"phone": "139\\u0000", "password": "x"}'), "phone"
    )


def test_lone_surrogate_in_a_field_name_is_refused_and_echoed_safely(citizen):
    r = _raw(citizen, "PATCH", "me", b'{"n\\ud800": "x"}')
    assert r.status_code == 422 and r.content_type == PROBLEM
    assert list(r.json["errors"]) == ["n\ufffd"]


def test_nul_in_a_query_parameter_is_refused(citizen):
    _field_error(citizen.get("me/schedule?status=due%00"), "status")


@pytest.mark.parametrize("opening,closing", [(b"[", b"]"), (b'{"a":', b"}")])
def test_json_nested_5000_deep_is_a_400(citizen, opening, closing):
    r = _raw(citizen, "PATCH", "me", opening * 5000 + b"1" + closing * 5000)
    _field_error(r, "json", status=400)


@pytest.mark.parametrize("value", ["0001-01-01", "1899-12-31", "9999-12-31"])
def test_implausible_birth_date_is_refused(citizen, value):
    _field_error(citizen.patch("me", {"birth_date": value}), "birth_date")


def test_measurement_taken_in_year_1_is_refused(citizen):
    r = citizen.post(
        "me/measurements",
        {"kind": "weight", "values": {"weight_kg": 60}, "measured_at": "0001-01-01T08:00:00+08:00"},
    )
    _field_error(r, "measured_at")
    assert list(r.json["errors"]) == ["measured_at"]


@pytest.mark.parametrize("path", ["indicators/education", "indicators/reminders"])
@pytest.mark.parametrize(
    "query", ["from=0001-01-01&to=2026-01-31", "from=2026-01-01&to=9999-12-31"]
)
def test_indicator_periods_at_the_ends_of_the_calendar(make_staff, path, query):
    admin, _ = make_staff(Role.ADMIN)
    r = admin.get(f"{path}?{query}")
    assert r.status_code == 422 and r.content_type == PROBLEM, (r.status_code, r.data[:200])
    assert {"from", "to"} & set(r.json["errors"])


def test_a_validation_message_is_one_message_not_its_characters(citizen):
    r = citizen.get("me/schedule?status=bogus")
    assert r.status_code == 422
    assert r.json["errors"]["status"] == ["请从允许的选项中选择。"]


def test_patch_without_a_body_is_refused(citizen):
    r = citizen.call("PATCH", "me")
    _field_error(r, "body")


def test_chunked_body_over_the_limit_is_413(app, anon):
    big = b'{"phone": "' + b"1" * (app.config["MAX_CONTENT_LENGTH"] + 10) + b'"}'
    r = anon.call(  # a stream without Content-Length, as a chunked request reaches the app
        "POST",
        "auth/register",
        input_stream=io.BytesIO(big),
        headers={"Content-Type": "application/json", "Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert r.status_code == 413 and r.content_type == PROBLEM


def test_register_without_a_name_answers_name_null(anon):
    r = anon.post("auth/register", {"phone": "13700001111", "password": "Str0ng-passw0rd!"})
    assert r.status_code == 201 and r.json["name"] is None


def test_patient_search_takes_like_wildcards_literally(make_citizen, make_staff):
    doctor, doc_user = make_staff(Role.DOCTOR)
    for name in ("陈静", "100%_林"):
        mum, _, _ = make_citizen(name)
        assert (
            mum.post(
                "me/registrations", {"institution_id": str(doc_user.institution_id)}
            ).status_code
            == 201
        )
    assert doctor.get("patients?q=%25").json["total"] == 1  # only the name with a "%"
    assert doctor.get("patients?q=_").json["total"] == 1
    assert doctor.get("worklists/due?q=%25").status_code == 200
