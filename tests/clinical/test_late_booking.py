"""Audit point 2: late booking never loses the risk screening.

Rule and source: the 2017 risk-management rules (国卫办妇幼发〔2017〕35号) [C46][C47]
screen at the first contact (首诊); the regular step sits at 建册 before 13 weeks
(基本公共卫生服务规范 第三版 [C14]). A woman who books at 26 weeks must get a catch-up
screening and 建册 step due within days of registering, and her doctor must see an
ungraded pregnancy past 13 weeks.
"""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from backend.auth.models import Registration, Role
from tests.conftest import TODAY

pytestmark = pytest.mark.usefixtures("at_noon")


def _steps(api):
    return {s["code"]: s for s in api.get("me/schedule?page_size=100&view=full").json["items"]}


def test_booking_at_26_weeks_gets_a_catch_up_screening_due_within_days(citizen):
    citizen.post("me/pregnancies", {"lmp": (TODAY - dt.timedelta(weeks=26)).isoformat()})
    steps = _steps(citizen)
    assert steps["risk_screening"]["status"] == "missed"  # the < 13-week window is gone
    for code in ("risk_screening_catch_up", "ph_prenatal_1_catch_up"):
        step = steps[code]
        assert step["status"] == "due", code
        assert step["opens_on"] == TODAY.isoformat()
        # "Within days" of registering, not weeks: due within a week.
        assert dt.date.fromisoformat(step["due_on"]) - TODAY <= dt.timedelta(days=7)
        assert step["source"]["verified"] is False


def test_a_woman_who_books_in_time_gets_no_catch_up(citizen):
    citizen.post("me/pregnancies", {"lmp": (TODAY - dt.timedelta(weeks=9)).isoformat()})
    steps = _steps(citizen)
    assert steps["risk_screening"]["status"] == "due"
    assert "risk_screening_catch_up" not in steps and "ph_prenatal_1_catch_up" not in steps


def test_a_positive_catch_up_screen_is_referred_for_grading(make_staff, make_citizen, db):
    doctor, doc = make_staff(Role.DOCTOR)
    api, user_id, _ = make_citizen()
    db.add(Registration(user_id=uuid.UUID(user_id), institution_id=doc.institution_id))
    db.commit()
    api.post("me/pregnancies", {"lmp": (TODAY - dt.timedelta(weeks=26)).isoformat()})
    step = _steps(api)["risk_screening_catch_up"]
    r = doctor.post(
        f"care-steps/{step['id']}/results",
        {"values": {"screen": "positive"}, "performed_on": TODAY.isoformat()},
    )
    assert r.status_code == 201, r.json
    # A positive screen → full assessment at a secondary or higher hospital (2017 rules).
    assert _steps(api)["risk_assessment_referral"]["status"] == "due"


def test_the_doctor_sees_ungraded_pregnancies_past_13_weeks(make_staff, make_citizen, db):
    doctor, doc = make_staff(Role.DOCTOR)
    ids = {}
    for name, weeks in (("late", 26), ("early", 10), ("graded", 20)):
        api, user_id, _ = make_citizen(name)
        db.add(Registration(user_id=uuid.UUID(user_id), institution_id=doc.institution_id))
        db.commit()
        preg = api.post("me/pregnancies", {"lmp": (TODAY - dt.timedelta(weeks=weeks)).isoformat()})
        ids[name] = (user_id, preg.json["id"])
    r = doctor.post(
        f"pregnancies/{ids['graded'][1]}/risk-assessments",
        {"colours": ["yellow"], "assessed_on": TODAY.isoformat()},
    )
    assert r.status_code == 201, r.json
    body = doctor.get("worklists/ungraded").json
    assert [i["patient"]["id"] for i in body["items"]] == [ids["late"][0]]
    assert body["items"][0]["gestational_age"] == {"weeks": 26, "days": 0}
