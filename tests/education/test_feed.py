"""The feed: every current stage of hers and her children's, locales, a loss, query counts."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from backend.education.feed import add_months, age_in_months, months_before, placement
from backend.handbook.dating import add_years
from tests.conftest import NOON, TODAY
from tests.education.conftest import days, iso

LOSS = ["pregnancy-loss"]


def _ok(r, status: int = 200):
    assert r.status_code == status, r.json
    return r.json


def _feed(api, query: str = "") -> list[dict]:
    return _ok(api.get(f"me/feed?{query}"))["items"]


def _slugs(items: list[dict]) -> list[str]:
    return [item["slug"] for item in items]


def _all_slugs(sections: list[dict]) -> set[str]:
    return {i["slug"] for s in sections for key in ("now", "next", "read") for i in s[key]}


@pytest.fixture
def mother(make_citizen):
    """A woman at 20+0 weeks with a two-year-old (24 months): (api, user_id, phone, ids)."""

    def make(lang: str = "zh-CN", weeks: int = 20, children: int = 1):
        api, user_id, phone = make_citizen("陈小梅", lang=lang)
        _ok(api.patch("me", {"birth_date": "1994-03-01", "sex": "female"}))
        preg = _ok(api.post("me/pregnancies", {"lmp": iso(TODAY - days(7 * weeks))}), 201)
        kids = [
            _ok(
                api.post(
                    "me/children",
                    {"sex": "male", "birth_date": iso(add_years(TODAY, -2) - days(40 * i))},
                ),
                201,
            )
            for i in range(children)
        ]
        return api, user_id, phone, {"pregnancy": preg["id"], "children": [k["id"] for k in kids]}

    return make


@pytest.fixture
def lessons(publish):
    """Lessons of several stages and windows, with a loss lesson that must never show here."""
    made = {}
    for slug, stage, window, topics in [
        ("p-early", "pregnancy", ("pregnancy_week", 4, 13), None),
        ("p-edge", "pregnancy", ("pregnancy_week", 12, 20), None),
        ("p-now-a", "pregnancy", ("pregnancy_week", 18, 22), None),
        ("p-now-b", "pregnancy", ("pregnancy_week", 20, 29), None),
        ("p-next-1", "pregnancy", ("pregnancy_week", 24, 28), None),
        ("p-next-2", "pregnancy", ("pregnancy_week", 28, 42), None),
        ("p-next-3", "pregnancy", ("pregnancy_week", 36, 42), None),
        ("p-next-4", "pregnancy", ("pregnancy_week", 38, 42), None),
        ("r-past", "rearing", ("child_age_month", 0, 12), None),
        ("r-now", "rearing", ("child_age_month", 18, 30), None),
        ("r-next", "rearing", ("child_age_month", 30, 37), None),
        ("e-school", "education", ("child_age_year", 3, 7), None),
        ("pp-recovery", "birth", ("postpartum_day", 0, 43), None),
        ("loss-support", "birth", ("loss_day", 0, 43), LOSS),
        ("loss-partner", "birth", ("loss_day", 0, 91), LOSS),
    ]:
        made[slug] = publish(slug=slug, stage=stage, window=window, topics=topics)
    return made


def test_a_pregnant_mother_of_a_two_year_old_sees_both_stages(mother, lessons):
    api, _, _, ids = mother()
    sections = _feed(api)
    assert [(s["stage"], s["colour"]) for s in sections] == [
        ("pregnancy", "orange"),
        ("rearing", "green"),
    ]
    pregnancy, rearing = sections
    assert pregnancy["subject"] == {"kind": "pregnancy", "id": ids["pregnancy"]}
    assert pregnancy["clocks"] == {"pregnancy_week": 20} and pregnancy["after_loss"] is False
    assert set(_slugs(pregnancy["now"])) == {"p-now-a", "p-now-b"}
    assert _slugs(pregnancy["next"]) == ["p-next-1", "p-next-2", "p-next-3"]
    assert rearing["subject"] == {"kind": "child", "id": ids["children"][0]}
    assert rearing["clocks"] == {"child_age_month": 24}
    assert _slugs(rearing["now"]) == ["r-now"] and _slugs(rearing["next"]) == ["r-next"]
    assert all(s["read"] == [] for s in sections)
    assert not _all_slugs(sections) & {"loss-support", "loss-partner", "pp-recovery", "e-school"}

    item = pregnancy["now"][0]
    assert item["title"].endswith("标题") and item["locale"] == "zh_CN"
    assert item["window"]["clock"] == "pregnancy_week" and item["version"] == 1
    assert item["read_at"] is None and item["completed_at"] is None

    longer = _feed(api, "next_limit=5")[0]
    assert _slugs(longer["next"]) == ["p-next-1", "p-next-2", "p-next-3", "p-next-4"]


def test_reading_shows_in_the_section_and_unread_lessons_come_first(mother, lessons):
    api, *_ = mother()
    a = str(lessons["p-now-a"].id)
    read = _ok(api.post(f"lessons/{a}/reads", {"completed": True}), 201)
    assert read["completed"] is True and read["completed_at"] is not None
    _ok(api.post(f"lessons/{lessons['r-past'].id}/reads", {}), 201)
    pregnancy, rearing = _feed(api)
    assert _slugs(pregnancy["now"]) == ["p-now-b", "p-now-a"]
    assert _slugs(pregnancy["read"]) == ["p-now-a"]
    assert pregnancy["read"][0]["completed_at"] is not None
    assert _slugs(rearing["read"]) == ["r-past"] and rearing["read"][0]["completed_at"] is None


def test_the_feed_is_paged_over_sections(mother, lessons):
    api, *_ = mother()
    page = _ok(api.get("me/feed?page_size=1&page=2"))
    assert page["total"] == 2 and page["page"] == 2
    assert [s["stage"] for s in page["items"]] == ["rearing"]


def test_two_children_have_a_section_each(mother, lessons):
    api, _, _, ids = mother(children=2)
    rearing = [s for s in _feed(api) if s["stage"] == "rearing"]
    assert [s["subject"]["id"] for s in rearing] == list(reversed(ids["children"]))
    assert [s["clocks"]["child_age_month"] for s in rearing] == [25, 24]


def test_english_with_a_fallback_to_chinese(mother, publish):
    publish(slug="zh-only", window=("pregnancy_week", 18, 22), en=False)
    publish(slug="both", window=("pregnancy_week", 18, 22))
    api, *_ = mother(lang="en")
    now = {i["slug"]: i for i in _feed(api)[0]["now"]}
    assert (now["both"]["title"], now["both"]["locale"]) == ("both title", "en")
    assert (now["zh-only"]["title"], now["zh-only"]["locale"]) == ("zh-only 标题", "zh_CN")

    content = _ok(api.get(f"lessons/{now['zh-only']['id']}/content"))
    assert content["locale"] == "zh_CN" and content["title"] == "zh-only 标题"


def test_her_language_setting_wins_over_accept_language(mother, publish):
    publish(slug="both", window=("pregnancy_week", 18, 22))
    api, *_ = mother(lang="zh-CN")
    _ok(api.patch("me", {"locale": "en"}))
    assert _feed(api)[0]["now"][0]["title"] == "both title"


def test_after_a_loss_pregnancy_lessons_stop_and_loss_lessons_appear(
    mother, lessons, make_citizen, travel
):
    api, _, phone, ids = mother(weeks=10)
    before = _feed(api)
    assert before[0]["stage"] == "pregnancy" and "p-early" in _slugs(before[0]["now"])
    assert not _all_slugs(before) & {"loss-support", "loss-partner"}

    _ok(
        api.post(
            f"pregnancies/{ids['pregnancy']}/end", {"kind": "miscarriage", "ended_on": iso(TODAY)}
        )
    )
    after = _feed(api)
    assert [s["stage"] for s in after] == ["birth", "rearing"]
    loss = after[0]
    assert loss["after_loss"] is True and loss["colour"] == "yellow"
    assert loss["subject"] == {"kind": "pregnancy", "id": ids["pregnancy"]}
    assert loss["clocks"] == {"loss_day": 0}
    assert set(_slugs(loss["now"])) == {"loss-support", "loss-partner"}
    assert not _all_slugs(after) & {f"p-{s}" for s in ("early", "now-a", "now-b", "next-1")}
    assert "pp-recovery" not in _all_slugs(after)
    assert _ok(api.get(f"lessons/{lessons['loss-support'].id}/content"))["slug"] == "loss-support"

    travel(api, phone, NOON + days(60))
    assert _slugs(_feed(api)[0]["now"]) == ["loss-partner"]
    travel(api, phone, NOON + days(100))
    assert [s["stage"] for s in _feed(api)] == ["rearing"]


def test_loss_lessons_never_reach_anyone_without_a_recorded_loss(mother, lessons, make_citizen):
    stranger = make_citizen()[0]
    pregnant, *_ = mother()
    new_mum, *_ = make_citizen()
    _ok(new_mum.post("me/children", {"sex": "female", "birth_date": iso(TODAY - days(5))}), 201)
    birth = _feed(new_mum)[0]
    assert birth["stage"] == "birth" and birth["after_loss"] is False
    assert "pp-recovery" in _slugs(birth["now"])
    for api in (stranger, pregnant, new_mum):
        assert not _all_slugs(_feed(api)) & {"loss-support", "loss-partner"}
        for slug in ("loss-support", "loss-partner"):
            lesson_id = lessons[slug].id
            assert api.get(f"lessons/{lesson_id}/content").status_code == 404
            assert api.post(f"lessons/{lesson_id}/reads", {}).status_code == 404


def test_marriage_lessons_follow_her_age_and_her_planned_pregnancy(make_citizen, publish):
    publish(slug="premarital", stage="marriage", window=("woman_age_years", 20, 45))
    publish(slug="folic", stage="marriage", window=("plan_months_before", 4, 0))
    publish(slug="check", stage="marriage", window=("plan_months_before", 6, 2))
    publish(slug="last-month", stage="marriage", window=("plan_months_before", 2, 0))
    api, *_ = make_citizen()
    _ok(api.patch("me", {"birth_date": "1998-01-01", "sex": "female"}))
    (marriage,) = _feed(api)
    assert marriage["stage"] == "marriage" and marriage["colour"] == "red"
    assert marriage["clocks"] == {"woman_age_years": 28}
    assert _slugs(marriage["now"]) == ["premarital"] and marriage["next"] == []

    _ok(api.put("me/care-dates", {"plan_date": iso(dt.date(2026, 9, 10))}))
    (marriage,) = _feed(api)
    assert marriage["clocks"] == {"woman_age_years": 28, "plan_months_before": 3}
    assert set(_slugs(marriage["now"])) == {"premarital", "folic", "check"}
    assert _slugs(marriage["next"]) == ["last-month"]


def test_the_feed_costs_the_same_queries_whatever_the_children_and_lessons(
    mother, publish, count_queries
):
    publish(slug="p-a", window=("pregnancy_week", 18, 22))
    publish(slug="r-a", stage="rearing", window=("child_age_month", 18, 30))
    small, *_ = mother(children=1)
    with count_queries() as few:
        assert _ok(small.get("me/feed"))["total"] == 2
    for i in range(6):
        publish(slug=f"p-more-{i}", window=("pregnancy_week", 18 + i, 30))
        publish(slug=f"r-more-{i}", stage="rearing", window=("child_age_month", 20, 30 + i))
    publish(slug="e-a", stage="education", window=("child_age_year", 3, 7))
    big, *_ = mother(children=3)
    _ok(big.post("me/children", {"sex": "female", "birth_date": iso(TODAY - days(5 * 365))}), 201)
    with count_queries() as many:
        body = _ok(big.get("me/feed"))
    assert body["total"] == 5
    assert len(many) == len(few), (few, many)
    # The token with her, her pregnancies and children (stages, birth dates and losses) in one,
    # and the lessons with their titles and her reads in one.
    assert len(many) == 3, many


def test_the_feed_written_directly_is_what_its_documented_schema_dumps(app, mother, lessons):
    from backend.auth.models import User
    from backend.db import Session
    from backend.education import feed
    from backend.education.schemas import FeedPageSchema

    api, user_id, *_ = mother(lang="en")
    _ok(api.post(f"lessons/{lessons['p-now-a'].id}/reads", {"completed": True}), 201)
    _ok(api.post(f"lessons/{lessons['r-past'].id}/reads", {}), 201)
    body = _ok(api.get("me/feed"))
    assert any(s["read"] for s in body["items"])
    with app.app_context():
        person = Session().get(User, uuid.UUID(user_id))
        sections, total = feed.feed(
            Session(), person=person, today=TODAY, locale="en", page=1, page_size=20
        )
    dumped = FeedPageSchema().dump({"items": sections, "page": 1, "page_size": 20, "total": total})
    assert dumped == body


# --- the clocks, as pure functions --------------------------------------------------------------


def test_months_of_age_are_completed_months():
    born = dt.date(2026, 1, 31)
    assert age_in_months(born, dt.date(2026, 2, 27)) == 0
    assert age_in_months(born, dt.date(2026, 2, 28)) == 1  # 31 Jan + 1 month = 28 Feb
    assert age_in_months(born, dt.date(2028, 1, 30)) == 23
    assert age_in_months(born, dt.date(2028, 1, 31)) == 24
    assert add_months(dt.date(2024, 1, 31), 1) == dt.date(2024, 2, 29)


def test_months_before_a_plan_count_up_and_stop_at_zero():
    today = dt.date(2026, 6, 15)
    assert months_before(today, dt.date(2026, 6, 15)) == 0
    assert months_before(today, dt.date(2026, 6, 16)) == 1
    assert months_before(today, dt.date(2026, 7, 15)) == 1
    assert months_before(today, dt.date(2026, 7, 16)) == 2
    assert months_before(today, dt.date(2026, 1, 1)) == 0


@pytest.mark.parametrize(
    ("clock", "window", "value", "expected"),
    [
        ("pregnancy_week", (12, 17), 11, "next"),
        ("pregnancy_week", (12, 17), 12, "now"),
        ("pregnancy_week", (12, 17), 16, "now"),
        ("pregnancy_week", (12, 17), 17, None),
        ("plan_months_before", (4, 0), 5, "next"),
        ("plan_months_before", (4, 0), 4, "now"),
        ("plan_months_before", (4, 0), 1, "now"),
        ("plan_months_before", (4, 0), 0, None),
    ],
)
def test_a_window_is_half_open_on_its_clock(clock, window, value, expected):
    assert placement(clock, *window, value) == expected
