"""Schedules in the database: sync on every fact change, statuses, results, risk, resync."""

from __future__ import annotations

import datetime as dt
import shutil
import uuid
from pathlib import Path

import pytest
from sqlalchemy import func, select

from backend.auth.models import Role
from backend.care import service
from backend.care.loading import load_protocols
from backend.care.models import CareStep, StepState
from backend.care.protocols import CONTENT_DIR
from backend.handbook.models import Pregnancy
from tests.conftest import NOON, SHANGHAI, TODAY

pytestmark = pytest.mark.usefixtures("at_noon")


def _iso(d: dt.date) -> str:
    return d.isoformat()


def _pregnancy(api, weeks: int) -> dict:
    r = api.post("me/pregnancies", {"lmp": _iso(TODAY - dt.timedelta(weeks=weeks))})
    assert r.status_code == 201, r.json
    return r.json


def _steps(api, **query) -> dict[str, dict]:
    qs = "&".join(f"{k}={v}" for k, v in {"page_size": 200, "view": "full", **query}.items())
    r = api.get(f"me/schedule?{qs}")
    assert r.status_code == 200, r.json
    return {
        s["code"] + ("" if s["subject"]["kind"] != "child" else f"@{s['subject']['id']}"): s
        for s in r.json["items"]
    }


def test_a_new_pregnancy_gets_its_schedule_with_titles_and_sources(mum):
    api, _ = mum
    preg = _pregnancy(api, 8)
    steps = _steps(api)
    nt = steps["nt_scan"]
    lmp = TODAY - dt.timedelta(weeks=8)
    assert (nt["opens_on"], nt["closes_on"]) == (
        _iso(lmp + dt.timedelta(weeks=11)),
        _iso(lmp + dt.timedelta(weeks=13, days=6)),
    )
    assert nt["status"] == "upcoming" and nt["subject"] == {"kind": "pregnancy", "id": preg["id"]}
    assert nt["source"]["ids"] and nt["why"]
    assert steps["ph_prenatal_1"]["status"] == "due"
    en = api.__class__(api.client, token=api.token, lang="en")
    assert _steps(en)["nt_scan"]["title"] != nt["title"]


def test_late_registration_at_week_26_shows_missed_without_a_flood(mum):
    api, _ = mum
    _pregnancy(api, 26)
    steps = _steps(api)
    visit = steps["ph_prenatal_2"]  # 16-20 weeks
    assert visit["status"] == "missed" and visit["closed_before_enrolment"] is True
    ogtt = steps["ogtt"]  # 24-28+6 weeks: still open, can be caught up
    assert ogtt["status"] == "due" and ogtt["closed_before_enrolment"] is False
    due_now = _steps(api, status="due,overdue")
    assert "ph_prenatal_2" not in due_now and "ogtt" in due_now


def test_redating_by_ultrasound_moves_pending_steps_and_keeps_history(mum, doctor_of):
    api, user_id = mum
    preg = _pregnancy(api, 10)
    before = _steps(api)["nt_scan"]
    doctor, _ = doctor_of(user_id)
    # Scan today measures 11+0 instead of 10+0: more than the 7-day threshold, the EDD moves.
    r = doctor.patch(
        f"pregnancies/{preg['id']}",
        {
            "ultrasound": {"scan_date": _iso(TODAY), "ga_weeks": 11, "ga_days": 1},
            "reason": "CRL at dating scan",
        },
    )
    assert r.status_code == 200 and r.json["edd_source"] == "ultrasound"
    after = _steps(api)["nt_scan"]
    assert dt.date.fromisoformat(after["opens_on"]) == (
        dt.date.fromisoformat(before["opens_on"]) - dt.timedelta(days=8)
    )
    detail = api.get(f"care-steps/{after['id']}").json
    assert detail["window_history"][0]["old_opens_on"] == before["opens_on"]


