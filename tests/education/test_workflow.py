"""The editorial workflow: who may do what, no self-approval, published versions immutable."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from backend.auth.models import Role
from backend.education import signals
from backend.education.models import (
    LessonVariant,
    LessonVersion,
    PublishedVersionImmutable,
)
from tests.education.conftest import lesson_body


def _create(api, **kwargs) -> dict:
    r = api.post("lessons", lesson_body(**kwargs))
    assert r.status_code == 201, r.json
    return r.json


def _ok(r, status: int = 200) -> dict:
    assert r.status_code == status, r.json
    return r.json


def _history(api, lesson_id: str) -> list[tuple[int, str]]:
    body = _ok(api.get(f"lessons/{lesson_id}/versions"))
    return [(v["number"], v["status"]) for v in body["items"]]


def test_a_draft_is_submitted_and_approved_by_another_educator(educator, reviewer, citizen):
    author_api, author = educator
    lesson = _create(author_api)
    assert lesson["status"] == "draft" and lesson["published_version"] is None
    assert lesson["current_version"]["number"] == 1
    assert lesson["current_version"]["status"] == "draft"
    assert lesson["current_version"]["author_id"] == str(author.id)
    assert citizen.get(f"lessons/{lesson['id']}/content").status_code == 404

    submitted = _ok(author_api.post(f"lessons/{lesson['id']}/submit"))
    assert submitted["status"] == "in_review"
    assert submitted["current_version"]["submitted_at"] is not None

    approved = _ok(reviewer[0].post(f"lessons/{lesson['id']}/approve"))
    assert approved["status"] == "published" and approved["published_version"] == 1
    version = approved["current_version"]
    assert version["status"] == "published" and version["reviewed_by"] == str(reviewer[1].id)
    assert version["published_at"] is not None

    content = _ok(citizen.get(f"lessons/{lesson['id']}/content"))
    assert content["title"] == "eating-well-test 标题" and content["version"] == 1


def test_nobody_approves_or_returns_their_own_draft(educator, reviewer, admin):
    author_api, _ = educator
    lesson = _create(author_api)
    _ok(author_api.post(f"lessons/{lesson['id']}/submit"))
    for path, body in (("approve", None), ("return", {"comments": "好"})):
        r = author_api.post(f"lessons/{lesson['id']}/{path}", body)
        assert r.status_code == 403, r.json
        assert r.content_type == "application/problem+json" and r.json["detail"]
    assert author_api.get(f"lessons/{lesson['id']}").json["status"] == "in_review"

    # An administrator may approve another's draft, but not her own.
    admin_api, _ = admin
    own = _create(admin_api, slug="admins-own")
    _ok(admin_api.post(f"lessons/{own['id']}/submit"))
    assert admin_api.post(f"lessons/{own['id']}/approve").status_code == 403
    assert _ok(reviewer[0].post(f"lessons/{own['id']}/approve"))["status"] == "published"
    assert _ok(admin_api.post(f"lessons/{lesson['id']}/approve"))["status"] == "published"


def test_self_approval_refusal_is_explained(educator):
    author_api, _ = educator
    author_api.lang = "en"
    lesson = _create(author_api)
    _ok(author_api.post(f"lessons/{lesson['id']}/submit"))
    r = author_api.post(f"lessons/{lesson['id']}/approve")
    assert r.status_code == 403
    assert "own draft" in r.json["detail"]


@pytest.mark.parametrize("role", [Role.CITIZEN, Role.DOCTOR])
def test_citizens_and_doctors_may_not_edit_or_review(role, make_staff, make_citizen, educator):
    lesson = _create(educator[0])
    api = make_citizen()[0] if role == Role.CITIZEN else make_staff(Role.DOCTOR)[0]
    assert api.get("lessons").status_code == 403
    assert api.post("lessons", lesson_body(slug="mine")).status_code == 403
    for path in ("", "/versions", "/reach"):
        assert api.get(f"lessons/{lesson['id']}{path}").status_code == 403
    for path in ("submit", "approve", "retire"):
        assert api.post(f"lessons/{lesson['id']}/{path}").status_code == 403
    assert api.get("education/reach").status_code == 403


def test_only_the_author_edits_or_submits_a_draft(educator, reviewer):
    lesson = _create(educator[0])
    other = reviewer[0]
    assert other.patch(f"lessons/{lesson['id']}", {"reading_minutes": 5}).status_code == 403
    assert other.post(f"lessons/{lesson['id']}/submit").status_code == 403
    edited = _ok(educator[0].patch(f"lessons/{lesson['id']}", {"reading_minutes": 5}))
    assert edited["current_version"]["number"] == 1
    assert edited["current_version"]["reading_minutes"] == 5


def test_a_version_in_review_cannot_be_edited_or_submitted_again(educator):
    api = educator[0]
    lesson = _create(api)
    _ok(api.post(f"lessons/{lesson['id']}/submit"))
    assert api.patch(f"lessons/{lesson['id']}", {"reading_minutes": 5}).status_code == 409
    assert api.post(f"lessons/{lesson['id']}/submit").status_code == 409


def test_a_returned_version_keeps_its_comments_and_the_revision_is_a_new_version(
    educator, reviewer
):
    api = educator[0]
    lesson = _create(api)
    _ok(api.post(f"lessons/{lesson['id']}/submit"))
    r = reviewer[0].post(f"lessons/{lesson['id']}/return", {"comments": ""})
    assert r.status_code == 422 and "comments" in r.json["errors"]
    returned = _ok(reviewer[0].post(f"lessons/{lesson['id']}/return", {"comments": "补充来源"}))
    assert returned["status"] == "draft"
    assert returned["current_version"]["status"] == "returned"
    assert returned["current_version"]["review_comments"] == "补充来源"
    # a returned version can be neither approved nor submitted as it stands
    assert reviewer[0].post(f"lessons/{lesson['id']}/approve").status_code == 409
    assert api.post(f"lessons/{lesson['id']}/submit").status_code == 409

    revised = _ok(
        api.patch(
            f"lessons/{lesson['id']}",
            {"sources": [{"title": "孕前和孕期保健指南（2018）", "ref": "C13"}]},
        )
    )
    assert revised["current_version"]["number"] == 2
    assert revised["current_version"]["status"] == "draft"
    assert _history(api, lesson["id"]) == [(2, "draft"), (1, "returned")]
    versions = _ok(api.get(f"lessons/{lesson['id']}/versions"))["items"]
    assert versions[1]["review_comments"] == "补充来源"


def test_editing_a_published_lesson_makes_a_new_draft_and_readers_keep_the_published(
    educator, reviewer, citizen
):
    api = educator[0]
    lesson = _create(api)
    _ok(api.post(f"lessons/{lesson['id']}/submit"))
    _ok(reviewer[0].post(f"lessons/{lesson['id']}/approve"))

    draft = _ok(api.patch(f"lessons/{lesson['id']}", {"variants": {"zh_CN": {"title": "新标题"}}}))
    assert draft["status"] == "published" and draft["published_version"] == 1
    assert draft["current_version"]["number"] == 2
    assert draft["current_version"]["status"] == "draft"
    variants = {v["locale"]: v for v in draft["current_version"]["variants"]}
    assert variants["zh_CN"]["title"] == "新标题" and variants["en"]["title"]
    assert citizen.get(f"lessons/{lesson['id']}/content").json["title"] == "eating-well-test 标题"

    # the same content again makes no version
    same = _ok(api.patch(f"lessons/{lesson['id']}", {"variants": {"zh_CN": {"title": "新标题"}}}))
    assert same["current_version"]["number"] == 2

    _ok(api.post(f"lessons/{lesson['id']}/submit"))
    _ok(reviewer[0].post(f"lessons/{lesson['id']}/approve"))
    content = citizen.get(f"lessons/{lesson['id']}/content").json
    assert (content["title"], content["version"]) == ("新标题", 2)
    assert _history(api, lesson["id"]) == [(2, "published"), (1, "superseded")]
    v1 = _ok(api.get(f"lessons/{lesson['id']}/versions"))["items"][1]
    assert v1["published_at"] is not None


def test_a_published_version_cannot_be_changed_even_by_code(db, publish):
    lesson = publish()
    version = db.scalars(select(LessonVersion).where(LessonVersion.lesson_id == lesson.id)).one()
    variant = db.scalars(
        select(LessonVariant).where(LessonVariant.version_id == version.id)
    ).first()
    variant.title = "偷偷改"
    with pytest.raises(PublishedVersionImmutable):
        db.flush()
    db.rollback()
    version = db.scalars(select(LessonVersion).where(LessonVersion.lesson_id == lesson.id)).one()
    version.window_from = 1
    with pytest.raises(PublishedVersionImmutable):
        db.flush()
    db.rollback()
    version = db.scalars(select(LessonVersion).where(LessonVersion.lesson_id == lesson.id)).one()
    db.delete(version.variants[0])
    with pytest.raises(PublishedVersionImmutable):
        db.flush()
    db.rollback()


def test_retiring_hides_a_lesson_and_a_new_version_brings_it_back(educator, reviewer, citizen):
    api = educator[0]
    lesson = _create(api)
    assert api.post(f"lessons/{lesson['id']}/retire").status_code == 409  # a draft
    _ok(api.post(f"lessons/{lesson['id']}/submit"))
    _ok(reviewer[0].post(f"lessons/{lesson['id']}/approve"))
    retired = _ok(api.post(f"lessons/{lesson['id']}/retire"))
    assert retired["status"] == "retired" and retired["published_version"] is None
    assert citizen.get(f"lessons/{lesson['id']}/content").status_code == 404
    assert api.post(f"lessons/{lesson['id']}/retire").status_code == 409
    assert _history(api, lesson["id"]) == [(1, "retired")]

    _ok(api.patch(f"lessons/{lesson['id']}", {"reading_minutes": 4}))
    _ok(api.post(f"lessons/{lesson['id']}/submit"))
    back = _ok(reviewer[0].post(f"lessons/{lesson['id']}/approve"))
    assert back["status"] == "published" and back["published_version"] == 2
    assert citizen.get(f"lessons/{lesson['id']}/content").json["reading_minutes"] == 4


def test_publishing_announces_the_version(educator, reviewer):
    seen = []

    def receiver(sender, *, session, lesson, version, **_):
        seen.append((str(lesson.id), version.number, version.status))

    signals.lesson_published.connect(receiver)
    try:
        api = educator[0]
        lesson = _create(api)
        _ok(api.post(f"lessons/{lesson['id']}/submit"))
        assert seen == []
        _ok(reviewer[0].post(f"lessons/{lesson['id']}/approve"))
    finally:
        signals.lesson_published.disconnect(receiver)
    assert seen == [(lesson["id"], 1, "published")]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"window": ("child_age_month", 6, 10)}, ("window", "clock")),
        ({"window": ("pregnancy_week", 20, 12)}, ("window", "to")),
        ({"window": ("pregnancy_week", 12, 99)}, ("window", "to")),
        ({"topics": ["pregnancy-loss"]}, ("topics",)),
        ({"stage": "birth", "window": ("loss_day", 0, 43)}, ("topics",)),
        ({"slug": "Not A Slug"}, ("slug",)),
        ({"stage": "teens"}, ("stage",)),
    ],
)
def test_invalid_content_names_the_field(educator, change, field):
    r = educator[0].post("lessons", lesson_body(**change))
    assert r.status_code == 422, r.json
    errors = r.json["errors"]
    for key in field:
        assert key in errors, errors
        errors = errors[key]


def test_zh_cn_is_required_and_quizzes_agree_across_languages(educator):
    body = lesson_body(quiz=True)
    del body["variants"]["zh_CN"]
    r = educator[0].post("lessons", body)
    assert r.status_code == 422 and "variants" in r.json["errors"]
    body = lesson_body(quiz=True)
    body["variants"]["en"]["quiz"][0]["answer"] = 1
    r = educator[0].post("lessons", body)
    assert r.status_code == 422
    assert "quiz" in r.json["errors"]["variants"]["en"]
    lesson = _create(educator[0], quiz=True)
    r = educator[0].patch(f"lessons/{lesson['id']}", {"variants": {"zh_CN": None}})
    assert r.status_code == 422


def test_a_slug_is_unique(educator, reviewer):
    _create(educator[0])
    r = reviewer[0].post("lessons", lesson_body())
    assert r.status_code == 409


def test_a_stale_if_match_answers_412(educator):
    api = educator[0]
    lesson = _create(api)
    etag = api.get(f"lessons/{lesson['id']}").headers["ETag"]
    _ok(api.patch(f"lessons/{lesson['id']}", {"reading_minutes": 5}, headers={"If-Match": etag}))
    r = api.patch(f"lessons/{lesson['id']}", {"reading_minutes": 6}, headers={"If-Match": etag})
    assert r.status_code == 412


def test_the_list_filters_by_stage_status_and_text(educator, reviewer):
    api = educator[0]
    a = _create(api, slug="eating-well-test")
    _create(api, slug="safe-sleep-test", stage="rearing", window=("child_age_month", 0, 12))
    _ok(api.post(f"lessons/{a['id']}/submit"))

    def slugs(query: str) -> list[str]:
        return [item["slug"] for item in _ok(reviewer[0].get(f"lessons?{query}"))["items"]]

    assert set(slugs("page_size=100")) >= {"eating-well-test", "safe-sleep-test"}
    assert slugs("stage=rearing") == ["safe-sleep-test"]
    assert slugs("version_status=in_review") == ["eating-well-test"]
    assert slugs("status=in_review") == ["eating-well-test"]
    assert slugs("q=sleep") == ["safe-sleep-test"]
    assert slugs("q=safe-sleep-test%20标题") == ["safe-sleep-test"]
    assert slugs("q=%25") == []
    page = _ok(reviewer[0].get("lessons?page_size=1"))
    assert page["total"] >= 2 and len(page["items"]) == 1
    item = page["items"][0]
    assert item["colour"] and item["current_version"]["number"] == 1
