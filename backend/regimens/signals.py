"""What the regimens announce; the reminder planner listens and re-plans.

Sent after the service flushed, inside the unit of work, with the regimen as sender and keyword
arguments. A receiver works in the same `session` and must not commit; with this module
imported as `signals`:

    signals.regimen_changed.connect(on_regimen)  # on_regimen(sender, *, session, regimen)
"""

from __future__ import annotations

from blinker import Namespace

regimen_signals = Namespace()

regimen_changed = regimen_signals.signal(
    "regimen-changed",
    doc="A regimen was created, moved (start, end, reminder time or tier), stopped or "
    "completed. kwargs: session, regimen.",
)
regimen_checked_in = regimen_signals.signal(
    "regimen-checked-in",
    doc="She answered for a day (taken or not), so a reminder for that day may be dropped. "
    "kwargs: session, regimen, check_in.",
)
