"""Pregnancies: creation and its validation, today in her zone, lists, access, If-Match."""

import datetime as dt

import pytest

from backend.auth.models import Role
from tests.handbook.conftest import SHANGHAI, days_ago


def _count(api) -> int:
    return api.get("me/pregnancies").json["total"]


def test_lmp_gives_the_naegele_edd_and_todays_gestational_age(citizen):
    r = citizen.post("me/pregnancies", {"lmp": "2026-01-01", "gravidity": 2, "parity": 1})
    assert r.status_code == 201, r.json
    p = r.json
    assert (p["lmp"], p["edd"], p["edd_source"]) == ("2026-01-01", "2026-10-08", "lmp")
    assert p["gestational_age"] == {"weeks": 9, "days": 5}  # 2026-03-10 is LMP + 68 d
    assert p["status"] == "ongoing" and (p["gravidity"], p["parity"]) == (2, 1)
    assert r.headers["ETag"] == '"1"'


def test_edd_dates_the_pregnancy_without_an_lmp(citizen):
    r = citizen.post("me/pregnancies", {"edd": "2026-10-08"})
    assert r.status_code == 201, r.json
    p = r.json
    assert (p["lmp"], p["edd"], p["edd_source"]) == (None, "2026-10-08", "edd")
    assert p["gestational_age"] == {"weeks": 9, "days": 5}


@pytest.mark.parametrize(
    ("cycle", "edd"), [(35, "2026-10-15"), (24, "2026-10-04"), (28, "2026-10-08")]
)
def test_cycle_length_corrects_the_edd(citizen, cycle, edd):
    r = citizen.post("me/pregnancies", {"lmp": "2026-01-01", "cycle_length": cycle})
    assert r.status_code == 201, r.json
    assert r.json["edd"] == edd and r.json["cycle_length"] == cycle


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({}, {"lmp", "edd"}),
        ({"gravidity": 1}, {"lmp", "edd"}),
        ({"lmp": "2026-01-01", "edd": "2026-10-08"}, {"lmp", "edd"}),
        ({"edd": "2026-10-08", "cycle_length": 30}, {"cycle_length"}),
        ({"lmp": "2026-01-01", "cycle_length": 60}, {"cycle_length"}),
    ],
)
def test_exactly_one_dating_is_required(citizen, body, fields):
    r = citizen.post("me/pregnancies", body)
    assert r.status_code == 422
    assert set(r.json["errors"]) == fields
    assert _count(citizen) == 0


def test_lmp_tomorrow_in_shanghai_is_refused_at_2330(citizen, frozen_clock):
    frozen_clock(dt.datetime(2026, 3, 10, 23, 30, tzinfo=SHANGHAI))
    r = citizen.post("me/pregnancies", {"lmp": "2026-03-11"})
    assert r.status_code == 422 and list(r.json["errors"]) == ["lmp"]
    assert _count(citizen) == 0


def test_lmp_today_in_shanghai_is_accepted_at_0030_while_utc_is_still_yesterday(
    citizen, frozen_clock
):
    frozen_clock(dt.datetime(2026, 3, 11, 0, 30, tzinfo=SHANGHAI))  # 2026-03-10 16:30 UTC
    r = citizen.post("me/pregnancies", {"lmp": "2026-03-11"})
    assert r.status_code == 201, r.json
    assert r.json["gestational_age"] == {"weeks": 0, "days": 0}


def test_future_is_judged_in_her_own_zone(citizen, frozen_clock):
    assert citizen.patch("me", {"timezone": "America/New_York"}).status_code == 200
    frozen_clock(dt.datetime(2026, 3, 11, 0, 30, tzinfo=SHANGHAI))  # 2026-03-10 in New York
    r = citizen.post("me/pregnancies", {"lmp": "2026-03-11"})
    assert r.status_code == 422 and list(r.json["errors"]) == ["lmp"]


def test_gestational_age_turns_at_her_midnight(citizen, frozen_clock):
    frozen_clock(dt.datetime(2026, 3, 10, 23, 30, tzinfo=SHANGHAI))
    p = citizen.post("me/pregnancies", {"lmp": "2026-01-01"}).json
    assert p["gestational_age"] == {"weeks": 9, "days": 5}
    frozen_clock(dt.datetime(2026, 3, 11, 0, 30, tzinfo=SHANGHAI))
    assert citizen.get(f"pregnancies/{p['id']}").json["gestational_age"] == {"weeks": 9, "days": 6}


def test_lmp_44_weeks_ago_is_accepted_and_a_day_more_is_refused(make_citizen):
    ok, _, _ = make_citizen()
    assert ok.post("me/pregnancies", {"lmp": days_ago(44 * 7)}).status_code == 201
    late, _, _ = make_citizen()
    r = late.post("me/pregnancies", {"lmp": days_ago(44 * 7 + 1)})
    assert r.status_code == 422 and list(r.json["errors"]) == ["lmp"]
    assert _count(late) == 0


