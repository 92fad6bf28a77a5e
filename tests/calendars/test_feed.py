"""The calendar feed: valid iCalendar of her pending steps, behind a rotatable secret URL."""

from __future__ import annotations

import datetime as dt
import secrets
import uuid

import pytest
from icalendar import Calendar

from backend.auth.models import Registration, Role, User
from backend.auth.security import token_digest
from backend.calendars.models import CalendarFeed
from tests.conftest import NOON, TODAY, Api

pytestmark = pytest.mark.usefixtures("at_noon")

PENDING = "upcoming,due,overdue"
PREFIX = "http://localhost/api/v1/calendar-feeds/"


def _pregnancy(api: Api, weeks: int) -> dict:
    r = api.post("me/pregnancies", {"lmp": (TODAY - dt.timedelta(weeks=weeks)).isoformat()})
    assert r.status_code == 201, r.json
    return r.json


def _child(api: Api, name: str | None = None, days: int = 3) -> dict:
    body = {"sex": "female", "birth_date": (TODAY - dt.timedelta(days=days)).isoformat()}
    if name:
        body["name"] = name
    r = api.post("me/children", body)
    assert r.status_code == 201, r.json
    return r.json


def _schedule(api: Api, status: str = PENDING) -> dict[str, dict]:
    r = api.get(f"me/schedule?page_size=200&status={status}&view=full")
    assert r.status_code == 200, r.json
    return {s["id"]: s for s in r.json["items"]}


def _parse(response) -> Calendar:
    assert response.status_code == 200, response.data[:300]
    return Calendar.from_ical(response.data)


def _events(cal: Calendar) -> dict[str, object]:
    """Events by step id (UID is '<step id>@mch')."""
    events = {}
    for event in cal.walk("VEVENT"):
        uid = str(event["UID"])
        assert uid.endswith("@mch")
        events[uid.removesuffix("@mch")] = event
    return events


def _feed_url(api: Api) -> str:
    r = api.post("me/calendar-feed")
    assert r.status_code == 201, r.json
    assert r.headers["Cache-Control"] == "no-store"
    url = r.json["url"]
    assert url.startswith(PREFIX) and url.endswith(".ics"), url
    assert dt.datetime.fromisoformat(r.json["rotated_at"]) == NOON
    return url


def _fetch(client, url: str, **headers: str):
    return client.get(url.removeprefix("http://localhost"), headers=headers)


def test_feed_is_valid_icalendar_of_her_pending_steps_as_all_day_events(mum):
    api, _ = mum
    _pregnancy(api, 8)
    r = api.get("me/calendar.ics")
    assert r.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert r.headers["Cache-Control"] == "private, max-age=300"
    assert r.headers["ETag"]
    cal = _parse(r)
    assert cal.name == "VCALENDAR"
    assert str(cal["VERSION"]) == "2.0" and str(cal["PRODID"]).startswith("-//")
    assert str(cal["CALSCALE"]) == "GREGORIAN"
    assert str(cal["X-WR-CALNAME"]) and str(cal["X-WR-TIMEZONE"]) == "Asia/Shanghai"

    schedule = _schedule(api)
    events = _events(cal)
    assert schedule and set(events) == set(schedule)
    for step_id, event in events.items():
        step = schedule[step_id]
        start, end = event["DTSTART"].dt, event["DTEND"].dt
        # all-day: dates, not date-times; the end is exclusive (the day after the due date)
        assert type(start) is dt.date and type(end) is dt.date
        assert start == dt.date.fromisoformat(step["opens_on"])
        assert end == dt.date.fromisoformat(step["due_on"]) + dt.timedelta(days=1)
        assert event["DTSTART"].params.get("VALUE") == "DATE"
        assert str(event["SUMMARY"]) == step["title"]
        assert str(event["DESCRIPTION"]).startswith(step["why"])
        stamp = event["DTSTAMP"].dt
        assert stamp.tzinfo is not None and event["LAST-MODIFIED"].dt == stamp
        (alarm,) = event.walk("VALARM")
        assert str(alarm["ACTION"]) == "DISPLAY" and str(alarm["DESCRIPTION"])
        # 09:00 on the day before the window opens
        assert alarm["TRIGGER"].dt == dt.timedelta(hours=-15)
    # the window's late end is said in words, in her language
    nt = next(e for e in events.values() if "NT" in str(e["SUMMARY"]))
    assert "年" in str(nt["DESCRIPTION"])


def test_summaries_follow_her_own_language_not_the_callers(mum, client):
    api, _ = mum
    _pregnancy(api, 8)
    zh = {uid: str(e["SUMMARY"]) for uid, e in _events(_parse(api.get("me/calendar.ics"))).items()}
    url = _feed_url(api)

    etag = api.get("me").headers["ETag"]
    r = api.patch("me", {"locale": "en"}, headers={"If-Match": etag})
    assert r.status_code == 200, r.json
    english = Api(client, token=api.token, lang="en")
    titles = {sid: s["title"] for sid, s in _schedule(english).items()}
    # the phone asks in Chinese; the feed answers in the language she chose
    en = {uid: str(e["SUMMARY"]) for uid, e in _events(_parse(_fetch(client, url))).items()}
    assert en == titles
    assert set(en) == set(zh) and all(en[k] != zh[k] for k in en)
    desc = str(
        _events(_parse(_fetch(client, url, **{"Accept-Language": "zh-CN"})))[next(iter(en))][
            "DESCRIPTION"
        ]
    )
    assert "Best done from" in desc or "Due on" in desc


