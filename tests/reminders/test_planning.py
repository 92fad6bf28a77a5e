"""Reminder planning: from steps, incremental, idempotent, in her zone, out of quiet hours."""

from __future__ import annotations

import datetime as dt
import uuid
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, select

from backend.auth.models import Registration, Role, User
from backend.care.models import CareStep, StepState
from backend.care.signals import StepFacts, SyncedSteps
from backend.regimens import service as regimen_service
from backend.reminders import planning, rules
from backend.reminders.models import Reminder, ReminderPreference, ReminderStatus
from backend.reminders.preferences import after_quiet_hours
from tests.conftest import PASSWORD, SHANGHAI, TODAY


def _reminders(db, user_id, status=ReminderStatus.PENDING) -> list[Reminder]:
    return list(
        db.scalars(
            select(Reminder)
            .where(Reminder.recipient_id == uuid.UUID(user_id), Reminder.status == status)
            .order_by(Reminder.fire_at)
        )
    )


def _step(db, pregnancy_id, code) -> CareStep:
    return db.scalars(
        select(CareStep).where(
            CareStep.subject_id == uuid.UUID(pregnancy_id), CareStep.code == code
        )
    ).one()


def _pregnancy(api, days):
    r = api.post("me/pregnancies", {"lmp": (TODAY - dt.timedelta(days=days)).isoformat()})
    assert r.status_code == 201
    return r.json


def test_a_pregnancy_plans_before_due_nudges_and_escalation(make_citizen, db):
    api, user_id, _ = make_citizen()
    preg = _pregnancy(api, 20)  # 2+6: the early ultrasound opens at 6+0, due by 8+6
    step = _step(db, preg["id"], "early_ultrasound")
    mine = [r for r in _reminders(db, user_id) if r.source_id == step.id]
    occurrences = {r.occurrence.split(":")[0]: r for r in mine}
    assert set(occurrences) == {"before", "due", "nudge_1", "nudge_2", "escalation"}
    before = occurrences["before"]
    assert before.fire_at == dt.datetime.combine(
        step.opens_on - dt.timedelta(days=3), dt.time(9), SHANGHAI
    )
    assert occurrences["nudge_1"].occurrence == f"nudge_1:{step.due_on + dt.timedelta(days=3)}"


def test_planning_twice_changes_nothing(app, make_citizen, db):

    api, user_id, _ = make_citizen()
    _pregnancy(api, 60)
    count = db.scalar(select(func.count()).select_from(Reminder))
    report = planning.plan_steps(
        db,
        person_ids={uuid.UUID(user_id)},
        protocols=app.extensions["care.protocols"],
        rules=rules.load(),
        default_tz="Asia/Shanghai",
    )
    assert (report.added, report.moved, report.cancelled) == (0, 0, 0)
    assert db.scalar(select(func.count()).select_from(Reminder)) == count


def test_late_registrant_gets_no_reminders_for_closed_windows(make_citizen, db):
    api, user_id, _ = make_citizen()
    preg = _pregnancy(api, 26 * 7)
    closed = _step(db, preg["id"], "ph_prenatal_2")  # 16-20 weeks: closed before she joined
    assert closed.closed_before_enrolment
    pending = _reminders(db, user_id)
    assert pending and all(r.source_id != closed.id for r in pending)
    now = dt.datetime.combine(TODAY, dt.time(12), SHANGHAI)
    assert all(r.fire_at >= now - dt.timedelta(hours=1) for r in pending)


def test_corrected_edd_moves_pending_reminders(make_citizen, make_staff, db):

    api, user_id, _ = make_citizen()
    preg = _pregnancy(api, 50)
    step = _step(db, preg["id"], "nt_scan")
    before = {r.occurrence for r in _reminders(db, user_id) if r.source_id == step.id}
    doctor, doc = make_staff(Role.DOCTOR)
    db.add(Registration(user_id=uuid.UUID(user_id), institution_id=doc.institution_id))
    db.commit()
    r = doctor.patch(
        f"pregnancies/{preg['id']}",
        {
            "ultrasound": {"scan_date": TODAY.isoformat(), "ga_weeks": 8, "ga_days": 5},
            "reason": "CRL",
        },
    )
    assert r.status_code == 200 and r.json["edd_source"] == "ultrasound"
    after = {r.occurrence for r in _reminders(db, user_id) if r.source_id == step.id}
    assert after and after.isdisjoint(before)
    cancelled = {r.occurrence for r in _reminders(db, user_id, ReminderStatus.CANCELLED)}
    assert before <= cancelled


