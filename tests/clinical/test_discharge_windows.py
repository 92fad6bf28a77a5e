"""Audit point 6: windows a family can actually meet.

Rules and sources:
- The postpartum home visit and the newborn home visit are within 1 week after DISCHARGE
  (基本公共卫生服务规范 第三版 "出院后1周内" [C14][C38][C39]): they count from the discharge
  date once recorded; until then the window must not close before day 10 after the birth.
- The one-month check (满月, 28–30 days [C39]) and its eye check [C40] are due at 28–30 days and
  then overdue, not missed, on day 31.
"""

from __future__ import annotations

import datetime as dt

import pytest

from tests.conftest import SHANGHAI, TODAY

pytestmark = pytest.mark.usefixtures("at_noon")


def _birth(api, days_ago: int, **extra):
    born = TODAY - dt.timedelta(days=days_ago)
    lmp = born - dt.timedelta(weeks=39)
    preg = api.post("me/pregnancies", {"lmp": lmp.isoformat()}).json
    r = api.post(
        f"pregnancies/{preg['id']}/birth",
        {
            "born_at": dt.datetime.combine(born, dt.time(8), SHANGHAI).isoformat(),
            "ga_weeks": 39,
            "babies": [{"sex": "female", "weight_g": 3300, "length_cm": 50}],
            **extra,
        },
    )
    assert r.status_code == 200, r.json
    return preg, born


def _steps(api):
    return {s["code"]: s for s in api.get("me/schedule?page_size=200").json["items"]}


def test_until_discharge_is_known_the_home_visits_stay_open_to_day_10(citizen):
    _, born = _birth(citizen, 8)  # day 8: a 7-day window from the birth would be missed
    steps = _steps(citizen)
    for code in ("postpartum_home_visit", "newborn_home_visit", "eye_check_newborn"):
        assert steps[code]["status"] == "overdue", code
        assert dt.date.fromisoformat(steps[code]["closes_on"]) >= born + dt.timedelta(days=10)


def test_the_home_visits_count_from_the_discharge_date(citizen):
    preg, born = _birth(citizen, 8)
    discharged = born + dt.timedelta(days=4)
    r = citizen.patch(f"pregnancies/{preg['id']}", {"discharged_on": discharged.isoformat()})
    assert r.status_code == 200, r.json
    assert r.json["discharged_on"] == discharged.isoformat()
    steps = _steps(citizen)
    week_after = (discharged + dt.timedelta(days=7)).isoformat()
    for code in ("postpartum_home_visit", "newborn_home_visit", "eye_check_newborn"):
        assert steps[code]["opens_on"] == discharged.isoformat(), code
        assert steps[code]["closes_on"] == week_after, code
        assert steps[code]["status"] == "due", code


def test_the_discharge_date_can_come_with_the_birth_and_is_checked(citizen):
    preg, born = _birth(citizen, 3, discharged_on=(TODAY - dt.timedelta(days=1)).isoformat())
    assert (
        _steps(citizen)["postpartum_home_visit"]["opens_on"]
        == (TODAY - dt.timedelta(days=1)).isoformat()
    )
    before = citizen.patch(
        f"pregnancies/{preg['id']}", {"discharged_on": (born - dt.timedelta(days=1)).isoformat()}
    )
    assert before.status_code == 422 and "discharged_on" in before.json["errors"]
    future = citizen.patch(
        f"pregnancies/{preg['id']}", {"discharged_on": (TODAY + dt.timedelta(days=1)).isoformat()}
    )
    assert future.status_code == 422 and "discharged_on" in future.json["errors"]


def test_no_discharge_date_on_an_ongoing_pregnancy(citizen):
    preg = citizen.post("me/pregnancies", {"lmp": (TODAY - dt.timedelta(weeks=20)).isoformat()})
    r = citizen.patch(f"pregnancies/{preg.json['id']}", {"discharged_on": TODAY.isoformat()})
    assert r.status_code == 409


def test_the_one_month_checks_are_overdue_not_missed_on_day_31(citizen):
    _birth(citizen, 31)
    steps = _steps(citizen)
    for code in ("child_check_1m", "eye_check_1m"):
        assert steps[code]["status"] == "overdue", code