@pytest.mark.parametrize(
    "edd_in_days",
    [281, 280 - 44 * 7 - 1],
    ids=["implies-future-lmp", "implies-lmp-over-44-weeks-ago"],
)
def test_edd_implying_an_impossible_lmp_is_refused(citizen, edd_in_days):
    r = citizen.post("me/pregnancies", {"edd": days_ago(-edd_in_days)})
    assert r.status_code == 422 and list(r.json["errors"]) == ["edd"]
    assert _count(citizen) == 0


def test_a_long_cycle_cannot_start_the_pregnancy_in_the_future(citizen):
    r = citizen.post("me/pregnancies", {"lmp": days_ago(3), "cycle_length": 40})
    assert r.status_code == 422 and list(r.json["errors"]) == ["cycle_length"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"lmp": 20260101}, "lmp"),
        ({"lmp": "2026-13-01"}, "lmp"),
        ({"lmp": "2026-01-01", "gravidity": "two"}, "gravidity"),
        ({"lmp": "2026-01-01", "parity": -1}, "parity"),
        ({"lmp": "2026-01-01", "cycle_length": 28.5}, "cycle_length"),
        ({"lmp": None}, "lmp"),
    ],
)
def test_wrong_types_are_422_naming_the_field(citizen, body, field):
    r = citizen.post("me/pregnancies", body)
    assert r.status_code == 422
    assert field in r.json["errors"]
    assert _count(citizen) == 0


def test_unknown_fields_are_refused(citizen):
    r = citizen.post("me/pregnancies", {"lmp": "2026-01-01", "status": "delivered", "x": 1})
    assert r.status_code == 422 and set(r.json["errors"]) == {"status", "x"}
    assert _count(citizen) == 0


def test_parity_must_be_below_gravidity(citizen):
    r = citizen.post("me/pregnancies", {"lmp": "2026-01-01", "gravidity": 1, "parity": 1})
    assert r.status_code == 422 and list(r.json["errors"]) == ["parity"]


def test_a_second_ongoing_pregnancy_is_409(pregnant):
    api, _, _ = pregnant()
    r = api.post("me/pregnancies", {"lmp": days_ago(10)})
    assert r.status_code == 409
    assert r.content_type == "application/problem+json"
    assert _count(api) == 1


def test_list_is_paginated_latest_first(pregnant):
    api, _, first = pregnant(lmp_days_ago=200)
    end = {"kind": "miscarriage", "ended_on": days_ago(150)}
    assert api.post(f"pregnancies/{first['id']}/end", end).status_code == 200
    second = api.post("me/pregnancies", {"lmp": days_ago(20)}).json
    r = api.get("me/pregnancies", query_string={"page_size": 1})
    assert r.status_code == 200
    assert (r.json["total"], r.json["page"], r.json["page_size"]) == (2, 1, 1)
    assert [p["id"] for p in r.json["items"]] == [second["id"]]
    page2 = api.get("me/pregnancies", query_string={"page": 2, "page_size": 1}).json
    assert [p["id"] for p in page2["items"]] == [first["id"]]


def test_bad_page_arguments_are_422(citizen):
    r = citizen.get("me/pregnancies", query_string={"page_size": 1000})
    assert r.status_code == 422 and "page_size" in r.json["errors"]


def test_listing_costs_the_same_queries_for_one_or_five_pregnancies(make_citizen, count_queries):
    counts = []
    for n in (1, 5):
        api, _, _ = make_citizen()
        for i in range(n):
            p = api.post("me/pregnancies", {"lmp": days_ago(250 - i * 40)}).json
            scan = {"scan_date": days_ago(250 - i * 40 - 60), "ga_weeks": 8}
            assert api.patch(f"pregnancies/{p['id']}", {"ultrasound": scan}).status_code == 200
            if i < n - 1:
                end = {"kind": "miscarriage", "ended_on": days_ago(250 - i * 40 - 70)}
                assert api.post(f"pregnancies/{p['id']}/end", end).status_code == 200
        with count_queries() as statements:
            r = api.get("me/pregnancies")
        assert r.status_code == 200 and r.json["total"] == n
        assert all(len(p["dating_history"]) == 2 for p in r.json["items"])
        counts.append(len(statements))
    assert counts[0] == counts[1], counts


