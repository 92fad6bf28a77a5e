"""Rendering a reminder in her locale, now (not when it was planned), per (kind, locale).

Two renderers that must agree: `render_all` in Python (SQLite, and every reminder that may go
through the gateway), and the tables `sql_templates` and `step_names` that let PostgreSQL
render the inbox messages itself with format() and to_char() (backend/reminders/inbox_sql.py).
tests/reminders/test_set_based.py asserts that both give the same text for every kind and
both locales.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import uuid
from collections import defaultdict
from typing import Any

from babel.dates import format_date
from flask_babel import force_locale
from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.care.protocols import ProtocolSet
from backend.education.models import LessonVariant, LessonVersion
from backend.i18n import SUPPORTED_LOCALES, _
from backend.reminders import channels
from backend.reminders.claims import Item
from backend.reminders.models import ReminderKind

# The placeholders of the step templates, in the order PostgreSQL's format() receives them.
STEP_FIELDS = ("name", "opens", "due", "closes")
# Babel's "long" date in each locale as a to_char() pattern: zh_CN "y年M月d日" (2026年3月5日),
# en "MMMM d, y" (March 5, 2026). FM drops the padding of the element after it.
SQL_DATE_FORMATS = {"zh_CN": 'YYYY"年"FMMM"月"FMDD"日"', "en": "FMMonth FMDD, YYYY"}
# The kinds PostgreSQL renders: those whose values come from the step alone (or none).
SQL_KINDS = (
    ReminderKind.STEP_BEFORE,
    ReminderKind.STEP_DUE,
    ReminderKind.STEP_NUDGE,
    ReminderKind.REGIMEN_DAILY,
)


def babel_locale(locale: str) -> str:
    return "zh_Hans_CN" if locale == "zh_CN" else locale


@functools.cache
def date_text(value: dt.date, locale: str) -> str:
    return format_date(value, format="long", locale=babel_locale(locale))


@functools.cache
def templates(kind: str, locale: str) -> tuple[str, str]:
    """The title and body of a kind in a locale, translated once per process (needs an app
    context the first time)."""
    with force_locale(babel_locale(locale)):
        return {
            ReminderKind.STEP_BEFORE: (
                _("Coming up: %(name)s"),
                _("%(name)s opens on %(opens)s. Book it with your health centre."),
            ),
            ReminderKind.STEP_DUE: (
                _("Due now: %(name)s"),
                _("Now is the time for %(name)s, by %(due)s."),
            ),
            ReminderKind.STEP_NUDGE: (
                _("Still to do: %(name)s"),
                _("%(name)s was due on %(due)s. You can still do it until %(closes)s."),
            ),
            ReminderKind.STEP_ESCALATION: (
                _("Long overdue: %(name)s"),
                _("%(name)s was due on %(due)s and is still not done."),
            ),
            ReminderKind.LESSON_NEW: (
                _("New for you: %(title)s"),
                _("A new lesson for your stage is ready to read."),
            ),
            ReminderKind.REGIMEN_DAILY: (
                _("Folic acid today"),
                _("Time for your folic acid. Tick it off once you have taken it."),
            ),
        }[ReminderKind(kind)]


_PERCENT = re.compile(r"%%|%\((\w+)\)s|%")


def sql_format(template: str) -> str | None:
    """A Python `%(name)s` template as a format() string with positional arguments in
    STEP_FIELDS order (`%1$s`…), or None if it names anything else (rendered in Python)."""
    unknown = False

    def swap(match: re.Match[str]) -> str:
        nonlocal unknown
        if match.group(0) == "%%" or match.group(0) == "%":
            return "%%"
        if match.group(1) not in STEP_FIELDS:
            unknown = True
            return ""
        return f"%{STEP_FIELDS.index(match.group(1)) + 1}$s"

    converted = _PERCENT.sub(swap, template)
    return None if unknown else converted


@functools.cache
def sql_templates() -> tuple[tuple[str, ...], ...]:
    """(kind, locale, title format, body format, to_char date pattern) for what SQL renders."""
    rows = []
    for kind in SQL_KINDS:
        for locale in SUPPORTED_LOCALES:
            title, body = (sql_format(t) for t in templates(kind, locale))
            if title is not None and body is not None and locale in SQL_DATE_FORMATS:
                rows.append((str(kind), locale, title, body, SQL_DATE_FORMATS[locale]))
    return tuple(rows)


_names: dict[int, tuple[ProtocolSet, tuple[tuple[Any, ...], ...]]] = {}


def step_names(protocols: ProtocolSet) -> tuple[tuple[Any, ...], ...]:
    """(code, from, until, locale, name): a step's name in each locale for the protocol version
    in force on its opening day, as `protocols.item(code, on=opens_on)` picks it, over
    [from, until). Built once per protocol set."""
    cached = _names.get(id(protocols))
    if cached is not None and cached[0] is protocols:
        return cached[1]
    rows = []
    for code in protocols.codes():
        starts = sorted(
            {dt.date.min}
            | {
                v.effective_from
                for versions in protocols.programmes.values()
                for v in versions
                if code in v.items
            }
        )
        for start, until in zip(starts, [*starts[1:], dt.date.max], strict=True):
            if start == until:
                continue
            title = protocols.item(code, on=start).title
            for locale in SUPPORTED_LOCALES:
                rows.append(
                    (code, start, until, locale, title.get(locale) or title.get("zh_CN") or code)
                )
    _names[id(protocols)] = (protocols, tuple(rows))
    return tuple(rows)


def _lesson_titles(session: Session, items: list[Item]) -> dict[uuid.UUID, dict[str, str]]:
    """Published titles per lesson and locale for the batch's lesson reminders: one query."""
    ids = {uuid.UUID(i.params["lesson_id"]) for i in items if "lesson_id" in i.params}
    if not ids:
        return {}
    titles: dict[uuid.UUID, dict[str, str]] = defaultdict(dict)
    for lesson_id, locale, title in session.execute(
        select(LessonVersion.lesson_id, LessonVariant.locale, LessonVariant.title)
        .join(LessonVersion, LessonVersion.id == LessonVariant.version_id)
        .where(LessonVersion.lesson_id.in_(ids), LessonVersion.status == "published")
    ):
        titles[lesson_id][locale] = title
    return titles


