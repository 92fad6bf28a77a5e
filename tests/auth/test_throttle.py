"""Log-in throttling keyed by phone and address: a stranger who types her phone number from
elsewhere blocks only herself; past a higher ceiling the phone is slowed, never locked."""

from __future__ import annotations

import datetime as dt

from tests.conftest import PASSWORD, Api


def _try(anon: Api, phone: str, password: str, address: str):
    return anon.post(
        "auth/token", {"phone": phone, "password": password}, environ_base={"REMOTE_ADDR": address}
    )


def test_a_stranger_elsewhere_cannot_lock_the_owner_out(make_citizen, anon: Api):
    _, _, phone = make_citizen()
    attacker = [_try(anon, phone, "wrong-pass", "203.0.113.9").status_code for _ in range(6)]
    assert attacker == [401] * 5 + [429]
    r = _try(anon, phone, PASSWORD, "198.51.100.7")  # the owner, from her own phone
    assert r.status_code == 200
    assert r.json["recent_failed_logins"] == 5  # she is told someone tried


def test_past_the_phone_ceiling_attempts_are_spaced_not_blocked(
    app, make_citizen, anon: Api, frozen_clock
):
    _, _, phone = make_citizen()
    now = dt.datetime(2026, 6, 1, 4, 0, tzinfo=dt.UTC)
    frozen_clock(now)
    ceiling = app.config["LOGIN_MAX_FAILURES_PER_PHONE"]
    spacing = app.config["LOGIN_PHONE_SLOWDOWN_SECONDS"]
    for i in range(ceiling):  # a botnet: one failure from each of many addresses
        assert _try(anon, phone, "wrong-pass", f"203.0.113.{i + 1}").status_code == 401
    r = _try(anon, phone, PASSWORD, "198.51.100.7")
    assert r.status_code == 429 and r.content_type == "application/problem+json"
    assert 1 <= int(r.headers["Retry-After"]) <= spacing + 1
    frozen_clock(now + dt.timedelta(seconds=spacing + 1))
    r = _try(anon, phone, PASSWORD, "198.51.100.7")
    assert r.status_code == 200 and r.json["recent_failed_logins"] == ceiling


def test_the_pair_counter_is_cleared_by_a_success(make_citizen, anon: Api):
    _, _, phone = make_citizen()
    for _ in range(4):
        assert _try(anon, phone, "typo", "198.51.100.7").status_code == 401
    assert _try(anon, phone, PASSWORD, "198.51.100.7").status_code == 200
    assert _try(anon, phone, "typo", "198.51.100.7").status_code == 401  # counting anew