def test_loss_cancels_every_pending_pregnancy_step_at_once(mum):
    api, _ = mum
    preg = _pregnancy(api, 12)
    # An induced abortion: post-abortion care follows it (人工流产后避孕服务规范 2018 [C1]).
    end = {"kind": "termination", "ended_on": _iso(TODAY)}
    r = api.post(f"pregnancies/{preg['id']}/end", end)
    assert r.status_code == 200
    steps = _steps(api)
    care_after_loss = {"post_abortion_care", "post_abortion_followup_1m"}
    pregnancy_steps = {c: s for c, s in steps.items() if c not in care_after_loss}
    assert {s["status"] for s in pregnancy_steps.values()} <= {"cancelled", "missed"}
    # what remains is the care after the loss: counselling before leaving, then a follow-up
    assert set(_steps(api, status="upcoming,due,overdue")) == care_after_loss
    assert steps["post_abortion_care"]["status"] == "due"


def test_twins_preterm_each_get_a_child_schedule_with_corrected_age(mum):
    api, _ = mum
    preg = _pregnancy(api, 32)
    born_at = NOON.isoformat()
    r = api.post(
        f"pregnancies/{preg['id']}/birth",
        {
            "born_at": born_at,
            "ga_weeks": 32,
            "ga_days": 0,
            "delivery_mode": "caesarean",
            "babies": [
                {"sex": "female", "weight_g": 1700, "length_cm": 41},
                {"sex": "male", "weight_g": 1850, "length_cm": 42},
            ],
        },
    )
    assert r.status_code == 200, r.json
    a, b = r.json["child_ids"]
    steps = _steps(api)
    for child in (a, b):
        check = steps[f"child_check_3m@{child}"]
        corrected_birth = TODAY + dt.timedelta(weeks=8)  # 40 - 32 weeks
        assert check["opens_on"] == _iso(
            dt.date(corrected_birth.year, corrected_birth.month + 3, corrected_birth.day)
        )
        # vaccines follow chronological age: HepB dose 1 at birth
        assert steps[f"hepb_1@{child}"]["opens_on"] == _iso(TODAY)
    # the postpartum steps of the pregnancy are planned from the birth
    assert steps["postpartum_check_42d"]["opens_on"] == _iso(TODAY + dt.timedelta(days=42))


def test_status_flips_at_local_midnight_not_utc(mum, frozen_clock):
    api, _ = mum
    # At 8+6 today the early ultrasound (6+0 - 8+6 on time, open to 13+6) is due today.
    assert (
        api.post("me/pregnancies", {"lmp": _iso(TODAY - dt.timedelta(days=62))}).status_code == 201
    )
    assert _steps(api)["early_ultrasound"]["due_on"] == _iso(TODAY)
    frozen_clock(dt.datetime.combine(TODAY, dt.time(23, 30), SHANGHAI))
    assert _steps(api)["early_ultrasound"]["status"] == "due"
    frozen_clock(dt.datetime.combine(TODAY + dt.timedelta(days=1), dt.time(0, 30), SHANGHAI))
    # 00:30 in Shanghai is still the previous day in UTC; the status follows her day.
    assert _steps(api)["early_ultrasound"]["status"] == "overdue"


def _visit_step(api, code: str) -> dict:
    return _steps(api)[code]


def test_low_haemoglobin_is_anaemia_and_adds_the_recheck(mum, doctor_of):
    api, user_id = mum
    _pregnancy(api, 8)
    doctor, _ = doctor_of(user_id)
    visit = _visit_step(api, "cma_visit_1")
    assert "anaemia_recheck" not in _steps(api)
    r = doctor.post(
        f"care-steps/{visit['id']}/results",
        {"values": {"haemoglobin_g_l": 95, "weight_kg": 55.5}, "performed_on": _iso(TODAY)},
    )
    assert r.status_code == 201, r.json
    assert r.json["status"] == "done" and r.json["interpretation"] == "abnormal"
    recheck = _steps(api)["anaemia_recheck"]
    assert recheck["follows_up"] == "cma_visit_1" and recheck["status"] in ("upcoming", "due")