def test_a_loss_cancels_every_pending_reminder(make_citizen, db):
    api, user_id, _ = make_citizen()
    preg = _pregnancy(api, 60)
    assert _reminders(db, user_id)
    before = {r.source_id for r in _reminders(db, user_id)}
    api.post(
        f"pregnancies/{preg['id']}/end", {"kind": "miscarriage", "ended_on": TODAY.isoformat()}
    )
    left = _reminders(db, user_id)
    # every pregnancy reminder is gone; only the gentle post-loss care follow-up remains
    assert not {r.source_id for r in left} & before
    assert {r.params["code"] for r in left} <= {"post_abortion_care", "post_abortion_followup_1m"}


def test_quiet_hours_move_a_reminder_to_their_end():
    tz = ZoneInfo("Asia/Shanghai")
    start, end = dt.time(21), dt.time(8)
    late = dt.datetime(2026, 1, 31, 22, 30, tzinfo=tz)
    assert after_quiet_hours(late, start, end) == dt.datetime(2026, 2, 1, 8, 0, tzinfo=tz)
    early = dt.datetime(2026, 2, 28, 6, 0, tzinfo=tz)
    assert after_quiet_hours(early, start, end) == dt.datetime(2026, 2, 28, 8, 0, tzinfo=tz)
    fine = dt.datetime(2026, 2, 28, 20, 59, tzinfo=tz)
    assert after_quiet_hours(fine, start, end) == fine
    lunch = dt.datetime(2026, 2, 28, 12, 30, tzinfo=tz)
    assert after_quiet_hours(lunch, dt.time(12), dt.time(14)) == lunch.replace(hour=14, minute=0)


def test_her_send_time_zone_and_quiet_hours_shape_the_instant(make_citizen, db):
    api, user_id, _ = make_citizen()
    api.patch("me", {"timezone": "Europe/London"})
    r = api.put(
        "me/reminder-preferences",
        {"send_time": "22:30", "quiet_start": "22:00", "quiet_end": "07:30"},
    )
    assert r.status_code == 200 and r.json["channels"][-1] == "inbox"
    preg = _pregnancy(api, 20)
    step = _step(db, preg["id"], "early_ultrasound")
    due = next(
        r
        for r in _reminders(db, user_id)
        if r.source_id == step.id and r.occurrence.startswith("due:")
    )
    london = ZoneInfo("Europe/London")
    # 22:30 is in her quiet hours: it waits to 07:30 the next morning, London time.
    assert due.fire_at == dt.datetime.combine(
        step.due_on + dt.timedelta(days=1), dt.time(7, 30), london
    )


def test_opting_out_of_nudges_cancels_them(make_citizen, db):
    api, user_id, _ = make_citizen()
    _pregnancy(api, 60)
    assert any(r.kind == "step_nudge" for r in _reminders(db, user_id))
    assert api.put("me/reminder-preferences", {"opted_out": ["step_nudge"]}).status_code == 200
    kinds = {r.kind for r in _reminders(db, user_id)}
    assert "step_nudge" not in kinds and "step_due" in kinds


def test_folic_acid_reminders_come_daily_at_her_time(make_citizen, db, dispatch, frozen_clock):
    api, user_id, _ = make_citizen()
    planned = TODAY + dt.timedelta(days=80)  # the regimen starts 90 days before: now
    r = api.put(
        "me/regimens/folic-acid",
        {"planned_pregnancy_on": planned.isoformat(), "reminder_time": "08:45"},
    )
    assert r.status_code == 200, r.json
    starts = dt.date.fromisoformat(r.json["starts_on"])
    daily = [x for x in _reminders(db, user_id) if x.kind == "regimen_daily"]
    assert daily and all(x.fire_at.astimezone(SHANGHAI).time() == dt.time(8, 45) for x in daily)
    days = sorted(dt.date.fromisoformat(x.params["day"]) for x in daily)
    assert days[0] == max(starts, TODAY + dt.timedelta(days=1))  # today's 08:45 has passed
    assert len(days) <= 8
    # she ticks off the first day before its reminder is sent: nothing is delivered that day
    frozen_clock(dt.datetime.combine(days[0], dt.time(7), SHANGHAI))
    api.token = api.post(
        "auth/token", {"phone": db.get(User, uuid.UUID(user_id)).phone, "password": PASSWORD}
    ).json["access_token"]
    assert api.post("me/regimens/folic-acid/check-ins", {"taken": True}).status_code == 201
    frozen_clock(dt.datetime.combine(days[0], dt.time(8, 50), SHANGHAI))
    outcome = dispatch()
    assert outcome.get("delivered", 0) == 0
    assert api.get("me/notifications").json["total"] == 0


