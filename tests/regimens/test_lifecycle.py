"""The regimen follows the handbook: a pregnancy links or starts it, redating moves its end,
a loss stops it, a birth or the end of the first trimester completes it."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import select

from backend.regimens import jobs, lifecycle, service
from backend.regimens.models import Regimen
from tests.conftest import NOON, SHANGHAI, TODAY
from tests.regimens.conftest import days, iso

PATH = "me/regimens/folic-acid"
FIRST_TRIMESTER = days(13 * 7 + 6)


def _pregnancy(api, *, lmp: dt.date) -> dict:
    r = api.post("me/pregnancies", {"lmp": iso(lmp)})
    assert r.status_code == 201, r.json
    return r.json


def test_a_pregnancy_without_a_plan_starts_today_and_ends_at_lmp_13w6d(mum, changes):
    api, _ = mum
    lmp = TODAY - days(6 * 7)
    preg = _pregnancy(api, lmp=lmp)
    body = api.get(PATH).json
    assert body["starts_on"] == iso(TODAY) and body["ends_on"] == iso(lmp + FIRST_TRIMESTER)
    assert body["pregnancy_id"] == preg["id"] and body["planned_pregnancy_on"] is None
    assert body["status"] == "active" and body["today"]["in_regimen"] is True
    assert len(changes) == 1


def test_a_pregnancy_dated_by_edd_ends_at_edd_minus_280_plus_13w6d(mum):
    api, _ = mum
    edd = TODAY + days(240)
    assert api.post("me/pregnancies", {"edd": iso(edd)}).status_code == 201
    assert api.get(PATH).json["ends_on"] == iso(edd - days(280) + FIRST_TRIMESTER)


def test_a_pregnancy_links_her_planned_regimen_and_starts_it_now(mum, changes):
    api, _ = mum
    plan = api.put(PATH, {"planned_pregnancy_on": iso(TODAY + days(150))}).json
    assert plan["starts_on"] == iso(TODAY + days(60))
    lmp = TODAY - days(30)
    preg = _pregnancy(api, lmp=lmp)
    body = api.get(PATH).json
    assert body["id"] == plan["id"] and body["pregnancy_id"] == preg["id"]
    assert body["starts_on"] == iso(TODAY) and body["ends_on"] == iso(lmp + FIRST_TRIMESTER)
    assert body["planned_pregnancy_on"] == plan["planned_pregnancy_on"]
    assert [c[2:] for c in changes] == [
        (TODAY + days(60), None),
        (TODAY, lmp + FIRST_TRIMESTER),
    ]


def test_a_started_plan_keeps_its_start_when_she_becomes_pregnant(mum, travel):
    api, _ = mum
    api.put(PATH, {"planned_pregnancy_on": iso(TODAY + days(30))})
    travel(api, NOON + days(40))
    _pregnancy(api, lmp=TODAY + days(15))
    assert api.get(PATH).json["starts_on"] == iso(TODAY)


def test_a_pregnancy_recorded_after_the_first_trimester_starts_nothing(mum):
    api, _ = mum
    _pregnancy(api, lmp=TODAY - days(15 * 7))
    assert api.get(PATH).status_code == 404


def test_a_plan_then_a_pregnancy_recorded_late_completes_the_regimen(mum):
    api, _ = mum
    api.put(PATH, {"planned_pregnancy_on": iso(TODAY + days(10))})
    lmp = TODAY - days(16 * 7)
    _pregnancy(api, lmp=lmp)
    body = api.get(PATH).json
    assert body["status"] == "completed" and body["stop_reason"] == "end_of_span"
    assert body["stopped_on"] == iso(lmp + FIRST_TRIMESTER)


def test_redating_moves_the_end(mum, doctor_of, changes):
    api, user_id = mum
    preg = _pregnancy(api, lmp=TODAY - days(10 * 7))
    before = dt.date.fromisoformat(api.get(PATH).json["ends_on"])
    doctor, _ = doctor_of(user_id)
    # The scan measures 11+1 instead of 10+0: more than the 7-day threshold, the EDD moves.
    r = doctor.patch(
        f"pregnancies/{preg['id']}",
        {"ultrasound": {"scan_date": iso(TODAY), "ga_weeks": 11, "ga_days": 1}},
    )
    assert r.status_code == 200 and r.json["edd_source"] == "ultrasound"
    after = api.get(PATH).json
    assert dt.date.fromisoformat(after["ends_on"]) == before - days(8)
    assert changes[-1][3] == before - days(8)


def test_a_redating_back_into_the_first_trimester_reopens_a_completed_regimen(mum, db):
    api, _ = mum
    preg = _pregnancy(api, lmp=TODAY - days(12 * 7))
    regimen_id = api.get(PATH).json["id"]
    # a corrected LMP: she is 14+2 today, so the regimen ended yesterday...
    r = api.patch(f"pregnancies/{preg['id']}", {"lmp": iso(TODAY - days(14 * 7 + 2))})
    assert r.status_code == 200
    body = api.get(PATH).json
    assert (body["id"], body["status"]) == (regimen_id, "completed")
    # ...and a second correction puts today back at 12+0: it runs again.
    r = api.patch(f"pregnancies/{preg['id']}", {"lmp": iso(TODAY - days(12 * 7))})
    assert r.status_code == 200
    body = api.get(PATH).json
    assert (body["id"], body["status"], body["stopped_on"]) == (regimen_id, "active", None)


def test_a_loss_stops_it_at_once_and_a_new_plan_restarts_cleanly(mum, changes, db):
    api, user_id = mum
    api.put(PATH, {"risk_factors": ["diabetes"], "planned_pregnancy_on": iso(TODAY + days(40))})
    preg = _pregnancy(api, lmp=TODAY - days(7 * 7))
    first = api.get(PATH).json
    api.post(f"{PATH}/check-ins", {"taken": True})
    r = api.post(f"pregnancies/{preg['id']}/end", {"kind": "miscarriage", "ended_on": iso(TODAY)})
    assert r.status_code == 200
    stopped = api.get(PATH).json
    assert (stopped["id"], stopped["status"], stopped["stop_reason"]) == (
        first["id"],
        "stopped",
        "loss",
    )
    assert stopped["stopped_on"] == iso(TODAY) and changes[-1][1] == "stopped"
    assert service.active_regimens(db, user_ids=[uuid.UUID(user_id)]) == []
    # No check-in after the day it stopped.
    r = api.post(f"{PATH}/check-ins", {"on": iso(TODAY + days(1)), "taken": True})
    assert r.status_code == 422
    # A new plan is a new regimen: her risk factors stay, her check-ins do not.
    r = api.put(PATH, {"planned_pregnancy_on": iso(TODAY + days(200))})
    assert r.status_code == 200, r.json
    new = r.json
    assert new["id"] != first["id"] and new["status"] == "active"
    assert new["starts_on"] == iso(TODAY + days(110)) and new["pregnancy_id"] is None
    assert new["tier"] == "raised" and new["today"]["taken"] is None
    assert new["longest_streak"] == 0
    rows = db.scalars(select(Regimen).where(Regimen.user_id == uuid.UUID(user_id))).all()
    assert sorted(r.status for r in rows) == ["active", "stopped"]


def test_a_new_pregnancy_after_a_loss_starts_a_new_regimen(mum):
    api, _ = mum
    preg = _pregnancy(api, lmp=TODAY - days(8 * 7))
    first = api.get(PATH).json["id"]
    api.post(f"pregnancies/{preg['id']}/end", {"kind": "miscarriage", "ended_on": iso(TODAY)})
    lmp = TODAY - days(14)
    _pregnancy(api, lmp=lmp)
    body = api.get(PATH).json
    assert body["id"] != first and body["status"] == "active"
    assert body["ends_on"] == iso(lmp + FIRST_TRIMESTER)


def test_pregnant_she_may_change_time_and_risk_factors_but_not_plan(mum):
    api, _ = mum
    _pregnancy(api, lmp=TODAY - days(5 * 7))
    body = api.put(PATH, {"reminder_time": "12:00", "risk_factors": ["obesity"]}).json
    assert (body["reminder_time"], body["tier"]) == ("12:00", "raised")
    r = api.put(PATH, {"planned_pregnancy_on": iso(TODAY + days(10))})
    assert r.status_code == 422 and "planned_pregnancy_on" in r.json["errors"]


def test_past_its_end_it_reads_completed_and_the_daily_job_persists_it(mum, travel, app, db):
    api, user_id = mum
    lmp = TODAY - days(13 * 7)
    _pregnancy(api, lmp=lmp)
    end = lmp + FIRST_TRIMESTER
    travel(api, dt.datetime.combine(end, dt.time(23, 59), SHANGHAI))
    assert api.get(PATH).json["status"] == "active"
    travel(api, dt.datetime.combine(end + days(1), dt.time(0, 1), SHANGHAI))
    body = api.get(PATH).json
    assert (body["status"], body["stop_reason"], body["stopped_on"]) == (
        "completed",
        "end_of_span",
        iso(end),
    )
    with app.app_context():  # the daily job runs in one; listeners read the app's settings
        done = lifecycle.complete_past_end(db, default_tz="Asia/Shanghai")
        assert [r.user_id for r in done] == [uuid.UUID(user_id)]
        db.commit()
    stored = db.scalars(select(Regimen).where(Regimen.user_id == uuid.UUID(user_id))).one()
    assert (stored.status, stored.stopped_on) == ("completed", end)
    assert lifecycle.complete_past_end(db, default_tz="Asia/Shanghai") == []


def test_a_birth_completes_a_regimen_still_active(mum, travel):
    api, _ = mum
    lmp = TODAY - days(12 * 7)
    preg = _pregnancy(api, lmp=lmp)
    travel(api, NOON + days(26 * 7))
    r = api.post(
        f"pregnancies/{preg['id']}/birth",
        {
            "born_at": (NOON + days(26 * 7)).isoformat(),
            "ga_weeks": 38,
            "babies": [{"sex": "female", "weight_g": 3100, "length_cm": 49}],
        },
    )
    assert r.status_code == 200, r.json
    body = api.get(PATH).json
    assert (body["status"], body["stop_reason"]) == ("completed", "end_of_span")
    assert body["stopped_on"] == iso(lmp + FIRST_TRIMESTER)


def test_a_pregnancy_without_a_plan_takes_the_tier_of_her_recorded_risk_factors(mum, doctor_of):
    api, user_id = mum
    doctor, _ = doctor_of(user_id)
    r = doctor.put(f"patients/{user_id}/regimens/folic-acid", {"risk_factors": ["epilepsy"]})
    assert r.status_code == 200
    _pregnancy(api, lmp=TODAY - days(5 * 7))
    body = api.get(PATH).json
    assert (body["tier"], body["ask_doctor"], body["risk_factors"]) == (
        "raised",
        True,
        ["epilepsy"],
    )


def test_deleting_her_account_deletes_her_regimens(mum, db):
    api, user_id = mum
    api.put(PATH, {"planned_pregnancy_on": iso(TODAY + days(10)), "risk_factors": ["obesity"]})
    api.post(f"{PATH}/check-ins", {"taken": True})
    _pregnancy(api, lmp=TODAY - days(20))
    assert api.delete("me").status_code == 204
    assert db.scalars(select(Regimen).where(Regimen.user_id == uuid.UUID(user_id))).all() == []


def test_the_hourly_job_completes_regimens_past_their_end(mum, travel, app):
    api, _ = mum
    lmp = TODAY - days(13 * 7)
    _pregnancy(api, lmp=lmp)
    travel(api, dt.datetime.combine(lmp + FIRST_TRIMESTER + days(1), dt.time(0, 30), SHANGHAI))
    assert jobs.complete_regimens(app) == 1
    assert jobs.complete_regimens(app) == 0
    assert api.get(PATH).json["status"] == "completed"
    added = []

    class Scheduler:
        def add_job(self, func, *args, **kwargs):
            added.append((func, kwargs["id"]))

    jobs.register(Scheduler(), app, worker="w", stop=None)
    assert added == [(jobs.complete_regimens, "regimens.complete")]