def test_done_declined_cancelled_and_missed_steps_are_absent(mum, make_staff, db):
    api, user_id = mum
    preg = _pregnancy(api, 26)  # late registration: the 16-20 week visit is missed
    doctor, staff = make_staff(Role.DOCTOR)
    db.add(Registration(user_id=uuid.UUID(user_id), institution_id=staff.institution_id))
    db.commit()
    everything = _schedule(api, status="upcoming,due,overdue,missed")
    by_code = {s["code"]: s for s in everything.values()}
    missed = by_code["ph_prenatal_2"]
    assert missed["status"] == "missed"
    pending = [s for s in everything.values() if s["status"] in ("due", "overdue")]
    done, declined = pending[0], pending[1]
    today = TODAY.isoformat()
    r = doctor.post(f"care-steps/{done['id']}/results", {"values": {}, "performed_on": today})
    assert r.status_code == 201, r.json
    r = api.post(f"care-steps/{declined['id']}/not-done", {"reason": "declined"})
    assert r.status_code == 200, r.json

    events = _events(_parse(api.get("me/calendar.ics")))
    assert events and set(events) == set(_schedule(api))
    assert not {done["id"], declined["id"], missed["id"]} & set(events)

    r = api.post(f"pregnancies/{preg['id']}/end", {"kind": "miscarriage", "ended_on": today})
    assert r.status_code == 200, r.json
    events = _events(_parse(api.get("me/calendar.ics")))
    pregnancy_steps = {s for s in everything if everything[s]["subject"]["id"] == preg["id"]}
    assert not pregnancy_steps & set(events)
    assert set(events) == set(_schedule(api))


def test_her_childrens_steps_are_included_with_their_names(mum):
    api, _ = mum
    named = _child(api, "小明")
    unnamed = _child(api, days=40)
    schedule = _schedule(api)
    events = _events(_parse(api.get("me/calendar.ics")))
    assert set(events) == set(schedule)
    subjects = {schedule[sid]["subject"]["id"] for sid in events}
    assert {named["id"], unnamed["id"]} <= subjects
    for sid, event in events.items():
        step = schedule[sid]
        if step["subject"]["id"] == named["id"]:
            assert str(event["SUMMARY"]) == f"{step['title']} · 小明"
        else:
            assert str(event["SUMMARY"]) == step["title"]


def test_rotation_kills_the_old_url_at_once_and_keeps_uids(mum, client, db):
    api, user_id = mum
    _pregnancy(api, 8)
    _child(api, "小明")
    first = _feed_url(api)
    r = _fetch(client, first)
    assert r.data == api.get("me/calendar.ics").data
    uids = set(_events(_parse(r)))
    secret = first.removeprefix(PREFIX).removesuffix(".ics")
    assert len(secret) >= 43  # 256 bits, URL-safe base64
    feed = db.query(CalendarFeed).filter_by(user_id=uuid.UUID(user_id)).one()
    assert feed.token_hash == token_digest(secret) and secret not in feed.token_hash

    second = _feed_url(api)
    assert second != first
    gone = _fetch(client, first)
    assert gone.status_code == 404 and gone.content_type == "application/problem+json"
    assert set(_events(_parse(_fetch(client, second)))) == uids


def test_a_revoked_feed_answers_404(mum, client):
    api, _ = mum
    url = _feed_url(api)
    assert _fetch(client, url).status_code == 200
    assert api.delete("me/calendar-feed").status_code == 204
    r = _fetch(client, url)
    assert r.status_code == 404 and r.content_type == "application/problem+json"
    assert api.delete("me/calendar-feed").status_code == 204  # idempotent
    assert _fetch(client, _feed_url(api)).status_code == 200  # she may subscribe again


def test_guesses_and_strangers_see_nothing(mum, make_citizen, client, anon):
    api, _ = mum
    _pregnancy(api, 8)
    _feed_url(api)
    guess = f"{PREFIX}{secrets.token_urlsafe(32)}.ics"
    r = _fetch(client, guess)
    assert r.status_code == 404 and r.content_type == "application/problem+json"
    assert anon.get("me/calendar.ics").status_code == 401
    assert anon.post("me/calendar-feed").status_code == 401
    # another woman's feed holds her own (empty) schedule, nothing of the first one's
    other, _, _ = make_citizen("路人")
    assert not _events(_parse(_fetch(client, _feed_url(other))))


def test_a_deactivated_account_feed_answers_404(mum, client, db):
    api, user_id = mum
    url = _feed_url(api)
    user = db.get(User, uuid.UUID(user_id))
    user.is_active = False
    db.commit()
    assert _fetch(client, url).status_code == 404


def test_unchanged_feed_answers_304_to_if_none_match(mum, client):
    api, _ = mum
    _pregnancy(api, 8)
    url = _feed_url(api)
    first = _fetch(client, url)
    etag = first.headers["ETag"]
    assert _fetch(client, url, **{"If-None-Match": etag}).status_code == 304
    _child(api)
    changed = _fetch(client, url, **{"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag


def test_query_count_does_not_grow_with_steps_or_children(mum, client, count_queries):
    api, _ = mum
    url = _feed_url(api)

    def fetch() -> tuple[int, int]:
        with count_queries() as statements:
            r = _fetch(client, url)
        return len(statements), len(_events(_parse(r)))

    _pregnancy(api, 8)
    _child(api, "老大", days=400)
    few_queries, few_events = fetch()
    for i in range(3):
        _child(api, f"孩子{i}", days=3 + 30 * i)
    many_queries, many_events = fetch()
    assert many_events > few_events + 50
    # the owner, her pregnancies, her children, their steps, their names
    assert many_queries == few_queries <= 5, (few_queries, many_queries)
