"""Doctors' worklists: due this week, overdue, abnormal without follow-up; bounded queries."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from backend.auth.models import Registration, Role
from tests.conftest import TODAY

pytestmark = pytest.mark.usefixtures("at_noon")


@pytest.fixture
def clinic(make_staff, make_citizen, db):
    """A doctor, and a function that adds a registered patient with a pregnancy at N days."""
    doctor, doc = make_staff(Role.DOCTOR)

    def patient(days: int, name: str = "患者") -> tuple:
        api, user_id, _ = make_citizen(name)
        db.add(Registration(user_id=uuid.UUID(user_id), institution_id=doc.institution_id))
        db.commit()
        r = api.post("me/pregnancies", {"lmp": (TODAY - dt.timedelta(days=days)).isoformat()})
        assert r.status_code == 201
        return api, user_id

    return doctor, patient


def test_due_lists_this_weeks_steps_of_her_patients_only(clinic, make_citizen):
    doctor, patient = clinic
    _, mine = patient(62, "王")  # 8+6: the early ultrasound is due today
    stranger, _, _ = make_citizen()
    stranger.post("me/pregnancies", {"lmp": (TODAY - dt.timedelta(days=62)).isoformat()})
    body = doctor.get("worklists/due").json
    assert body["total"] > 0
    assert {i["patient"]["id"] for i in body["items"]} == {mine}
    dues = [i["due_on"] for i in body["items"]]
    assert dues == sorted(dues)
    horizon = (TODAY + dt.timedelta(days=7)).isoformat()
    assert all(i["opens_on"] <= horizon and i["due_on"] >= TODAY.isoformat() for i in body["items"])


def test_overdue_says_by_how_long_and_sorts_longest_first(clinic):
    doctor, patient = clinic
    patient(70)  # 10+0: early ultrasound due at 8+6, open to 13+6: 8 days overdue
    patient(65)  # 9+2: 3 days overdue
    body = doctor.get("worklists/overdue?programme=prenatal_screening").json
    overdue = [
        (i["code"], i["days_overdue"]) for i in body["items"] if i["code"] == "early_ultrasound"
    ]
    assert overdue == [("early_ultrasound", 8), ("early_ultrasound", 3)]


def test_abnormal_results_stay_listed_until_their_follow_up_is_done(clinic):
    doctor, patient = clinic
    api, _ = patient(60)
    schedule = api.get("me/schedule?page_size=200").json["items"]
    visit = next(s for s in schedule if s["code"] == "cma_visit_1")
    doctor.post(
        f"care-steps/{visit['id']}/results",
        {"values": {"haemoglobin_g_l": 62}, "performed_on": TODAY.isoformat()},
    )
    listed = doctor.get("worklists/abnormal").json["items"]
    assert [(i["code"], i["interpretation"]) for i in listed] == [("cma_visit_1", "critical")]
    schedule = api.get("me/schedule?page_size=200").json["items"]
    recheck = next(s for s in schedule if s["code"] == "anaemia_recheck")
    r = doctor.post(
        f"care-steps/{recheck['id']}/results",
        {"values": {"haemoglobin_g_l": 112}, "performed_on": TODAY.isoformat()},
    )
    assert r.status_code == 201
    assert doctor.get("worklists/abnormal").json["items"] == []


def test_worklists_are_for_doctors_only(citizen):
    for path in ("worklists/due", "worklists/overdue", "worklists/abnormal", "worklists/high-risk"):
        assert citizen.get(path).status_code == 403


@pytest.mark.parametrize(
    "path", ["worklists/due", "worklists/overdue", "worklists/abnormal", "worklists/high-risk"]
)
def test_worklist_query_count_does_not_grow_with_patients(clinic, count_queries, path):
    doctor, patient = clinic
    patient(62)
    with count_queries() as few:
        assert doctor.get(path).status_code == 200
    for days in (40, 70, 90, 120):
        patient(days)
    with count_queries() as many:
        assert doctor.get(path).status_code == 200
    assert len(many) == len(few)
