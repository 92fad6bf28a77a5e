"""Calendar feeds: issue, rotate and revoke the secret URL; render her pending steps as ICS.

The file holds one all-day event per pending step (upcoming, due or overdue) of the woman, her
pregnancies and the children she is guardian of:

- DTSTART is the day the window opens and DTEND the day after the due date (all-day ends are
  exclusive), so the event covers the days she should go; the late end of the window
  (`closes_on`, up to weeks later) is said in the description rather than stretching the event
  into a bar that hides the target date.
- one alarm at 09:00 (her wall clock: all-day dates are floating) on the day before the window
  opens. Phones often strip alarms from subscribed calendars; the reminders domain is the one
  that must reach her, this is a courtesy.
- UID is "<step id>@mch": stable across rotations and window moves, so a phone updates the
  event it holds instead of adding a twin; DTSTAMP and LAST-MODIFIED are the step's
  `updated_at`, so the same schedule renders to the same bytes (a stable ETag).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping, Sequence

from babel.dates import format_date
from icalendar import Alarm, Calendar, Event
from sqlalchemy import and_, delete, or_, select
from sqlalchemy.orm import Session

from backend import clock
from backend.auth.models import User
from backend.auth.security import new_token, token_digest
from backend.calendars.models import CalendarFeed
from backend.care import engine
from backend.care import service as care_service
from backend.care.models import CareStep, SubjectKind
from backend.care.protocols import ProtocolSet
from backend.db import utcnow
from backend.errors import NotFound
from backend.handbook.models import Child
from backend.i18n import _, _l

PRODID = "-//Wenzhou MCH//Mother and child health handbook//ZH"
UID_DOMAIN = "mch"
# An all-day event starts at 00:00 local: 15 hours earlier is 09:00 on the day before.
ALARM_TRIGGER = dt.timedelta(hours=-15)
# How often subscribed calendars should poll (RFC 7986 and Apple's / Outlook's extension).
REFRESH_INTERVAL = dt.timedelta(hours=6)
PUBLISHED_TTL = "PT6H"
PENDING = (engine.UPCOMING, engine.DUE, engine.OVERDUE)


# --- the secret URL -----------------------------------------------------------------------------


def issue(session: Session, *, user: User) -> tuple[CalendarFeed, str]:
    """Create her feed or rotate its secret (the previous one stops working at once)."""
    secret = new_token()
    now = utcnow()
    feed = session.scalars(select(CalendarFeed).where(CalendarFeed.user_id == user.id)).first()
    if feed is None:
        feed = CalendarFeed(user_id=user.id, created_at=now)
        session.add(feed)
    feed.token_hash = token_digest(secret)
    feed.rotated_at = now
    session.flush()
    return feed, secret


def revoke(session: Session, *, user: User) -> None:
    """Delete her feed, if any: its URL answers 404 from now on."""
    session.execute(delete(CalendarFeed).where(CalendarFeed.user_id == user.id))
    session.flush()


def owner_of(session: Session, *, secret: str) -> User:
    """The active citizen whose feed `secret` opens; NotFound for unknown or rotated secrets."""
    user = session.scalars(
        select(User)
        .join(CalendarFeed, CalendarFeed.user_id == User.id)
        .where(CalendarFeed.token_hash == token_digest(secret), User.is_active.is_(True))
    ).first()
    if user is None:
        raise NotFound(_l("No such record."))
    return user


# --- the calendar -------------------------------------------------------------------------------


def pending_steps(
    session: Session, *, person: User, today: dt.date
) -> tuple[list[CareStep], dict[uuid.UUID, str]]:
    """Her pending steps by date, and her named children's names (four queries at most)."""
    by_kind: dict[str, list[uuid.UUID]] = {}
    for kind, subject_id in care_service.subjects_of(session, person):
        by_kind.setdefault(kind, []).append(subject_id)
    steps = session.scalars(
        select(CareStep)
        .where(
            or_(
                *(
                    and_(CareStep.subject_kind == kind, CareStep.subject_id.in_(ids))
                    for kind, ids in by_kind.items()
                )
            ),
            or_(*(care_service.status_clause(status, today) for status in PENDING)),
        )
        .order_by(CareStep.opens_on, CareStep.due_on, CareStep.code, CareStep.id)
    ).all()
    names: dict[uuid.UUID, str] = {}
    child_ids = by_kind.get(SubjectKind.CHILD)
    if child_ids:
        names = {
            child_id: name
            for child_id, name in session.execute(
                select(Child.id, Child.name).where(Child.id.in_(child_ids), Child.name.is_not(None))
            )
            if name is not None
        }
    return list(steps), names


