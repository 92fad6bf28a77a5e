"""`make run`'s demo: the lessons are published, and its citizen has a feed in zh_CN and en."""

from sqlalchemy import func, select

from backend.demo import PASSWORD, seed
from backend.education.models import Lesson, LessonStatus, LessonVersion
from tests.conftest import Api


def test_the_demo_citizen_has_a_feed_in_two_languages(app, db, client):
    with app.app_context():  # as under `flask seed-demo`
        users = seed(db, app.config)
        db.commit()
        seed(db, app.config)  # idempotent: the lessons are unchanged the second time
        db.commit()
    lessons = db.scalar(select(func.count()).select_from(Lesson))
    assert lessons >= 30
    assert db.scalar(select(func.count()).select_from(LessonVersion)) == lessons
    assert set(db.scalars(select(Lesson.status))) == {LessonStatus.PUBLISHED}
    version = db.scalars(select(LessonVersion)).first()
    assert (version.author_id, version.reviewed_by) == (users["educator"].id, users["admin"].id)

    titles = {}
    for lang in ("zh-CN", "en"):
        api = Api(client, lang=lang)
        r = api.post("auth/token", {"phone": "13800000004", "password": PASSWORD})
        api.token = r.json["access_token"]
        feed = api.get("me/feed").json
        sections = {s["stage"]: s for s in feed["items"]}
        assert {"pregnancy", "rearing"} <= set(sections)
        assert sections["pregnancy"]["colour"] == "orange"
        assert sections["pregnancy"]["clocks"] == {"pregnancy_week": 20}
        assert sections["rearing"]["colour"] == "green"
        assert sections["pregnancy"]["now"] and sections["rearing"]["now"]
        slugs = {i["slug"] for s in feed["items"] for i in s["now"] + s["next"]}
        assert "danger-signs" in slugs and "after-pregnancy-loss" not in slugs
        titles[lang] = {i["slug"]: i["title"] for i in sections["pregnancy"]["now"]}
        assert all(i["locale"] == lang.replace("-", "_") for i in sections["pregnancy"]["now"])
    assert titles["zh-CN"]["danger-signs"] != titles["en"]["danger-signs"]
