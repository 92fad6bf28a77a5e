"""Audit point 5: a stillbirth is a birth for the mother's care.

Rules and sources:
- A loss at 28 weeks or later is a birth, not a 流产 (《妇产科学》 9th ed., reference §3 [M]):
  the mother keeps the postpartum home visit and the 42-day check (基本公共卫生服务规范 第三版
  [C14][C17]) and postpartum contraception counselling (reference §8).
- Breastfeeding hours (女职工劳动保护特别规定 art 9 [L1], a baby under 1 year) and parental
  leave (浙江 2021, a child under 3 [L2]) need a living child: none is awarded.
- content/benefits/national_2012.yaml marks a loss at 28 weeks or later as unsettled
  (NAT-LOSS-GE28W): shown as unsettled, not computed.
- Her life stage is 产 (postpartum, DESIGN.md §2), not 婚, and her feed shows no premarital
  lessons and no baby-care lessons.
"""

from __future__ import annotations

import datetime as dt

import pytest

from tests.conftest import TODAY

pytestmark = pytest.mark.usefixtures("at_noon")


def _stillbirth(api, days_ago: int = 5, weeks: int = 34):
    ended = TODAY - dt.timedelta(days=days_ago)
    lmp = ended - dt.timedelta(weeks=weeks)
    preg = api.post("me/pregnancies", {"lmp": lmp.isoformat()}).json
    r = api.post(
        f"pregnancies/{preg['id']}/end",
        {"kind": "stillbirth", "ended_on": ended.isoformat(), "ga_weeks": weeks},
    )
    assert r.status_code == 200, r.json
    return preg, ended


def test_she_keeps_the_postpartum_visits_and_counselling(citizen):
    _, ended = _stillbirth(citizen)
    steps = {s["code"]: s for s in citizen.get("me/schedule?page_size=200").json["items"]}
    kept = ("postpartum_home_visit", "postpartum_check_42d", "contraception_counselling_discharge")
    for code in kept:
        assert code in steps, code
        assert steps[code]["status"] != "cancelled", code
    assert steps["postpartum_check_42d"]["opens_on"] == (ended + dt.timedelta(days=42)).isoformat()


def test_no_nursing_time_or_parental_leave_and_the_unsettled_case_says_so(citizen):
    _stillbirth(citizen)
    events = citizen.get("me/benefits").json["events"]
    assert len(events) == 1
    event = events[0]
    assert event["event"] == "loss"
    kinds = {c["kind"] for c in event["leave"]["components"]}
    assert "nursing" not in kinds and "parental" not in kinds
    assert event["leave"]["status"] == "unsettled"
    assert event["leave"]["maternity_days"] is None


def test_her_stage_is_postpartum_and_the_feed_has_no_premarital_or_baby_lessons(citizen):
    _stillbirth(citizen)
    stages = [s["stage"] for s in citizen.get("me").json["life_stages"]]
    assert "birth" in stages and "marriage" not in stages
    feed = citizen.get("me/feed").json
    sections = feed["items"]
    assert not any(s["stage"] == "marriage" for s in sections)
    assert all(s["after_loss"] for s in sections if s["stage"] == "birth")
