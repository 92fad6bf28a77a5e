"""Her plan over HTTP: when the regimen starts, tiers and doses, validation, a doctor's input."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from backend.auth.models import AuditEvent, Role
from tests.conftest import TODAY, Api
from tests.regimens.conftest import days, iso

PATH = "me/regimens/folic-acid"


def test_a_plan_starts_the_regimen_90_days_before_the_planned_date(mum, changes):
    api, _ = mum
    r = api.put(PATH, {"planned_pregnancy_on": iso(TODAY + days(120))})
    assert r.status_code == 200, r.json
    body = r.json
    assert body["starts_on"] == iso(TODAY + days(30)) and body["ends_on"] is None
    assert body["status"] == "active" and body["kind"] == "folic_acid"
    assert (body["tier"], body["ask_doctor"], body["risk_factors"]) == ("standard", False, [])
    assert "0.4" in body["dose"] and body["reminder_time"] == "08:30"
    assert body["planned_pregnancy_on"] == iso(TODAY + days(120)) and body["pregnancy_id"] is None
    assert body["today"] == {"date": iso(TODAY), "in_regimen": False, "taken": None}
    assert body["source"]["verified"] is False and body["source"]["ids"]
    assert [c[0] for c in changes] == [uuid.UUID(body["id"])]
    assert api.get(PATH).json == body


def test_a_plan_less_than_90_days_ahead_starts_today(mum):
    api, _ = mum
    body = api.put(PATH, {"planned_pregnancy_on": iso(TODAY + days(20))}).json
    assert body["starts_on"] == iso(TODAY) and body["today"]["in_regimen"] is True


def test_the_4_mg_tier_starts_90_days_before_and_says_ask_your_doctor(make_citizen):
    api, _, _ = make_citizen(lang="en")
    r = api.put(
        PATH,
        {"planned_pregnancy_on": iso(TODAY + days(120)), "risk_factors": ["prior_ntd_pregnancy"]},
    )
    assert r.status_code == 200, r.json
    body = r.json
    assert (body["tier"], body["ask_doctor"]) == ("high", True)
    # Never later than the standard 90 days before the plan (clinical audit, issue 9 point 8).
    assert body["starts_on"] == iso(TODAY + days(30))
    assert body["dose"].startswith("Ask your doctor") and "4 mg" in body["dose"]


def test_risk_factors_change_the_tier_and_move_a_start_not_yet_reached(mum, changes):
    api, _ = mum
    api.put(PATH, {"planned_pregnancy_on": iso(TODAY + days(120))})
    body = api.put(PATH, {"risk_factors": ["prior_ntd_pregnancy", "prior_ntd_pregnancy"]}).json
    assert body["starts_on"] == iso(TODAY + days(30)) and body["tier"] == "high"
    assert body["risk_factors"] == ["prior_ntd_pregnancy"]
    body = api.put(PATH, {"risk_factors": ["prior_ntd_pregnancy", "diabetes"]}).json
    assert body["starts_on"] == iso(TODAY + days(30)) and body["tier"] == "high"
    assert len(changes) == 2  # the tier changed; the start (90 days before) never moved
    # a change that moves nothing the reminders read is not announced
    api.put(PATH, {"risk_factors": ["diabetes", "prior_ntd_pregnancy"]})
    assert len(changes) == 2


def test_a_started_regimen_keeps_its_start_when_the_plan_moves(mum):
    api, _ = mum
    api.put(PATH, {"planned_pregnancy_on": iso(TODAY + days(60))})
    body = api.put(
        PATH, {"planned_pregnancy_on": iso(TODAY + days(200)), "reminder_time": "19:45"}
    ).json
    assert body["starts_on"] == iso(TODAY) and body["planned_pregnancy_on"] == iso(
        TODAY + days(200)
    )
    assert body["reminder_time"] == "19:45"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"planned_pregnancy_on": iso(TODAY - days(1))}, "planned_pregnancy_on"),
        ({"planned_pregnancy_on": iso(TODAY + days(367))}, "planned_pregnancy_on"),
        ({"reminder_time": "08:30"}, "planned_pregnancy_on"),  # nothing to start from
        ({"planned_pregnancy_on": None}, "planned_pregnancy_on"),
        ({"planned_pregnancy_on": iso(TODAY), "reminder_time": "21:00"}, "reminder_time"),
        ({"planned_pregnancy_on": iso(TODAY), "reminder_time": "07:59"}, "reminder_time"),
        ({"planned_pregnancy_on": iso(TODAY), "reminder_time": "8:30"}, "reminder_time"),
        ({"planned_pregnancy_on": iso(TODAY), "reminder_time": "24:00"}, "reminder_time"),
        ({"planned_pregnancy_on": iso(TODAY), "risk_factors": ["smoking"]}, "risk_factors"),
        ({"planned_pregnancy_on": iso(TODAY), "dose": "4 mg"}, "dose"),
    ],
)
def test_a_bad_plan_is_422_naming_the_field_and_writes_nothing(mum, body, field):
    api, _ = mum
    r = api.put(PATH, body)
    assert r.status_code == 422 and field in r.json["errors"], r.json
    assert r.content_type == "application/problem+json"
    assert api.get(PATH).status_code == 404


def test_the_plan_may_be_a_year_ahead_and_reminders_at_the_edges_of_quiet_hours(mum):
    api, _ = mum
    r = api.put(PATH, {"planned_pregnancy_on": iso(TODAY + days(365)), "reminder_time": "08:00"})
    assert r.status_code == 200 and r.json["reminder_time"] == "08:00"
    assert api.put(PATH, {"reminder_time": "20:59"}).json["reminder_time"] == "20:59"


def test_messages_name_the_rule_in_her_language(make_citizen):
    en, _, _ = make_citizen(lang="en")
    r = en.put(PATH, {"planned_pregnancy_on": iso(TODAY - days(1))})
    assert r.json["errors"]["planned_pregnancy_on"] == ["The planned date cannot be in the past."]
    r = en.put(PATH, {"planned_pregnancy_on": iso(TODAY), "reminder_time": "22:15"})
    assert "21:00" in r.json["errors"]["reminder_time"][0]


def test_no_regimen_yet_is_404(mum):
    api, _ = mum
    for path in (PATH, f"{PATH}/adherence"):
        r = api.get(path)
        assert r.status_code == 404 and r.content_type == "application/problem+json"
    assert api.post(f"{PATH}/check-ins", {"taken": True}).status_code == 404


def test_her_doctor_records_risk_factors_and_her_regimen_takes_the_tier(mum, doctor_of, db):
    api, user_id = mum
    api.put(PATH, {"planned_pregnancy_on": iso(TODAY + days(120))})
    doctor, doc = doctor_of(user_id)
    r = doctor.put(f"patients/{user_id}/regimens/folic-acid", {"risk_factors": ["epilepsy"]})
    assert r.status_code == 200, r.json
    assert (r.json["tier"], r.json["ask_doctor"], r.json["risk_factors"]) == (
        "raised",
        True,
        ["epilepsy"],
    )
    mine = api.get(PATH).json
    assert r.json["regimen_id"] == mine["id"] and mine["tier"] == "raised"
    audited = db.scalars(
        select(AuditEvent).where(
            AuditEvent.actor_id == doc.id, AuditEvent.owner_id == uuid.UUID(user_id)
        )
    ).all()
    assert [(a.action, a.method) for a in audited] == [("write", "PUT")]


def test_risk_factors_recorded_before_any_plan_set_the_tier_of_the_next_one(mum, doctor_of):
    api, user_id = mum
    doctor, _ = doctor_of(user_id)
    r = doctor.put(f"patients/{user_id}/regimens/folic-acid", {"risk_factors": ["diabetes"]})
    assert r.status_code == 200 and r.json["regimen_id"] is None
    body = api.put(PATH, {"planned_pregnancy_on": iso(TODAY + days(100))}).json
    assert body["tier"] == "raised" and body["risk_factors"] == ["diabetes"]


def test_a_strangers_patient_id_is_404_and_a_citizen_gets_403(
    mum, make_citizen, make_staff, client
):
    api, user_id = mum
    api.put(PATH, {"planned_pregnancy_on": iso(TODAY + days(100))})
    stranger, _ = make_staff(Role.DOCTOR)
    body = {"risk_factors": ["prior_ntd_pregnancy"]}
    for patient in (user_id, str(uuid.uuid4())):
        r = stranger.put(f"patients/{patient}/regimens/folic-acid", body)
        assert r.status_code == 404 and r.content_type == "application/problem+json"
    other, _, _ = make_citizen()
    assert other.put(f"patients/{user_id}/regimens/folic-acid", body).status_code == 403
    assert Api(client).put(f"patients/{user_id}/regimens/folic-acid", body).status_code == 401
    assert api.get(PATH).json["tier"] == "standard"


def test_a_doctor_has_no_regimen_of_her_own(make_staff):
    doctor, _ = make_staff(Role.DOCTOR)
    assert doctor.get(PATH).status_code == 403