def _day(value: dt.date, locale: str) -> str:
    return format_date(value, format="long", locale=locale)


def _description(why: str | None, step: CareStep, locale: str) -> str:
    lines = [why] if why else []
    if step.opens_on == step.due_on:
        lines.append(_("Due on %(due)s.", due=_day(step.due_on, locale)))
    else:
        lines.append(
            _(
                "Best done from %(opens)s to %(due)s.",
                opens=_day(step.opens_on, locale),
                due=_day(step.due_on, locale),
            )
        )
    if step.closes_on > step.due_on:
        lines.append(_("Still possible until %(closes)s.", closes=_day(step.closes_on, locale)))
    return "\n".join(lines)


def _event(
    step: CareStep,
    *,
    child_names: Mapping[uuid.UUID, str],
    protocols: ProtocolSet,
    locale: str,
    today: dt.date,
) -> Event:
    view = care_service.step_view(step, protocols=protocols, locale=locale, today=today)
    summary = view["title"] or step.code
    name = child_names.get(step.subject_id) if step.subject_kind == SubjectKind.CHILD else None
    if name:
        summary = _("%(title)s · %(name)s", title=summary, name=name)
    event = Event()
    event.add("uid", f"{step.id}@{UID_DOMAIN}")
    event.add("dtstamp", step.updated_at)
    event.add("created", step.created_at)
    event.add("last-modified", step.updated_at)
    event.add("dtstart", step.opens_on)
    event.add("dtend", step.due_on + dt.timedelta(days=1))
    event.add("summary", summary)
    event.add("description", _description(view["why"], step, locale))
    event.add("transp", "TRANSPARENT")
    event.add("class", "PRIVATE")
    alarm = Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("description", summary)
    alarm.add("trigger", ALARM_TRIGGER)
    event.add_component(alarm)
    return event


def render(
    *,
    person: User,
    steps: Sequence[CareStep],
    child_names: Mapping[uuid.UUID, str],
    protocols: ProtocolSet,
    locale: str,
    default_tz: str,
    today: dt.date,
) -> bytes:
    """The iCalendar file of `steps`, in `locale` (gettext strings follow the active locale)."""
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    title = _("Mother & child handbook")
    cal.add("name", title)
    cal.add("x-wr-calname", title)
    cal.add("x-wr-timezone", clock.zone(person.timezone, default_tz).key)
    cal.add("refresh-interval", REFRESH_INTERVAL, parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", PUBLISHED_TTL)
    for step in steps:
        cal.add_component(
            _event(step, child_names=child_names, protocols=protocols, locale=locale, today=today)
        )
    ical: bytes = cal.to_ical()
    return ical


def calendar(
    session: Session, *, person: User, protocols: ProtocolSet, locale: str, default_tz: str
) -> bytes:
    """Her schedule (hers, her pregnancies', her children's pending steps) as iCalendar."""
    today = clock.today(person.timezone, default_tz)
    steps, names = pending_steps(session, person=person, today=today)
    return render(
        person=person,
        steps=steps,
        child_names=names,
        protocols=protocols,
        locale=locale,
        default_tz=default_tz,
        today=today,
    )
