"""Lesson news: those who asked are reminded of a new lesson that fits them now."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import select

from backend.reminders import planning, rules
from backend.reminders.models import Reminder
from tests.conftest import NOON, TODAY
from tests.education.conftest import days, iso


def test_new_lesson_reminds_only_those_who_asked_and_fit(make_citizen, publish, db, app):
    wants, wants_id, _ = make_citizen()
    other, other_id, _ = make_citizen()
    for api in (wants, other):
        api.post("me/pregnancies", {"lmp": iso(TODAY - days(14 * 7))})  # 14+0
    assert wants.put("me/reminder-preferences", {"opted_out": []}).status_code == 200
    late, late_id, _ = make_citizen()
    late.post("me/pregnancies", {"lmp": iso(TODAY - days(30 * 7))})
    late.put("me/reminder-preferences", {"opted_out": []})
    lesson = publish(window=("pregnancy_week", 12, 17))
    since = NOON - dt.timedelta(days=1)
    with app.app_context():
        report = planning.plan_lessons(
            db, rules=rules.load(), default_tz="Asia/Shanghai", since=since
        )
        again = planning.plan_lessons(
            db, rules=rules.load(), default_tz="Asia/Shanghai", since=since
        )
    assert report.added == 1 and again.added == 0
    [reminder] = db.scalars(select(Reminder).where(Reminder.source_type == "lesson")).all()
    assert reminder.recipient_id == uuid.UUID(wants_id) and reminder.source_id == lesson.id
    # She did not ask (other), or the lesson's weeks 12-17 are behind her at 30 weeks (late).
    for user_id in (other_id, late_id):
        assert not db.scalars(
            select(Reminder).where(
                Reminder.source_type == "lesson", Reminder.recipient_id == uuid.UUID(user_id)
            )
        ).all()
