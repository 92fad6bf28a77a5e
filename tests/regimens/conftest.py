"""Fixtures of the regimen tests: noon in Shanghai, a woman, her doctor, the signals sent."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from backend.regimens import signals
from tests.conftest import PASSWORD


def days(n: int) -> dt.timedelta:
    return dt.timedelta(days=n)


def iso(day: dt.date) -> str:
    return day.isoformat()


@pytest.fixture(autouse=True)
def _noon(at_noon):
    return at_noon


@pytest.fixture
def travel(frozen_clock):
    """Move the clock to an instant and log her in again (tokens expire after a week)."""

    def move(api, instant: dt.datetime) -> None:
        frozen_clock(instant)
        r = api.post("auth/token", {"phone": api.phone, "password": PASSWORD})
        assert r.status_code == 200, r.json
        api.token = r.json["access_token"]

    return move


@pytest.fixture
def changes():
    """The regimens announced by regimen_changed, as (id, status, starts_on, ends_on)."""
    seen: list[tuple[uuid.UUID, str, dt.date, dt.date | None]] = []

    def receiver(_sender, *, session, regimen, **_):
        seen.append((regimen.id, regimen.status, regimen.starts_on, regimen.ends_on))

    signals.regimen_changed.connect(receiver)
    yield seen
    signals.regimen_changed.disconnect(receiver)
