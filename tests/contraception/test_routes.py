"""Contraception advice, methods and the IUD schedule, through the API."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from backend.auth.models import Registration, Role
from tests.conftest import SHANGHAI, TODAY

pytestmark = pytest.mark.usefixtures("at_noon")


def _method(body, code):
    return next(m for m in body["methods"] if m["method"] == code)


def _mother_of_newborn(api, days_ago: int, *, breastfeeding: bool | None = True):
    lmp = TODAY - dt.timedelta(days=days_ago + 39 * 7)
    preg = api.post("me/pregnancies", {"lmp": lmp.isoformat()}).json
    born = dt.datetime.combine(TODAY - dt.timedelta(days=days_ago), dt.time(8), SHANGHAI)
    r = api.post(
        f"pregnancies/{preg['id']}/birth",
        {
            "born_at": born.isoformat(),
            "ga_weeks": 39,
            "babies": [{"sex": "female", "weight_g": 3300, "length_cm": 50}],
        },
    )
    assert r.status_code == 200, r.json
    if breastfeeding is not None:
        assert (
            api.put("me/contraception/facts", {"breastfeeding": breastfeeding}).status_code == 200
        )
    return preg


def test_breastfeeding_at_three_weeks(citizen):
    _mother_of_newborn(citizen, 21)
    body = citizen.get("me/contraception").json
    coc, pop, dmpa = (_method(body, c) for c in ("coc", "pop", "dmpa"))
    assert (coc["category"], coc["offer"]) == (4, "not_offered")
    assert pop["category"] == 2
    assert (dmpa["category"], dmpa["offer"]) == (3, "talk_to_doctor")
    assert coc["explanation"]


def test_smoker_aged_36_with_20_a_day_gets_no_combined_pill(citizen):
    citizen.patch("me", {"birth_date": "1990-01-01"})
    citizen.put("me/contraception/facts", {"smoker": True, "cigarettes_per_day": 20})
    coc = _method(citizen.get("me/contraception").json, "coc")
    assert (coc["category"], coc["offer"]) == (4, "not_offered")


def test_her_view_in_english_and_the_doctors_full_reasoning(make_citizen, make_staff, db):
    api, user_id, _ = make_citizen(lang="en")
    api.put("me/contraception/facts", {"conditions": ["migraine_with_aura"]})
    coc = _method(api.get("me/contraception").json, "coc")
    assert coc["category"] == 4 and coc["name"].isascii()
    doctor, doc = make_staff(Role.DOCTOR)
    db.add(Registration(user_id=uuid.UUID(user_id), institution_id=doc.institution_id))
    db.commit()
    full = _method(doctor.get(f"patients/{user_id}/contraception").json, "coc")
    assert full["deciding_condition"] and "source" in full["reasons"][0]


def test_unknown_condition_names_the_field(citizen):
    r = citizen.put("me/contraception/facts", {"conditions": ["bad_luck"]})
    assert r.status_code == 422 and "conditions" in r.json["errors"]


def test_an_iud_schedules_its_checks_and_removal_cancels_them(make_citizen, make_staff, db):
    api, user_id, _ = make_citizen()
    doctor, doc = make_staff(Role.DOCTOR)
    db.add(Registration(user_id=uuid.UUID(user_id), institution_id=doc.institution_id))
    db.commit()
    r = doctor.post(
        f"patients/{user_id}/contraception", {"method": "cu_iud", "started_on": TODAY.isoformat()}
    )
    assert r.status_code == 201, r.json
    steps = {s["code"]: s for s in api.get("me/schedule?page_size=100").json["items"]}
    assert steps["iud_check_1m"]["opens_on"] == "2026-07-15"
    assert steps["iud_check_12m"]["opens_on"] == "2027-06-15"
    assert steps["iud_check_2y"]["opens_on"] == "2028-06-15"
    again = doctor.post(
        f"patients/{user_id}/contraception", {"method": "lng_iud", "started_on": TODAY.isoformat()}
    )
    assert again.status_code == 409
    r = doctor.post(f"contraception-methods/{r.json['id']}/stop", {"ended_on": TODAY.isoformat()})
    assert r.status_code == 200
    pending = api.get("me/schedule?status=upcoming,due,overdue&page_size=100").json["items"]
    assert not [s for s in pending if s["code"].startswith("iud_")]


@pytest.mark.parametrize(("birth_date", "expected"), [("1976-03-01", True), ("1986-03-01", False)])
def test_removal_after_the_menopause_only_from_45(
    make_citizen, make_staff, db, birth_date, expected
):
    api, user_id, _ = make_citizen()
    api.patch("me", {"birth_date": birth_date})
    doctor, doc = make_staff(Role.DOCTOR)
    db.add(Registration(user_id=uuid.UUID(user_id), institution_id=doc.institution_id))
    db.commit()
    doctor.post(
        f"patients/{user_id}/contraception", {"method": "cu_iud", "started_on": "2016-05-01"}
    )
    api.put("me/contraception/facts", {"last_period": "2026-03-01"})
    steps = {s["code"]: s for s in api.get("me/schedule?page_size=100").json["items"]}
    assert ("iud_removal_menopause" in steps) is expected
    if expected:
        removal = steps["iud_removal_menopause"]
        assert (removal["opens_on"], removal["closes_on"]) == ("2026-09-01", "2027-03-01")


def test_pregnant_women_get_no_method_list_yet(citizen):
    citizen.post("me/pregnancies", {"lmp": (TODAY - dt.timedelta(weeks=20)).isoformat()})
    body = citizen.get("me/contraception").json
    assert body["status"] == "pregnant" and body["methods"] == [] and body["note"]
