"""Fixtures of the education tests: noon in Shanghai, educators, an admin, lessons, mothers."""

from __future__ import annotations

import copy
import datetime as dt

import pytest

from backend.auth.models import Role
from backend.education import service
from tests.conftest import PASSWORD


def days(n: int) -> dt.timedelta:
    return dt.timedelta(days=n)


def iso(day: dt.date) -> str:
    return day.isoformat()


def lesson_body(
    slug: str = "eating-well-test",
    stage: str = "pregnancy",
    window: tuple[str, int, int] = ("pregnancy_week", 12, 17),
    topics: list[str] | None = None,
    en: bool = True,
    quiz: bool = False,
    body: str = "## 吃什么\n\n- 多吃蔬菜\n\n[国家卫健委](https://www.nhc.gov.cn)",
) -> dict:
    """A valid POST /lessons body."""
    clock, start, end = window
    variants = {
        "zh_CN": {"title": f"{slug} 标题", "summary": "摘要", "body": body},
    }
    if en:
        variants["en"] = {"title": f"{slug} title", "summary": "Summary", "body": "## Eat\n"}
    if quiz:
        variants["zh_CN"]["quiz"] = [{"question": "几毫克？", "options": ["0.4", "4"], "answer": 0}]
        if en:
            variants["en"]["quiz"] = [
                {"question": "How much?", "options": ["0.4", "4"], "answer": 0}
            ]
    return {
        "slug": slug,
        "stage": stage,
        "window": {"clock": clock, "from": start, "to": end},
        "topics": topics or ["nutrition"],
        "audience": ["mother", "partner"],
        "reading_minutes": 3,
        "sources": [{"title": "孕期保健指南（2018）", "ref": "clinical-schedules.md C13"}],
        "variants": variants,
    }


@pytest.fixture(autouse=True)
def _noon(at_noon):
    return at_noon


@pytest.fixture
def educator(make_staff):
    """An educator: (Api, User)."""
    return make_staff(Role.EDUCATOR, name="王老师")


@pytest.fixture
def reviewer(make_staff):
    """A second educator, who reviews the first one's drafts."""
    return make_staff(Role.EDUCATOR, name="李老师")


@pytest.fixture
def admin(make_staff):
    return make_staff(Role.ADMIN, name="管理员")


@pytest.fixture
def publish(db, make_staff):
    """Create and publish a lesson through the services (author and approver are staff)."""
    _, author = make_staff(Role.EDUCATOR, name="作者")
    _, approver = make_staff(Role.ADMIN, name="审核")

    def make(**kwargs):
        body = copy.deepcopy(lesson_body(**kwargs))
        lesson = service.create_lesson(
            db, actor=author, slug=body.pop("slug"), stage=body.pop("stage"), data=body
        )
        service.submit(db, lesson=lesson, actor=author)
        service.approve(db, lesson=lesson, actor=approver)
        db.commit()
        return lesson

    return make


@pytest.fixture
def travel(frozen_clock):
    """Move the clock to an instant and log a citizen in again (tokens expire after a week)."""

    def move(api, phone: str, instant: dt.datetime) -> None:
        frozen_clock(instant)
        r = api.post("auth/token", {"phone": phone, "password": PASSWORD})
        assert r.status_code == 200, r.json
        api.token = r.json["access_token"]

    return move
