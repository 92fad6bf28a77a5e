"""What the handbook announces when a fact changes; higher domains (care, reminders) listen.

Every signal is sent after the service flushed, inside the request's unit of work, with the
record as sender and keyword arguments. A receiver works in the same `session` and must not
commit; if it raises, the whole request is rolled back. With this module imported as `signals`:

    signals.birth_recorded.connect(on_birth)  # on_birth(sender, *, session, pregnancy, children)
"""

from __future__ import annotations

from blinker import Namespace

handbook_signals = Namespace()

pregnancy_created = handbook_signals.signal(
    "pregnancy-created", doc="A pregnancy was recorded. kwargs: session, pregnancy."
)
pregnancy_redated = handbook_signals.signal(
    "pregnancy-redated",
    doc="The EDD in force changed. kwargs: session, pregnancy, revision (the EddRevision).",
)
birth_recorded = handbook_signals.signal(
    "birth-recorded",
    doc="A pregnancy ended in a birth (status delivered). kwargs: session, pregnancy, children. "
    "child_added is also sent for each new child, after this signal.",
)
pregnancy_ended = handbook_signals.signal(
    "pregnancy-ended",
    doc="A pregnancy ended without a birth record (miscarriage, ectopic, termination, "
    "stillbirth). kwargs: session, pregnancy.",
)
discharge_recorded = handbook_signals.signal(
    "discharge-recorded",
    doc="The discharge date of a delivered pregnancy was set or changed (it anchors the "
    "postpartum and newborn home visits). kwargs: session, pregnancy.",
)
child_added = handbook_signals.signal(
    "child-added",
    doc="A child entered the handbook (at a recorded birth or entered after birth). "
    "kwargs: session, child.",
)
child_changed = handbook_signals.signal(
    "child-changed",
    doc="A child's facts were corrected (birth date, sex, ...). kwargs: session, child.",
)
guardian_leaving = handbook_signals.signal(
    "guardian-leaving",
    doc="A guardian is removed from a child who stays with another (account deletion). "
    "kwargs: session, child, user, successor_id.",
)
