"""The domain packages, in registration order (also the tag order of the OpenAPI document).

Dependencies point one way: auth ← handbook ← care ← reminders, regimens, education,
contraception; handbook ← benefits. A lower domain never imports a higher one; it sends a signal
instead.
"""

from __future__ import annotations

from backend import (
    access,
    auth,
    benefits,
    calendars,
    care,
    contraception,
    education,
    handbook,
    home,
    indicators,
    ops,
    regimens,
    reminders,
    surveillance,
)

DOMAINS = (
    auth,
    handbook,
    care,
    regimens,
    calendars,
    education,
    access,
    reminders,
    contraception,
    benefits,
    surveillance,
    indicators,
    home,
    ops,
)
