"""The set-based inbox batch (PostgreSQL renders and checks in SQL) says exactly what the Python
renderer says: for every reminder kind and both locales, title, body, data and locale."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from sqlalchemy import select, text, update

from backend.i18n import SUPPORTED_LOCALES
from backend.reminders.claims import read_held
from backend.reminders.models import Notification, Reminder, ReminderKind, ReminderStatus
from backend.reminders.rendering import (
    SQL_DATE_FORMATS,
    STEP_FIELDS,
    date_text,
    render_all,
    sql_format,
    sql_templates,
    templates,
)
from tests.conftest import NOON, TODAY

# Every month, one- and two-digit days, a leap day, the ends of a year.
DATES = [dt.date(2026, m, d) for m in range(1, 13) for d in (1, 9, 28)] + [
    dt.date(2028, 2, 29),
    dt.date(2025, 12, 31),
]


def test_sql_formats_match_python_templates_for_every_kind_and_locale(app, db):
    """format() of the converted template with to_char() dates gives Python's `template %
    values` with Babel's long date, for every kind SQL renders, in zh_CN and en."""
    if db.get_bind().dialect.name != "postgresql":
        pytest.skip("SQL rendering runs on PostgreSQL; SQLite renders in Python")
    with app.app_context():
        rows = sql_templates()
    assert {(r[0], r[1]) for r in rows} == {
        (k, loc)
        for k in ("step_before", "step_due", "step_nudge", "regimen_daily")
        for loc in SUPPORTED_LOCALES
    }
    name = "孕早期超声 / early ultrasound: 100% (a) %s"
    for kind, locale, title_format, body_format, date_format in rows:
        for first, second in zip(DATES, DATES[1:] + DATES[:1], strict=True):
            values = {"name": name, "opens": first, "due": second, "closes": first}
            python = [
                template
                % {k: v if k == "name" else date_text(v, locale) for k, v in values.items()}
                for template in templates(kind, locale)
            ]
            sql = db.execute(
                text(
                    "SELECT format(CAST(:t AS text), CAST(:n AS text), to_char(CAST(:o AS date),"
                    " CAST(:f AS text)), to_char(CAST(:d AS date), CAST(:f AS text)),"
                    " to_char(CAST(:c AS date), CAST(:f AS text))),"
                    " format(CAST(:b AS text), CAST(:n AS text), to_char(CAST(:o AS date),"
                    " CAST(:f AS text)), to_char(CAST(:d AS date), CAST(:f AS text)),"
                    " to_char(CAST(:c AS date), CAST(:f AS text)))"
                ),
                {
                    "t": title_format,
                    "b": body_format,
                    "n": name,
                    "o": first,
                    "d": second,
                    "c": first,
                    "f": date_format,
                },
            ).one()
            assert list(sql) == python, (kind, locale, first)


def test_templates_naming_other_values_are_left_to_python():
    assert sql_format("%(name)s by %(due)s, 100%%") == "%1$s by %3$s, 100%%"
    assert sql_format("New for you: %(title)s") is None
    assert set(SQL_DATE_FORMATS) == set(SUPPORTED_LOCALES)
    assert STEP_FIELDS == ("name", "opens", "due", "closes")


def test_every_inbox_message_equals_the_python_rendering(app, make_citizen, db, dispatch):
    """Two women, one reading Chinese and one English, each pregnant (step reminders of every
    kind, and folic acid daily): every due reminder dispatched, then every inbox row compared
    with what the Python renderer makes of the same reminder now."""
    users = []
    for lang in ("zh-CN", "en"):
        api, user_id, _ = make_citizen(lang=lang)
        if lang == "en":
            assert api.patch("me", {"locale": "en"}).status_code == 200
        r = api.post("me/pregnancies", {"lmp": (TODAY - dt.timedelta(weeks=6)).isoformat()})
        assert r.status_code == 201
        users.append(uuid.UUID(user_id))
    db.execute(
        update(Reminder)
        .where(Reminder.status == ReminderStatus.PENDING)
        .values(next_attempt_at=NOON - dt.timedelta(minutes=1))
    )
    db.commit()
    while dispatch():
        pass
    assert not db.scalars(
        select(Reminder.id).where(Reminder.status.in_(["pending", "claimed"]))
    ).all()
    shown = db.scalars(select(Notification).where(Notification.user_id.in_(users))).all()
    kinds = {(n.kind, n.locale) for n in shown}
    for kind in ("step_before", "step_due", "step_nudge", "regimen_daily"):
        for locale in SUPPORTED_LOCALES:
            assert (kind, locale) in kinds, (kind, locale)
    protocols = app.extensions["care.protocols"]
    with app.app_context():
        items = read_held(db, [n.reminder_id for n in shown], default_locale="zh_CN")
        render_all(db, items, protocols)
    by_id = {i.id: i.message for i in items}
    assert len(by_id) == len(shown)
    for n in shown:
        message = by_id[n.reminder_id]
        assert message is not None
        assert (n.kind, n.locale, n.title, n.body, n.data) == (
            message.kind,
            message.locale,
            message.title[:200],
            message.body[:1000],
            dict(message.data),
        ), n.kind
    escalated = db.scalars(
        select(Reminder.channel).where(
            Reminder.recipient_id.in_(users), Reminder.kind == ReminderKind.STEP_ESCALATION
        )
    ).all()
    assert set(escalated) <= {"worklist", None}
