"""Family benefits through the API: leave for the births and losses on record, a planned birth."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.conftest import TODAY

pytestmark = pytest.mark.usefixtures("at_noon")


def test_leave_for_the_day_the_2021_rules_began(citizen):
    citizen.post("me/children", {"sex": "male", "birth_date": "2021-11-25"})
    body = citizen.get("me/benefits").json
    [event] = body["events"]
    assert event["event"] == "birth" and event["leave"]["maternity_days"] == 158
    [child] = body["children"]
    assert child["childcare_subsidy"]["status"] in ("eligible", "not_eligible")


def test_planned_second_child_and_subsidy(citizen):
    r = citizen.get("me/benefits?birth_date=2023-06-01&child_order=2")
    assert r.status_code == 200
    assert r.json["planned"]["leave"]["maternity_days"] == 188
    r = citizen.get("me/benefits?birth_date=2023-12-10&child_order=1")
    subsidy = r.json["planned"]["childcare_subsidy"]
    assert (subsidy["months"], subsidy["total_yuan"]) == (24, "7200.00") or (
        subsidy["months"] == 24 and float(subsidy["total_yuan"]) == 7200
    )
    r = citizen.get("me/benefits?birth_date=2023-06-01")
    assert r.status_code == 422 and "child_order" in r.json["errors"]


def test_leave_after_a_miscarriage_at_10_weeks(citizen):
    lmp = TODAY - dt.timedelta(weeks=10)
    preg = citizen.post("me/pregnancies", {"lmp": lmp.isoformat()}).json
    citizen.post(
        f"pregnancies/{preg['id']}/end",
        {"kind": "miscarriage", "ended_on": TODAY.isoformat(), "ga_weeks": 10},
    )
    [event] = citizen.get("me/benefits").json["events"]
    assert event["event"] == "loss" and event["leave"]["maternity_days"] == 15