def test_impossible_values_are_refused_naming_the_field(mum, doctor_of):
    api, user_id = mum
    _pregnancy(api, 8)
    doctor, _ = doctor_of(user_id)
    visit = _visit_step(api, "cma_visit_1")
    for values, field in (
        ({"haemoglobin_g_l": 900}, "values.haemoglobin_g_l"),
        ({"haemoglobin_g_l": "low"}, "values.haemoglobin_g_l"),
        ({"colour": "red"}, "values.colour"),
    ):
        r = doctor.post(
            f"care-steps/{visit['id']}/results", {"values": values, "performed_on": _iso(TODAY)}
        )
        assert r.status_code == 422 and field in r.json["errors"], (values, r.json)
    r = doctor.post(
        f"care-steps/{visit['id']}/results",
        {"values": {}, "performed_on": _iso(TODAY + dt.timedelta(days=1))},
    )
    assert r.status_code == 422 and "performed_on" in r.json["errors"]
    assert _visit_step(api, "cma_visit_1")["status"] == "due"


def test_high_risk_serum_screen_refers_to_prenatal_diagnosis(mum, doctor_of):
    api, user_id = mum
    _pregnancy(api, 16)
    doctor, _ = doctor_of(user_id)
    screen = _visit_step(api, "serum_screen_t2")
    r = doctor.post(
        f"care-steps/{screen['id']}/results",
        {"values": {"lab_risk": "high", "t21_risk": "1/120"}, "performed_on": _iso(TODAY)},
    )
    assert r.status_code == 201 and r.json["interpretation"] == "abnormal"
    referral = _steps(api)["prenatal_diagnosis_referral"]
    assert referral["opens_on"] == _iso(TODAY) and referral["status"] == "due"


def test_hearing_refer_leads_to_rescreen(mum, doctor_of):
    api, user_id = mum
    child = api.post(
        "me/children", {"sex": "male", "birth_date": _iso(TODAY - dt.timedelta(days=3))}
    ).json
    doctor, _ = doctor_of(user_id)
    steps = _steps(api)
    assert f"hearing_rescreen@{child['id']}" not in steps
    screen = steps[f"hearing_screen@{child['id']}"]
    r = doctor.post(
        f"care-steps/{screen['id']}/results",
        {"values": {"result": {"left": "pass", "right": "refer"}}, "performed_on": _iso(TODAY)},
    )
    assert r.status_code == 201 and r.json["interpretation"] == "abnormal"
    assert _steps(api)[f"hearing_rescreen@{child['id']}"]["follows_up"] == "hearing_screen"


def test_risk_escalation_adds_case_management_and_de_escalation_removes_it(mum, doctor_of):
    api, user_id = mum
    preg = _pregnancy(api, 14)
    doctor, _ = doctor_of(user_id)
    extra = {"risk_care_critical_centre", "risk_report_orange"}
    assert not extra & set(_steps(api))
    r = doctor.post(
        f"pregnancies/{preg['id']}/risk-assessments",
        {"colours": ["yellow", "orange"], "conditions": ["BMI ≥ 28"], "assessed_on": _iso(TODAY)},
    )
    assert r.status_code == 201 and r.json["colour"] == "orange"
    pending = {c for c, s in _steps(api).items() if s["status"] not in ("cancelled",)}
    assert extra <= pending
    high = doctor.get("worklists/high-risk").json
    assert [i["pregnancy_id"] for i in high["items"]] == [preg["id"]]
    r = doctor.post(
        f"pregnancies/{preg['id']}/risk-assessments",
        {"colours": ["green"], "assessed_on": _iso(TODAY)},
    )
    assert r.status_code == 201
    steps = _steps(api)
    assert {steps[c]["status"] for c in extra} == {"cancelled"}
    assert doctor.get("worklists/high-risk").json["items"] == []
    history = api.get(f"pregnancies/{preg['id']}/risk-assessments").json
    assert [h["colour"] for h in history] == ["green", "orange"]


def test_purple_coexists_with_the_highest_colour(mum, doctor_of):
    api, user_id = mum
    preg = _pregnancy(api, 14)
    doctor, _ = doctor_of(user_id)
    r = doctor.post(
        f"pregnancies/{preg['id']}/risk-assessments",
        {"colours": ["purple", "yellow"], "conditions": ["HBsAg+"], "assessed_on": _iso(TODAY)},
    )
    assert (r.json["colour"], r.json["purple"]) == ("yellow", True)