def render_all(session: Session, items: list[Item], protocols: ProtocolSet) -> None:
    """Set each item's message, in her locale, rendered now (not when it was planned)."""
    lessons = _lesson_titles(session, items)
    names: dict[tuple[str, dt.date, str], str] = {}
    for item in items:
        title, body = templates(item.kind, item.locale)
        data = dict(item.params)
        values: dict[str, str] = {}
        if item.step is not None:
            step_id, _state, code, opens_on, due_on, closes_on, subject_kind, subject_id = item.step
            name_key = (code, opens_on, item.locale)
            if name_key not in names:
                title_of = protocols.item(code, on=opens_on).title
                names[name_key] = title_of.get(item.locale) or title_of.get("zh_CN") or code
            values = {
                "name": names[name_key],
                "opens": date_text(opens_on, item.locale),
                "due": date_text(due_on, item.locale),
                "closes": date_text(closes_on, item.locale),
            }
            data |= {
                "step_id": str(step_id),
                "subject_kind": subject_kind,
                "subject_id": str(subject_id),
            }
        elif item.kind == ReminderKind.LESSON_NEW:
            if "lesson_id" in data:
                found = lessons.get(uuid.UUID(data["lesson_id"]), {})
                lesson = found.get(item.locale) or found.get("zh_CN") or data.get("slug", "")
            else:
                lesson = data.get("title", "")
            values = {"title": str(lesson)}
        item.message = channels.Message(
            str(item.id), item.kind, title % values, body % values, item.locale, data
        )