def test_the_hourly_regimen_planner_leaves_late_reminders_to_the_dispatcher(
    make_citizen, db, app, frozen_clock
):
    """A morning's folic-acid reminders not sent yet (a backlog, a dispatcher down) are late, not
    obsolete: the planner keeps them pending for hours and days, and cancels one only once
    the day is ticked off (what the dispatcher's still-needed check would decide too)."""

    api, user_id, _ = make_citizen()
    _pregnancy(api, 6 * 7)  # starts folic acid today
    tomorrow, after = TODAY + dt.timedelta(days=1), TODAY + dt.timedelta(days=2)
    planned = {r.params["day"]: r.id for r in _reminders(db, user_id) if r.kind == "regimen_daily"}
    assert {tomorrow.isoformat(), after.isoformat()} <= set(planned)

    def plan_hourly() -> None:  # what the dispatcher's hourly job runs
        planning.plan_regimens(
            db,
            regimens=regimen_service.active_regimens(db),
            user_ids={uuid.UUID(user_id)},
            rules=rules.load(),
            default_tz="Asia/Shanghai",
        )
        db.commit()

    # two days later at 20:00: tomorrow's and the day after's reminders are 35 and 11 hours late
    frozen_clock(dt.datetime.combine(after, dt.time(20), SHANGHAI))
    plan_hourly()
    late = {planned[tomorrow.isoformat()], planned[after.isoformat()]}
    assert {db.get(Reminder, i).status for i in late} == {ReminderStatus.PENDING}
    # she ticks off the day after: that reminder has lost its point, the other not
    api.token = api.post(
        "auth/token", {"phone": db.get(User, uuid.UUID(user_id)).phone, "password": PASSWORD}
    ).json["access_token"]
    r = api.post("me/regimens/folic-acid/check-ins", {"on": after.isoformat(), "taken": True})
    assert r.status_code in (200, 201), r.json
    plan_hourly()
    assert db.get(Reminder, planned[after.isoformat()]).status == ReminderStatus.CANCELLED
    assert db.get(Reminder, planned[tomorrow.isoformat()]).status == ReminderStatus.PENDING


def _planned(db, user_id) -> set[tuple]:
    """Her care-step reminders as planning leaves them (ids aside)."""
    return {
        (r.source_id, r.occurrence, r.kind, r.fire_at, r.status, tuple(sorted(r.params.items())))
        for r in db.scalars(
            select(Reminder).where(
                Reminder.recipient_id == user_id, Reminder.source_type == "care_step"
            )
        )
    }