def test_sync_is_idempotent_and_never_rewrites_done_steps(app, mum, doctor_of, db):
    api, user_id = mum
    preg = _pregnancy(api, 8)
    doctor, _ = doctor_of(user_id)
    visit = _visit_step(api, "cma_visit_1")
    doctor.post(
        f"care-steps/{visit['id']}/results",
        {"values": {"haemoglobin_g_l": 120}, "performed_on": _iso(TODAY)},
    )
    pregnancy = db.get(Pregnancy, uuid.UUID(preg["id"]))
    protocols = app.extensions["care.protocols"]
    count = db.scalar(select(func.count()).select_from(CareStep))
    report = service.sync_pregnancy(
        db, pregnancy=pregnancy, protocols=protocols, default_tz="Asia/Shanghai"
    )
    assert not report.changed
    assert db.scalar(select(func.count()).select_from(CareStep)) == count
    done = db.get(CareStep, uuid.UUID(visit["id"]))
    assert done.state == StepState.DONE and done.done_on == TODAY


def test_a_new_protocol_version_reaches_enrolled_women_without_touching_done_steps(
    app, mum, doctor_of, db, tmp_path
):
    api, user_id = mum
    _pregnancy(api, 8)
    doctor, _ = doctor_of(user_id)
    done_visit = _visit_step(api, "cma_visit_1")
    doctor.post(
        f"care-steps/{done_visit['id']}/results",
        {"values": {"haemoglobin_g_l": 120}, "performed_on": _iso(TODAY)},
    )
    nt_before = _visit_step(api, "nt_scan")
    directory = Path(tmp_path) / "protocols"
    shutil.copytree(CONTENT_DIR, directory)
    screening = directory / "screening.yaml"
    text = screening.read_text(encoding="utf-8")
    assert "window: {opens: 11w, closes: 13w6d}" in text
    screening.write_text(
        text.replace(
            "window: {opens: 11w, closes: 13w6d}", "window: {opens: 11w2d, closes: 13w6d}"
        ),
        encoding="utf-8",
    )
    with app.app_context():  # as under `flask care resync`
        report = service.resync_all(
            db, protocols=load_protocols(directory), default_tz="Asia/Shanghai"
        )
    assert report.moved >= 1
    nt_after = _visit_step(api, "nt_scan")
    assert dt.date.fromisoformat(nt_after["opens_on"]) == (
        dt.date.fromisoformat(nt_before["opens_on"]) + dt.timedelta(days=2)
    )
    visit = _visit_step(api, "cma_visit_1")
    assert visit["status"] == "done" and visit["done_on"] == _iso(TODAY)


def test_declined_and_done_elsewhere(mum):
    api, _ = mum
    _pregnancy(api, 16)
    steps = _steps(api)
    r = api.post(f"care-steps/{steps['nipt']['id']}/not-done", {"reason": "declined"})
    assert r.status_code == 200 and r.json["status"] == "not_applicable"
    r = api.post(
        f"care-steps/{steps['serum_screen_t2']['id']}/not-done", {"reason": "done_elsewhere"}
    )
    assert r.status_code == 422 and "done_on" in r.json["errors"]
    r = api.post(
        f"care-steps/{steps['serum_screen_t2']['id']}/not-done",
        {"reason": "done_elsewhere", "done_on": _iso(TODAY - dt.timedelta(days=2))},
    )
    assert r.status_code == 200 and r.json["status"] == "done"


def test_home_measurements_are_self_reported_and_seen_by_her_doctor(mum, doctor_of):
    api, user_id = mum
    r = api.post(
        "me/measurements",
        {
            "kind": "blood_pressure",
            "measured_at": NOON.isoformat(),
            "values": {"systolic_mmhg": 118, "diastolic_mmhg": 76},
        },
    )
    assert r.status_code == 201 and r.json["self_reported"] is True
    r = api.post(
        "me/measurements",
        {"kind": "weight", "measured_at": NOON.isoformat(), "values": {"weight_kg": 650}},
    )
    assert r.status_code == 422 and "values.weight_kg" in r.json["errors"]
    doctor, _ = doctor_of(user_id)
    seen = doctor.get(f"patients/{user_id}/measurements").json
    assert seen["total"] == 1 and seen["items"][0]["kind"] == "blood_pressure"