def test_a_stranger_gets_404_on_every_route_of_the_record(pregnant, make_citizen):
    _, _, p = pregnant()
    stranger, _, _ = make_citizen()
    base = f"pregnancies/{p['id']}"
    assert stranger.get(base).status_code == 404
    assert stranger.patch(base, {"gravidity": 3}).status_code == 404
    birth = {
        "born_at": "2026-03-10T01:00:00+08:00",
        "ga_weeks": 38,
        "babies": [{"sex": "male", "weight_g": 3200, "length_cm": 50}],
    }
    assert stranger.post(f"{base}/birth", birth).status_code == 404
    end = {"kind": "miscarriage", "ended_on": days_ago(1)}
    assert stranger.post(f"{base}/end", end).status_code == 404


def test_an_unknown_id_is_404(citizen):
    assert citizen.get("pregnancies/7d4f6e4e-3f7a-4a6e-9c7e-1b2c3d4e5f60").status_code == 404


def test_a_doctor_of_her_institution_reads_and_redates(pregnant, doctor_of):
    _, woman_id, p = pregnant()
    doctor, doctor_user = doctor_of(woman_id)
    r = doctor.get(f"pregnancies/{p['id']}")
    assert r.status_code == 200 and r.json["woman_id"] == woman_id
    scan = {"scan_date": days_ago(0), "ga_weeks": 8}
    r = doctor.patch(f"pregnancies/{p['id']}", {"ultrasound": scan, "reason": "CRL 17 mm"})
    assert r.status_code == 200
    last = r.json["dating_history"][-1]
    assert last["by"] == {"id": str(doctor_user.id), "role": "doctor"}
    assert last["reason"] == "CRL 17 mm"


def test_a_doctor_elsewhere_gets_404(pregnant, make_staff):
    _, _, p = pregnant()
    doctor, _ = make_staff(Role.DOCTOR)
    assert doctor.get(f"pregnancies/{p['id']}").status_code == 404
    assert doctor.patch(f"pregnancies/{p['id']}", {"gravidity": 2}).status_code == 404


def test_an_educator_may_not_use_the_route(pregnant, make_staff):
    _, _, p = pregnant()
    educator, _ = make_staff(Role.EDUCATOR)
    assert educator.get(f"pregnancies/{p['id']}").status_code == 403


def test_a_read_only_partner_reads_but_gets_404_on_writes(pregnant, partner_of):
    woman, woman_id, p = pregnant()
    partner, _ = partner_of(woman_id)
    assert partner.get(f"pregnancies/{p['id']}").status_code == 200
    assert partner.patch(f"pregnancies/{p['id']}", {"gravidity": 2}).status_code == 404
    end = {"kind": "miscarriage", "ended_on": days_ago(1)}
    assert partner.post(f"pregnancies/{p['id']}/end", end).status_code == 404
    assert woman.get(f"pregnancies/{p['id']}").json["status"] == "ongoing"


def test_a_partner_allowed_to_write_may_patch(pregnant, partner_of):
    woman, woman_id, p = pregnant()
    partner, _ = partner_of(woman_id, can_write=True)
    r = partner.patch(f"pregnancies/{p['id']}", {"gravidity": 2})
    assert r.status_code == 200 and r.json["gravidity"] == 2
    assert woman.get(f"pregnancies/{p['id']}").json["gravidity"] == 2, "the write is stored"


def test_a_partner_without_the_pregnancies_scope_gets_404(pregnant, partner_of):
    _, woman_id, p = pregnant()
    partner, _ = partner_of(woman_id, scopes=("children",))
    assert partner.get(f"pregnancies/{p['id']}").status_code == 404


def test_stale_if_match_is_412_and_nothing_is_written(pregnant):
    api, _, p = pregnant()
    url = f"pregnancies/{p['id']}"
    etag = api.get(url).headers["ETag"]
    r = api.patch(url, {"gravidity": 2}, headers={"If-Match": etag})
    assert r.status_code == 200 and r.headers["ETag"] != etag
    r = api.patch(url, {"gravidity": 3}, headers={"If-Match": etag})
    assert r.status_code == 412
    assert r.content_type == "application/problem+json"
    assert api.get(url).json["gravidity"] == 2


def test_patch_without_if_match_is_allowed(pregnant):
    api, _, p = pregnant()
    r = api.patch(f"pregnancies/{p['id']}", {"gravidity": 2, "parity": 1})
    assert r.status_code == 200 and r.json["version"] == 2


def test_patch_checks_parity_against_the_stored_gravidity(pregnant):
    api, _, p = pregnant(gravidity=2)
    r = api.patch(f"pregnancies/{p['id']}", {"parity": 2})
    assert r.status_code == 422 and list(r.json["errors"]) == ["parity"]


@pytest.mark.parametrize("header", ["*", 'W/"1"', '"7", "1"'])
def test_if_match_accepts_star_weak_and_lists(pregnant, header):
    api, _, p = pregnant()
    r = api.patch(f"pregnancies/{p['id']}", {"gravidity": 2}, headers={"If-Match": header})
    assert r.status_code == 200