def test_planning_from_a_syncs_steps_equals_planning_from_a_re_read(
    app, make_citizen, db, count_queries
):
    """The rule: planning handed the steps a sync just wrote (the signal's `steps`) plans the
    same reminders as planning that reads every step back; her other subjects' steps are read
    with her preferences and reminders, in one statement either way."""
    api, uid, _ = make_citizen()
    user_id = uuid.UUID(uid)
    preg = _pregnancy(api, 60)
    born = (TODAY - dt.timedelta(days=40)).isoformat()
    assert api.post("me/children", {"sex": "female", "birth_date": born}).status_code == 201
    r = api.put(
        "me/reminder-preferences",
        {"opted_out": ["step_nudge"], "send_time": "22:30", "quiet_start": "22:00"},
    )
    assert r.status_code == 200, r.json
    pregnancy_steps = db.scalars(
        select(CareStep).where(CareStep.subject_id == uuid.UUID(preg["id"]))
    ).all()
    synced = SyncedSteps(
        frozenset({("pregnancy", uuid.UUID(preg["id"]))}),
        tuple(StepFacts.of(s) for s in pregnancy_steps),
    )
    assert {s.state for s in synced.steps} >= {StepState.PENDING}

    def plan(**kwargs) -> set[tuple]:
        db.execute(delete(Reminder).where(Reminder.recipient_id == user_id))
        with count_queries() as statements:
            planning.plan_steps(
                db,
                person_ids={user_id},
                protocols=app.extensions["care.protocols"],
                rules=rules.load(),
                default_tz="Asia/Shanghai",
                **kwargs,
            )
        # one read (her preferences, other steps and reminders), one insert
        assert len(statements) == 2, statements
        return _planned(db, user_id)

    from_signal, re_read = plan(synced=synced), plan()
    assert from_signal == re_read
    sources = {source for source, *_ in re_read}
    assert sources & {s.id for s in pregnancy_steps}
    assert sources - {s.id for s in pregnancy_steps}  # the child's steps too
    assert all(kind != "step_nudge" for _, _, kind, *_ in re_read)


def test_replanning_cancels_revives_and_keeps_what_went_out(app, make_citizen, db):
    """Cancelled rows come back (same row, not a new one), a delivered occurrence is never
    planned again, and reminders the session already holds are read again after the change."""
    api, uid, _ = make_citizen()
    user_id = uuid.UUID(uid)
    _pregnancy(api, 60)
    nudges = [r for r in _reminders(db, uid) if r.kind == "step_nudge"]
    assert len(nudges) >= 2
    sent, held = nudges[0], nudges[1]
    sent.status = ReminderStatus.DELIVERED
    db.commit()

    def replan(opted_out: list[str]) -> planning.PlanReport:
        prefs = db.get(ReminderPreference, user_id) or ReminderPreference(
            user_id=user_id,
            channels=["inbox"],
            quiet_start=dt.time(21),
            quiet_end=dt.time(8),
            send_time=dt.time(9),
        )
        prefs.opted_out = opted_out
        db.add(prefs)
        db.flush()
        return planning.plan_steps(
            db,
            person_ids={user_id},
            protocols=app.extensions["care.protocols"],
            rules=rules.load(),
            default_tz="Asia/Shanghai",
        )

    assert held.status == ReminderStatus.PENDING  # loaded in this session
    report = replan(["step_nudge"])
    assert report.cancelled == len(nudges) - 1 and report.added == 0
    assert held.status == ReminderStatus.CANCELLED
    report = replan([])
    assert report.moved == len(nudges) - 1 and report.added == 0
    assert held.status == ReminderStatus.PENDING
    assert db.get(Reminder, sent.id).status == ReminderStatus.DELIVERED
    keys = [
        (r.source_id, r.occurrence)
        for r in db.scalars(select(Reminder).where(Reminder.recipient_id == user_id))
    ]
    assert len(keys) == len(set(keys))


def test_a_reminder_sent_after_planning_read_it_is_neither_cancelled_nor_moved(make_citizen, db):
    """Planning reads her reminders, then cancels or moves them; a dispatcher may send one in
    between (it holds the row while it does). The write must skip a row no longer pending or
    cancelled: a reminder that went out stays delivered, whatever planning read before."""
    api, uid, _ = make_citizen()
    _pregnancy(api, 60)
    first, second = [r for r in _reminders(db, uid) if r.kind == "step_nudge"][:2]
    scope = Reminder.id.in_([first.id, second.id])
    stale = planning._read_scope(db, scope)  # both read as pending
    db.execute(
        Reminder.__table__.update()
        .where(scope)
        .values(status=ReminderStatus.DELIVERED)  # sent by a dispatcher meanwhile
    )
    keys = {row.id: row.key for row in stale}
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=400)
    wanted = {keys[second.id]: planning.Wanted("step_nudge", later, {})}  # first: unwanted
    planning._apply_plan(
        db, wanted=wanted, in_scope=stale, now=dt.datetime.now(dt.UTC), report=planning.PlanReport()
    )
    db.expire_all()
    assert {db.get(Reminder, r.id).status for r in (first, second)} == {ReminderStatus.DELIVERED}
    assert db.get(Reminder, second.id).fire_at != later