def test_a_stranger_cannot_log_results_or_read_steps(mum, make_staff):
    api, _ = mum
    _pregnancy(api, 8)
    step = _visit_step(api, "cma_visit_1")
    stranger, _ = make_staff(Role.DOCTOR)
    assert stranger.get(f"care-steps/{step['id']}").status_code == 404
    r = stranger.post(
        f"care-steps/{step['id']}/results",
        {"values": {"haemoglobin_g_l": 120}, "performed_on": _iso(TODAY)},
    )
    assert r.status_code == 404


def test_schedule_filters_by_subject_status_and_dates(mum):
    api, _ = mum
    preg = _pregnancy(api, 10)
    child = api.post("me/children", {"sex": "female", "birth_date": "2025-06-01"}).json
    only_child = _steps(api, subject=child["id"])
    assert only_child and all(s["subject"]["id"] == child["id"] for s in only_child.values())
    window = {"from": _iso(TODAY), "to": _iso(TODAY + dt.timedelta(days=14))}
    for step in _steps(api, subject=preg["id"], **window).values():
        assert step["closes_on"] >= window["from"] and step["opens_on"] <= window["to"]
    upcoming = _steps(api, status="upcoming")
    assert upcoming and {s["status"] for s in upcoming.values()} == {"upcoming"}
    r = api.get("me/schedule?status=soon")
    assert r.status_code == 422 and "status" in r.json["errors"]
    r = api.get(f"me/schedule?subject={uuid.uuid4()}")
    assert r.status_code == 422 and "subject" in r.json["errors"]


def test_choosing_je_i_replans_the_child(mum):
    api, _ = mum
    child = api.post("me/children", {"sex": "male", "birth_date": "2025-12-01"}).json
    codes = set(_steps(api, subject=child["id"]))
    r = api.patch(f"children/{child['id']}/care-options", {"vaccine_choices": {"JE": "JE-I"}})
    assert r.status_code == 200 and r.json["vaccine_choices"] == {"JE": "JE-I"}
    active = {c for c, s in _steps(api, subject=child["id"]).items() if s["status"] != "cancelled"}
    assert active != codes and any(c.startswith("je_i") for c in active)
    assert not any(c.startswith("je_l") for c in active)


def test_resync_command_reports_and_keeps_done_steps(app, mum):
    api, _ = mum
    _pregnancy(api, 10)
    result = app.test_cli_runner().invoke(args=["care", "resync"])
    assert result.exit_code == 0, result.output
    assert "resync:" in result.output and "0 moved" in result.output


def test_schedule_query_count_does_not_grow_with_children(mum, count_queries):
    api, _ = mum
    _pregnancy(api, 10)
    api.post("me/children", {"sex": "male", "birth_date": "2025-01-10"})
    with count_queries() as few:
        assert api.get("me/schedule?page_size=200").status_code == 200
    for year in (2021, 2022, 2023):
        api.post("me/children", {"sex": "female", "birth_date": f"{year}-03-01"})
    with count_queries() as many:
        assert api.get("me/schedule?page_size=200").json["total"] > 100
    assert len(many) == len(few)


def test_care_options_refuse_unknown_choices_flags_and_dates(mum):
    api, _ = mum
    child = api.post("me/children", {"sex": "male", "birth_date": "2025-12-01"}).json
    r = api.patch(
        f"children/{child['id']}/care-options",
        {"vaccine_choices": {"JE": "garbage"}, "flags": {"mother_hbsag": 7}},
    )
    assert r.status_code == 422
    assert set(r.json["errors"]) == {"vaccine_choices.JE", "flags.mother_hbsag"}
    r = api.put("me/care-dates", {"plan_date": "1900-01-01"})
    assert r.status_code == 422 and "plan_date" in r.json["errors"]
    r = api.put("me/care-dates", {"marriage_registration": _iso(TODAY + dt.timedelta(days=3))})
    assert r.status_code == 422 and "marriage_registration" in r.json["errors"]
