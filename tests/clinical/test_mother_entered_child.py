"""Audit point 1: a child entered directly by its mother counts as her birth.

Rules and sources:
- postpartum home visit and 42-day check for every woman who gave birth: 国家基本公共卫生服务规范
  (第三版) 孕产妇健康管理 [C14][C17]; contraception counselling at the home visit and the 42-day
  check (clinical-schedules.md §8).
- WHO MEC 2015 Table 2.4 [S1]: combined hormonal contraception is category 4 below six weeks
  postpartum when breastfeeding, and 3 (no other VTE risk) / 4 (with one) below 21 days when not
  breastfeeding. With breastfeeding unknown, the conservative reading is the stricter row: 4.
"""

from __future__ import annotations

import datetime as dt

import pytest

from tests.conftest import TODAY

pytestmark = pytest.mark.usefixtures("at_noon")


def _day(days_ago: int) -> str:
    return (TODAY - dt.timedelta(days=days_ago)).isoformat()


def _codes(api, **params):
    query = "&".join(f"{k}={v}" for k, v in params.items())
    body = api.get(f"me/schedule?page_size=100&view=full&{query}").json
    return {s["code"]: s for s in body["items"]}


def test_two_weeks_after_a_birth_she_entered_she_gets_postpartum_care(make_citizen):
    api, _, _ = make_citizen()
    born = TODAY - dt.timedelta(days=14)
    r = api.post("me/children", {"sex": "female", "birth_date": born.isoformat(), "ga_weeks": 39})
    assert r.status_code == 201, r.json
    steps = _codes(api)
    for code in ("postpartum_check_42d", "postpartum_check_3_6m"):
        assert code in steps, code
        assert steps[code]["status"] in ("upcoming", "due")
    # The 42-day check counts from the birth [C14].
    assert steps["postpartum_check_42d"]["opens_on"] == (born + dt.timedelta(days=42)).isoformat()
    # Contraception counselling before discharge happened before she joined: missed, shown so.
    assert "contraception_counselling_discharge" in steps
    # No prenatal visit of a pregnancy she never recorded is planned, not even as missed.
    assert not any(s["programme"] == "prenatal_public_health" for s in steps.values())


def test_the_combined_pill_is_not_offered_at_two_weeks_with_feeding_unknown(citizen):
    born = TODAY - dt.timedelta(days=14)
    citizen.post("me/children", {"sex": "male", "birth_date": born.isoformat()})
    coc = next(m for m in citizen.get("me/contraception").json["methods"] if m["method"] == "coc")
    # WHO MEC 2015 [S1]: below 6 weeks postpartum while breastfeeding, category 4.
    assert (coc["category"], coc["offer"]) == (4, "not_offered")
    assert "breastfeeding" in coc["missing_facts"]


def test_her_schedule_contraception_and_benefits_agree_on_one_birth(citizen):
    born = TODAY - dt.timedelta(days=20)
    citizen.post("me/children", {"sex": "male", "birth_date": born.isoformat()})
    citizen.post("me/children", {"sex": "female", "birth_date": born.isoformat(), "birth_order": 2})
    pregnancies = citizen.get("me/pregnancies").json["items"]
    assert len(pregnancies) == 1  # twins entered one by one: one delivery
    delivery = pregnancies[0]
    assert (delivery["status"], delivery["ended_on"]) == ("delivered", born.isoformat())
    births = [e for e in citizen.get("me/benefits").json["events"] if e["event"] == "birth"]
    assert [e["date"] for e in births] == [born.isoformat()]
    stages = {s["stage"] for s in citizen.get("me").json["life_stages"]}
    assert "birth" in stages


def test_a_child_older_than_a_year_or_entered_by_the_father_is_not_her_birth(make_citizen):
    api, _, _ = make_citizen()
    api.post("me/children", {"sex": "male", "birth_date": _day(400)})
    assert api.get("me/pregnancies").json["total"] == 0
    father, _, _ = make_citizen()
    father.patch("me", {"sex": "male"})
    father.post("me/children", {"sex": "male", "birth_date": _day(10)})
    assert father.get("me/pregnancies").json["total"] == 0
