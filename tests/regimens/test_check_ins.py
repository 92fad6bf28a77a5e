"""Daily check-ins on her local date, adherence over any period, streaks, and the reminder
planner's view (active_regimens, reminder_dates)."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from sqlalchemy import func, select

from backend.regimens import service, signals
from backend.regimens.models import CheckIn
from tests.conftest import NOON, SHANGHAI, TODAY
from tests.regimens.conftest import days, iso

PATH = "me/regimens/folic-acid"
START = TODAY - days(9)  # a ten-day fixture: START .. TODAY
# Taken on days 0-3 and 7-9; day 4 answered "not taken", days 5 and 6 not answered.
TAKEN = [0, 1, 2, 3, 7, 8, 9]


@pytest.fixture
def started(mum, travel):
    """A regimen that started nine days ago (she planned a pregnancy for 30 days after)."""
    api, user_id = mum
    travel(api, NOON - days(9))
    r = api.put(PATH, {"planned_pregnancy_on": iso(START + days(30))})
    assert r.status_code == 200 and r.json["starts_on"] == iso(START), r.json
    travel(api, NOON)
    return api, user_id


def _tick(api, day: int, taken: bool = True):
    r = api.post(f"{PATH}/check-ins", {"on": iso(START + days(day)), "taken": taken})
    assert r.status_code == 201, r.json
    return r.json


@pytest.fixture
def fixture_days(started):
    api, user_id = started
    for day in TAKEN:
        _tick(api, day)
    _tick(api, 4, taken=False)
    return api, user_id


def test_a_check_in_is_on_her_local_date_at_2330_and_0030(mum, frozen_clock):
    api, _ = mum
    api.put(PATH, {"planned_pregnancy_on": iso(TODAY + days(10))})
    frozen_clock(dt.datetime.combine(TODAY, dt.time(23, 30), SHANGHAI))
    r = api.post(f"{PATH}/check-ins", {"taken": True})
    assert r.status_code == 201 and r.json["on"] == iso(TODAY)
    # 00:30 in Shanghai is still the previous day in UTC: the check-in follows her day.
    frozen_clock(dt.datetime.combine(TODAY + days(1), dt.time(0, 30), SHANGHAI))
    r = api.post(f"{PATH}/check-ins", {"taken": True})
    assert r.status_code == 201 and r.json["on"] == iso(TODAY + days(1))
    body = api.get(PATH).json
    assert body["today"] == {"date": iso(TODAY + days(1)), "in_regimen": True, "taken": True}
    assert body["current_streak"] == 2


def test_her_own_time_zone_decides_the_day(mum, frozen_clock):
    api, _ = mum
    assert api.patch("me", {"timezone": "America/New_York"}).status_code == 200
    api.put(PATH, {"planned_pregnancy_on": iso(TODAY + days(10))})
    # 09:00 in Shanghai on the 16th is 21:00 on the 15th in New York.
    frozen_clock(dt.datetime.combine(TODAY + days(1), dt.time(9, 0), SHANGHAI))
    assert api.post(f"{PATH}/check-ins", {"taken": True}).json["on"] == iso(TODAY)


def test_a_second_answer_for_a_day_updates_the_first(mum, db):
    api, _ = mum
    api.put(PATH, {"planned_pregnancy_on": iso(TODAY + days(10))})
    first = api.post(f"{PATH}/check-ins", {"taken": False}).json
    second = api.post(f"{PATH}/check-ins", {"on": iso(TODAY), "taken": True})
    assert second.status_code == 201
    assert second.json["id"] == first["id"] and second.json["taken"] is True
    count = db.scalar(
        select(func.count())
        .select_from(CheckIn)
        .where(CheckIn.regimen_id == uuid.UUID(first["regimen_id"]))
    )
    assert count == 1
    assert api.get(PATH).json["today"]["taken"] is True


@pytest.mark.parametrize(
    ("on", "message"),
    [
        (TODAY + days(1), "This date cannot be in the future."),
        (TODAY - days(10), "Your regimen had not started on this date."),
    ],
)
def test_a_check_in_in_the_future_or_before_the_start_is_422(started, make_citizen, on, message):
    api, _ = started
    api.lang = "en"
    r = api.post(f"{PATH}/check-ins", {"on": iso(on), "taken": True})
    assert r.status_code == 422 and r.json["errors"] == {"on": [message]}


def test_a_check_in_before_a_planned_start_is_422(mum):
    api, _ = mum
    api.put(PATH, {"planned_pregnancy_on": iso(TODAY + days(100))})
    r = api.post(f"{PATH}/check-ins", {"taken": True})
    assert r.status_code == 422 and "on" in r.json["errors"]


def test_check_ins_are_announced(mum):
    api, _ = mum
    api.put(PATH, {"planned_pregnancy_on": iso(TODAY + days(10))})
    seen = []

    def receiver(_sender, *, session, regimen, check_in, **_):
        seen.append((check_in.on, check_in.taken))

    signals.regimen_checked_in.connect(receiver)
    try:
        api.post(f"{PATH}/check-ins", {"taken": True})
    finally:
        signals.regimen_checked_in.disconnect(receiver)
    assert seen == [(TODAY, True)]


def test_adherence_over_the_whole_regimen_and_streaks(fixture_days):
    api, _ = fixture_days
    r = api.get(f"{PATH}/adherence")
    assert r.status_code == 200
    body = r.json
    assert (body["from"], body["to"]) == (iso(START), iso(TODAY))
    assert (body["days"], body["taken_days"], body["percent"]) == (10, 7, 70.0)
    assert (body["current_streak"], body["longest_streak"]) == (3, 4)


def test_adherence_over_a_period_is_clipped_to_the_regimen(fixture_days):
    api, _ = fixture_days
    body = api.get(f"{PATH}/adherence?from={iso(START + days(2))}&to={iso(START + days(5))}").json
    assert (body["days"], body["taken_days"], body["percent"]) == (4, 2, 50.0)
    assert (body["current_streak"], body["longest_streak"]) == (0, 2)
    body = api.get(f"{PATH}/adherence?from={iso(START - days(30))}&to={iso(START + days(1))}").json
    assert (body["from"], body["days"], body["percent"]) == (iso(START), 2, 100.0)
    body = api.get(f"{PATH}/adherence?to={iso(START - days(1))}").json
    assert (body["from"], body["to"], body["days"], body["percent"]) == (None, None, 0, None)


def test_a_period_that_ends_before_it_starts_is_422(fixture_days):
    api, _ = fixture_days
    r = api.get(f"{PATH}/adherence?from={iso(TODAY)}&to={iso(TODAY - days(1))}")
    assert r.status_code == 422 and "to" in r.json["errors"]
    assert api.get(f"{PATH}/adherence?from=yesterday").status_code == 422


def test_the_overview_has_the_last_7_and_30_days(fixture_days):
    api, _ = fixture_days
    body = api.get(PATH).json
    # days 3-9: taken on 3, 7, 8 and 9
    assert (body["last_7_days"]["days"], body["last_7_days"]["taken_days"]) == (7, 4)
    assert body["last_7_days"]["percent"] == 57.1
    assert (body["last_30_days"]["days"], body["last_30_days"]["percent"]) == (10, 70.0)
    assert (body["current_streak"], body["longest_streak"]) == (3, 4)


def test_today_counts_once_she_answered_for_it(started):
    api, _ = started
    for day in [0, 1, 2, 3, 7, 8]:
        _tick(api, day)
    body = api.get(f"{PATH}/adherence").json
    # Today is still open: counted up to yesterday, and the streak runs on.
    assert (body["to"], body["days"], body["taken_days"]) == (iso(TODAY - days(1)), 9, 6)
    assert body["current_streak"] == 2
    assert api.get(PATH).json["today"]["taken"] is None
    _tick(api, 9, taken=False)
    body = api.get(f"{PATH}/adherence").json
    assert (body["to"], body["days"], body["percent"], body["current_streak"]) == (
        iso(TODAY),
        10,
        60.0,
        0,
    )


def test_the_overview_costs_a_fixed_number_of_queries(fixture_days, count_queries):
    api, _ = fixture_days
    with count_queries() as statements:
        assert api.get(PATH).status_code == 200
    assert len(statements) == 3, statements  # token, regimen with her, check-ins


# --- the reminder planner's functions ----------------------------------------------------------


def _active(db, user_id: str):
    found = service.active_regimens(db, user_ids=[uuid.UUID(user_id)])
    assert len(found) == 1
    return found[0]


def test_reminder_dates_skip_days_taken_and_days_outside_the_regimen(mum, db):
    api, user_id = mum
    api.put(PATH, {"planned_pregnancy_on": iso(TODAY + days(92))})  # starts in 2 days
    regimen = _active(db, user_id)
    assert regimen.reminder_time == dt.time(8, 30)
    assert service.reminder_dates(regimen, today=TODAY, horizon_days=5) == [
        TODAY + days(n) for n in range(2, 6)
    ]
    # Pregnant: the regimen starts today and ends at 13+6, which is 3 days from now.
    lmp = TODAY + days(3) - days(13 * 7 + 6)
    assert api.post("me/pregnancies", {"lmp": iso(lmp)}).status_code == 201
    api.post(f"{PATH}/check-ins", {"taken": True})
    db.expire_all()  # the requests wrote through their own sessions
    regimen = _active(db, user_id)
    assert regimen.ends_on == TODAY + days(3)
    assert service.reminder_dates(regimen, today=TODAY, horizon_days=7) == [
        TODAY + days(1),
        TODAY + days(2),
        TODAY + days(3),
    ]
    # one day at a time, as the dispatcher asks just before sending
    assert service.reminder_dates(regimen, today=TODAY + days(2), horizon_days=0) == [
        TODAY + days(2)
    ]
    assert service.reminder_dates(regimen, today=TODAY + days(4), horizon_days=7) == []


def test_a_not_taken_answer_still_gets_its_reminder(mum, db):
    api, user_id = mum
    api.put(PATH, {"planned_pregnancy_on": iso(TODAY + days(10))})
    api.post(f"{PATH}/check-ins", {"taken": False})
    regimen = _active(db, user_id)
    assert service.reminder_dates(regimen, today=TODAY, horizon_days=1) == [
        TODAY,
        TODAY + days(1),
    ]


def test_active_regimens_leave_out_stopped_and_past_regimens(make_citizen, db):
    apis = [make_citizen() for _ in range(3)]
    (a, a_id, _), (b, b_id, _), (c, c_id, _) = apis
    a.put(PATH, {"planned_pregnancy_on": iso(TODAY + days(10))})
    preg = b.post("me/pregnancies", {"lmp": iso(TODAY - days(40))}).json
    b.post(f"pregnancies/{preg['id']}/end", {"kind": "miscarriage", "ended_on": iso(TODAY)})
    c.post("me/pregnancies", {"lmp": iso(TODAY - days(60))})
    ids = [uuid.UUID(x) for x in (a_id, b_id, c_id)]
    found = service.active_regimens(db, user_ids=ids)
    assert sorted(str(r.user_id) for r in found) == sorted([a_id, c_id])
    assert service.active_regimens(db, user_ids=[]) == []
    assert {str(r.user_id) for r in service.active_regimens(db)} >= {a_id, c_id}
    stopped = service.latest(db, user_id=ids[1])
    assert service.reminder_dates(stopped, today=TODAY, horizon_days=3) == []
