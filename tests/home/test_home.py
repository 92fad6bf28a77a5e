"""GET /me/home: the family's first screen in one request, through the same policy as the
parts it gathers, in a number of queries that does not grow with her records."""

from __future__ import annotations

import datetime as dt

from backend import clock
from backend.auth.models import Role

SHANGHAI = dt.timezone(dt.timedelta(hours=8))


def _today() -> dt.date:
    return clock.now().astimezone(SHANGHAI).date()


def _pregnant(api, weeks: int) -> None:
    lmp = _today() - dt.timedelta(weeks=weeks)
    r = api.post("me/pregnancies", {"lmp": lmp.isoformat()})
    assert r.status_code == 201, r.json


def _child(api, years: int, months: int = 0) -> None:
    born = _today() - dt.timedelta(days=years * 365 + months * 30 + 3)
    r = api.post("me/children", {"sex": "female", "birth_date": born.isoformat()})
    assert r.status_code == 201, r.json


def test_home_shows_her_week_next_steps_and_todays_folic_acid(citizen):
    _pregnant(citizen, weeks=8)
    r = citizen.get("me/home")
    assert r.status_code == 200, r.json
    body = r.json
    assert body["today"] == _today().isoformat()
    assert body["pregnancy"]["gestational_age"] == {"weeks": 8, "days": 0}
    assert "pregnancy" in {s["stage"] for s in body["life_stages"]}
    assert 1 <= len(body["next_steps"]) <= 3
    assert {s["status"] for s in body["next_steps"]} <= {"overdue", "due", "upcoming"}
    dues = [s["due_on"] for s in body["next_steps"]]
    assert dues == sorted(dues)
    # Recording a pregnancy in the first trimester starts folic acid today (0.4 mg/day to 13+6).
    assert body["folic_acid"]["status"] == "active"
    assert body["folic_acid"]["today"]["taken"] is None
    assert body["unread_count"] == 0
    r = citizen.post("me/regimens/folic-acid/check-ins", {"taken": True})
    assert r.status_code == 201, r.json
    assert citizen.get("me/home").json["folic_acid"]["today"]["taken"] is True


def test_home_of_a_new_account_is_empty_but_whole(citizen):
    body = citizen.get("me/home").json
    assert body["pregnancy"] is None and body["children"] == []
    assert body["folic_acid"] is None


def test_child_age_counts_months_the_way_parents_do(citizen):
    born = _today() - dt.timedelta(days=400)
    citizen.post("me/children", {"sex": "male", "birth_date": born.isoformat()})
    (child,) = citizen.get("me/home").json["children"]
    assert child["age"]["years"] == 1
    assert 0 <= child["age"]["months"] <= 1


def test_home_is_for_citizens_only(anon, make_staff):
    assert anon.get("me/home").status_code == 401
    doctor, _ = make_staff(Role.DOCTOR)
    assert doctor.get("me/home").status_code == 403


def test_home_costs_the_same_queries_with_one_child_or_four(make_citizen, count_queries):
    few, _, _ = make_citizen()
    _pregnant(few, weeks=8)
    _child(few, 2)
    many, _, _ = make_citizen()
    _pregnant(many, weeks=8)
    for years in (1, 2, 4, 7):
        _child(many, years)
    with count_queries() as one:
        assert few.get("me/home").status_code == 200
    with count_queries() as four:
        assert many.get("me/home").status_code == 200
    assert len(one) == len(four)
    assert len(four) <= 25, four
