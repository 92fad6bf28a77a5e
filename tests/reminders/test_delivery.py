"""Delivery: inbox once, signed webhook, retries with backoff, dead letters, opt-ins, fallback."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import func, select, update

from backend.access.models import Consent
from backend.auth.models import Registration, Role, User
from backend.reminders.channels import verify
from backend.reminders.models import Delivery, Notification, Reminder, ReminderStatus
from tests.conftest import PASSWORD, SHANGHAI, TODAY
from tests.reminders.conftest import SECRET


def _one_reminder_due_now(make_citizen, db, *, lang="zh-CN"):
    """A citizen with a pregnancy; every reminder but one cancelled, that one due now."""
    api, user_id, phone = make_citizen(lang=lang)
    api.post("me/pregnancies", {"lmp": (TODAY - dt.timedelta(days=20)).isoformat()})
    rows = db.scalars(
        select(Reminder).where(
            Reminder.recipient_id == uuid.UUID(user_id), Reminder.kind == "step_before"
        )
    ).all()
    keep = rows[0]
    db.execute(
        update(Reminder).where(Reminder.id != keep.id).values(status=ReminderStatus.CANCELLED)
    )
    db.execute(
        update(Reminder)
        .where(Reminder.id == keep.id)
        .values(next_attempt_at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1))
    )
    db.commit()
    return api, user_id, phone, keep.id


def _consent(db, user_id, channel):
    db.add(
        Consent(
            user_id=uuid.UUID(user_id),
            purpose="reminders",
            channel=channel,
            granted=True,
            text_version="t",
        )
    )
    db.commit()


def test_inbox_shows_the_reminder_once_in_her_language(make_citizen, db, dispatch, frozen_clock):
    frozen_clock(dt.datetime.now(dt.UTC))
    api, _user_id, _, rid = _one_reminder_due_now(make_citizen, db, lang="en")
    api.patch("me", {"locale": "en"})
    assert dispatch() == {"delivered": 1}
    assert dispatch() == {}
    inbox = api.get("me/notifications").json
    assert inbox["total"] == 1 and inbox["unread_count"] == 1
    assert inbox["items"][0]["title"].startswith("Coming up:")
    r = api.post(f"me/notifications/{inbox['items'][0]['id']}/read")
    assert r.status_code == 200 and r.json["read_at"]
    assert api.get("me/notifications").json["unread_count"] == 0
    assert db.get(Reminder, rid).channel == "inbox"


def test_a_reclaimed_reminder_still_shows_once(make_citizen, db, dispatch, frozen_clock):
    frozen_clock(dt.datetime.now(dt.UTC))
    _, user_id, _, rid = _one_reminder_due_now(make_citizen, db)
    assert dispatch("worker-a") == {"delivered": 1}
    # as if worker-a crashed after delivering but its mark were lost: pending again
    db.execute(
        update(Reminder)
        .where(Reminder.id == rid)
        .values(status=ReminderStatus.PENDING, delivered_at=None)
    )
    db.commit()
    assert dispatch("worker-b") == {"delivered": 1}
    assert (
        db.scalar(
            select(func.count())
            .select_from(Notification)
            .where(Notification.user_id == uuid.UUID(user_id))
        )
        == 1
    )


def test_webhook_is_signed_and_carries_an_idempotency_key(
    make_citizen, db, dispatch, gateway, frozen_clock
):
    frozen_clock(dt.datetime.now(dt.UTC))
    _, user_id, phone, rid = _one_reminder_due_now(make_citizen, db)
    _consent(db, user_id, "sms")
    assert dispatch() == {"delivered": 1}
    [request] = gateway.received
    headers = request["headers"]
    assert verify(SECRET, headers["X-Mch-Timestamp"], request["body"], headers["X-Mch-Signature"])
    assert not verify(
        "wrong", headers["X-Mch-Timestamp"], request["body"], headers["X-Mch-Signature"]
    )
    assert headers["Idempotency-Key"] == f"{rid}:sms"
    assert request["json"]["recipient"] == {"phone": phone}
    assert db.get(Reminder, rid).channel == "sms"


def test_no_consent_no_sms(make_citizen, db, dispatch, gateway, frozen_clock):
    frozen_clock(dt.datetime.now(dt.UTC))
    _, _, _, rid = _one_reminder_due_now(make_citizen, db)
    assert dispatch() == {"delivered": 1}
    assert gateway.received == [] and db.get(Reminder, rid).channel == "inbox"


def test_gateway_failing_twice_then_ok_delivers_once(
    make_citizen, db, dispatch, gateway, frozen_clock
):
    now = dt.datetime.now(dt.UTC)
    frozen_clock(now)
    api, user_id, _, rid = _one_reminder_due_now(make_citizen, db)
    _consent(db, user_id, "sms")
    gateway.script = [500, 500, 200]
    assert dispatch() == {"retry": 1}
    first_retry = db.get(Reminder, rid).next_attempt_at
    assert dt.timedelta(seconds=23) < first_retry - now < dt.timedelta(seconds=37)
    frozen_clock(first_retry + dt.timedelta(seconds=1))
    assert dispatch() == {"retry": 1}
    second = db.get(Reminder, rid).next_attempt_at
    assert second - (first_retry + dt.timedelta(seconds=1)) > dt.timedelta(seconds=45)
    frozen_clock(second + dt.timedelta(seconds=1))
    assert dispatch() == {"delivered": 1}
    assert len(gateway.received) == 3
    assert {r["headers"]["Idempotency-Key"] for r in gateway.received} == {f"{rid}:sms"}
    assert api.get("me/notifications").json["total"] == 1
    outcomes = db.scalars(
        select(Delivery.ok).where(Delivery.reminder_id == rid, Delivery.channel == "sms")
    ).all()
    assert sorted(outcomes) == [False, False, True]


def test_dead_letter_after_max_attempts_and_admin_requeue(
    make_citizen, make_staff, db, dispatch, gateway, frozen_clock
):
    now = dt.datetime.now(dt.UTC)
    frozen_clock(now)
    _, user_id, _, rid = _one_reminder_due_now(make_citizen, db)
    _consent(db, user_id, "sms")
    gateway.script = [503] * 20
    for _ in range(6):
        frozen_clock(now)
        dispatch()
        now = db.get(Reminder, rid).next_attempt_at + dt.timedelta(seconds=1)
    assert db.get(Reminder, rid).status == ReminderStatus.DEAD
    admin, _ = make_staff(Role.ADMIN)
    dead = admin.get("reminders/dead-letters").json
    assert [d["id"] for d in dead["items"]] == [str(rid)]
    assert admin.client.get("/readyz").json["checks"]["dead_letters"] == 1
    gateway.script = []
    r = admin.post(f"reminders/{rid}/requeue")
    assert r.status_code == 200 and r.json["status"] == "pending"
    assert dispatch() == {"delivered": 1}


def test_miniprogram_counts_opt_ins_then_falls_back_to_sms(
    make_citizen, db, dispatch, gateway, frozen_clock
):
    frozen_clock(dt.datetime.now(dt.UTC))
    api, user_id, _, rid = _one_reminder_due_now(make_citizen, db)
    db.execute(update(User).where(User.id == uuid.UUID(user_id)).values(miniprogram_openid="o-123"))
    db.commit()
    _consent(db, user_id, "miniprogram")
    _consent(db, user_id, "sms")
    api.post("me/miniprogram-subscriptions", {"template_id": "TPL_CARE_STEP", "count": 1})
    assert dispatch() == {"delivered": 1}
    assert gateway.received[-1]["json"]["channel"] == "miniprogram"
    assert api.get("me/miniprogram-subscriptions").json == [
        {"template_id": "TPL_CARE_STEP", "remaining": 0}
    ]
    # a second reminder: no opt-in left, so SMS takes it
    db.execute(
        update(Reminder)
        .where(Reminder.id == rid)
        .values(status=ReminderStatus.PENDING, delivered_at=None)
    )
    other = db.scalars(
        select(Reminder).where(Reminder.recipient_id == uuid.UUID(user_id), Reminder.id != rid)
    ).first()
    db.execute(
        update(Reminder)
        .where(Reminder.id == other.id)
        .values(
            status=ReminderStatus.PENDING,
            next_attempt_at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1),
        )
    )
    db.execute(update(Reminder).where(Reminder.id == rid).values(status=ReminderStatus.DELIVERED))
    db.commit()
    assert dispatch() == {"delivered": 1}
    assert gateway.received[-1]["json"]["channel"] == "sms"


def test_a_step_done_before_its_reminder_is_not_sent(make_citizen, db, dispatch, frozen_clock):
    frozen_clock(dt.datetime.now(dt.UTC))
    api, _, _, rid = _one_reminder_due_now(make_citizen, db)
    step_id = db.get(Reminder, rid).source_id
    api.post(f"care-steps/{step_id}/not-done", {"reason": "declined"})
    db.execute(update(Reminder).where(Reminder.id == rid).values(status=ReminderStatus.PENDING))
    db.commit()
    assert dispatch() == {"cancelled": 1}
    assert api.get("me/notifications").json["total"] == 0


def test_readyz_reports_dispatcher_lag(make_citizen, db, client, frozen_clock):
    frozen_clock(dt.datetime.now(dt.UTC))
    _one_reminder_due_now(make_citizen, db)
    checks = client.get("/readyz").json["checks"]
    assert 55 <= checks["dispatcher_lag_seconds"] <= 70 and checks["dead_letters"] == 0


def test_escalation_lands_on_the_doctors_call_list(
    make_citizen, make_staff, db, dispatch, frozen_clock
):

    frozen_clock(dt.datetime.combine(TODAY, dt.time(12), SHANGHAI))
    api, user_id, _ = make_citizen("久未产检")
    api.post("me/pregnancies", {"lmp": (TODAY - dt.timedelta(days=20)).isoformat()})
    doctor, doc = make_staff(Role.DOCTOR)
    db.add(Registration(user_id=uuid.UUID(user_id), institution_id=doc.institution_id))
    db.commit()
    escalation = db.scalars(
        select(Reminder)
        .where(Reminder.recipient_id == uuid.UUID(user_id), Reminder.kind == "step_escalation")
        .order_by(Reminder.fire_at)
    ).first()
    db.execute(
        update(Reminder).where(Reminder.id != escalation.id).values(status=ReminderStatus.CANCELLED)
    )
    db.commit()
    frozen_clock(escalation.fire_at + dt.timedelta(minutes=1))
    assert dispatch() == {"delivered": 1}
    # weeks have passed: the doctor logs in again
    doctor.token = doctor.post("auth/token", {"phone": doc.phone, "password": PASSWORD}).json[
        "access_token"
    ]
    items = doctor.get("worklists/escalated").json["items"]
    assert [i["id"] for i in items] == [str(escalation.source_id)]
    assert items[0]["patient"]["name"] == "久未产检"


def test_admins_see_whether_reminders_help(make_citizen, make_staff, db, dispatch, frozen_clock):

    now = dt.datetime.now(dt.UTC)
    frozen_clock(now)
    api, user_id, _, rid = _one_reminder_due_now(make_citizen, db)
    _doctor, doc = make_staff(Role.DOCTOR)
    db.add(Registration(user_id=uuid.UUID(user_id), institution_id=doc.institution_id))
    db.commit()
    assert dispatch() == {"delivered": 1}
    step_id = db.get(Reminder, rid).source_id
    # she does the step ten days later (done elsewhere, with its date)
    frozen_clock(now + dt.timedelta(days=10))
    done_on = (now + dt.timedelta(days=10)).astimezone(SHANGHAI).date()
    api.token = api.post(
        "auth/token", {"phone": db.get(User, uuid.UUID(user_id)).phone, "password": PASSWORD}
    ).json["access_token"]
    r = api.post(
        f"care-steps/{step_id}/not-done",
        {"reason": "done_elsewhere", "done_on": done_on.isoformat()},
    )
    assert r.status_code == 200, r.json
    admin, _ = make_staff(Role.ADMIN)
    today = now.astimezone(SHANGHAI).date()
    body = admin.get(
        f"indicators/reminders?from={today - dt.timedelta(days=1)}"
        f"&to={today + dt.timedelta(days=30)}"
    ).json
    [group] = body["groups"]
    assert (group["kind"], group["channel"], group["delivered"], group["done_within"]) == (
        "step_before",
        "inbox",
        1,
        1,
    )
    assert group["institution_name"] and group["rate"] == 1.0
    r = admin.get(f"indicators/reminders?from={today}&to={today - dt.timedelta(days=2)}")
    assert r.status_code == 422 and "to" in r.json["errors"]
