"""Faults: a gateway that hangs. The dispatcher gives up on it after its timeout, records a
retry, and goes on with the batch; nothing waits for the hung call."""

from __future__ import annotations

import datetime as dt
import time

from sqlalchemy import update

from backend.reminders.models import Reminder, ReminderStatus
from tests.reminders.test_delivery import _consent, _one_reminder_due_now


def test_a_hanging_gateway_times_out_and_the_batch_goes_on(
    app, make_citizen, db, dispatch, gateway, frozen_clock
):
    frozen_clock(dt.datetime.now(dt.UTC))
    reminders = []
    for _ in range(2):
        _, user_id, _, rid = _one_reminder_due_now(make_citizen, db)
        _consent(db, user_id, "sms")
        reminders.append(rid)
    # The helper keeps one reminder due and cancels every other: bring the first one back.
    status = db.get(Reminder, reminders[1]).status
    db.execute(update(Reminder).where(Reminder.id == reminders[0]).values(status=status))
    db.commit()
    app.config["REMINDER_WEBHOOK_TIMEOUT_SECONDS"] = 0.5
    gateway.delay = 3.0  # answers long after the timeout, if ever read
    started = time.monotonic()
    assert dispatch() == {"retry": 2}
    assert time.monotonic() - started < 2 * 3.0  # neither call waited for the gateway
    assert len(gateway.received) == 2  # the second reminder was tried after the first hung
    for rid in reminders:
        db.expire_all()
        row = db.get(Reminder, rid)
        assert row.status != ReminderStatus.DELIVERED and row.next_attempt_at is not None
