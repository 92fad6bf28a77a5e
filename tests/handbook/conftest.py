"""Helpers for the handbook tests: a clock standing in Shanghai, pregnancies, doctors, partners."""

from __future__ import annotations

import datetime as dt
import uuid
from zoneinfo import ZoneInfo

import pytest

from backend.auth.models import PartnerGrant, PartnerGrantStatus

SHANGHAI = ZoneInfo("Asia/Shanghai")
# Noon in Shanghai on 2026-03-10: every test stands here unless it moves the clock.
NOON = dt.datetime(2026, 3, 10, 12, 0, tzinfo=SHANGHAI)
TODAY = NOON.date()


def days_ago(n: int) -> str:
    """An ISO date n days before TODAY."""
    return (TODAY - dt.timedelta(days=n)).isoformat()


@pytest.fixture(autouse=True)
def _noon_in_shanghai(frozen_clock):
    frozen_clock(NOON)
    return frozen_clock


@pytest.fixture
def pregnant(make_citizen):
    """A citizen with an ongoing pregnancy at 10+0 weeks; returns (Api, user_id, pregnancy)."""

    def make(lmp_days_ago: int = 70, **body):
        api, user_id, _ = make_citizen()
        r = api.post("me/pregnancies", {"lmp": days_ago(lmp_days_ago), **body})
        assert r.status_code == 201, r.json
        return api, user_id, r.json

    return make


@pytest.fixture
def partner_of(make_citizen, db):
    """A partner citizen the given woman shared scopes with (read-only unless can_write)."""

    def make(owner_id: str, scopes=("pregnancies", "children"), can_write: bool = False):
        api, partner_id, phone = make_citizen(name="伴侣")
        db.add(
            PartnerGrant(
                owner_id=uuid.UUID(owner_id),
                partner_phone=phone,
                partner_id=uuid.UUID(partner_id),
                status=PartnerGrantStatus.ACTIVE,
                scopes=list(scopes),
                can_write=can_write,
            )
        )
        db.commit()
        return api, partner_id

    return make
