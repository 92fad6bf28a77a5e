"""Closing a pregnancy: a birth creates the children; a loss ends it, neutrally."""

import pytest
import sqlalchemy as sa

from backend.handbook.models import Child
from tests.handbook.conftest import days_ago

TWINS = {
    "born_at": "2026-03-09T17:30:00Z",  # 01:30 on 2026-03-10 in Shanghai
    "ga_weeks": 36,
    "ga_days": 2,
    "delivery_mode": "caesarean",
    "babies": [
        {"sex": "female", "weight_g": 2450, "length_cm": 46.5, "name": "大宝"},
        {"sex": "male", "weight_g": 2300, "length_cm": 45},
    ],
}


def _birth(**changes):
    return {**TWINS, **changes}


def test_twins_close_the_pregnancy_and_become_two_children(pregnant):
    api, woman_id, p = pregnant(lmp_days_ago=36 * 7 + 2)
    r = api.post(f"pregnancies/{p['id']}/birth", TWINS)
    assert r.status_code == 200, r.json
    body = r.json
    assert body["status"] == "delivered" and body["gestational_age"] is None
    assert (body["ended_on"], body["delivery_mode"]) == ("2026-03-10", "caesarean")
    assert body["ga_at_end"] == {"weeks": 36, "days": 2}
    assert body["born_at"] == "2026-03-09T17:30:00+00:00"
    assert len(body["child_ids"]) == 2
    first, second = (api.get(f"children/{cid}").json for cid in body["child_ids"])
    assert (first["name"], first["sex"], first["birth_order"]) == ("大宝", "female", 1)
    assert (second["sex"], second["birth_order"], second["name"]) == ("male", 2, None)
    assert first["birth_date"] == "2026-03-10", "her local date, not the UTC one"
    assert (first["birth_weight_g"], first["birth_length_cm"]) == (2450, 46.5)
    assert first["ga_at_birth"] == {"weeks": 36, "days": 2}
    assert first["pregnancy_id"] == p["id"]
    assert first["guardians"] == [{"user_id": woman_id, "relation": "mother"}]


def test_a_doctor_records_the_birth_and_the_woman_is_the_guardian(pregnant, doctor_of):
    api, woman_id, p = pregnant(lmp_days_ago=270)
    doctor, _ = doctor_of(woman_id)
    r = doctor.post(f"pregnancies/{p['id']}/birth", _birth(babies=TWINS["babies"][:1]))
    assert r.status_code == 200, r.json
    child = api.get(f"children/{r.json['child_ids'][0]}").json
    assert child["guardians"] == [{"user_id": woman_id, "relation": "mother"}]


@pytest.mark.parametrize(
    ("changes", "errors"),
    [
        (
            {"babies": [{"sex": "female", "weight_g": 200, "length_cm": 46}]},
            {"babies": {"0": {"weight_g"}}},
        ),
        (
            {
                "babies": [
                    {"sex": "female", "weight_g": 2400, "length_cm": 46},
                    {"sex": "male", "weight_g": 2300, "length_cm": 70},
                ]
            },
            {"babies": {"1": {"length_cm"}}},
        ),
        (
            {"babies": [{"sex": "girl", "weight_g": 2400, "length_cm": 46}]},
            {"babies": {"0": {"sex"}}},
        ),
        ({"babies": [{"sex": "female", "length_cm": 46}]}, {"babies": {"0": {"weight_g"}}}),
        (
            {"babies": [{"sex": "female", "weight_g": 2400, "length_cm": 46, "eyes": "brown"}]},
            {"babies": {"0": {"eyes"}}},
        ),
        ({"babies": []}, {"babies": None}),
        ({"babies": TWINS["babies"] * 4}, {"babies": None}),
        ({"ga_weeks": 19}, {"ga_weeks": None}),
        ({"ga_weeks": 45}, {"ga_weeks": None}),
        ({"ga_days": 7}, {"ga_days": None}),
        ({"ga_weeks": "36"}, {"ga_weeks": None}),
        ({"born_at": "2026-03-10T01:30:00"}, {"born_at": None}),
        ({"delivery_mode": "water"}, {"delivery_mode": None}),
        ({"twins": True}, {"twins": None}),
    ],
)
def test_an_implausible_birth_is_422_naming_the_field_and_writes_nothing(
    pregnant, db, changes, errors
):
    api, _, p = pregnant(lmp_days_ago=260)
    r = api.post(f"pregnancies/{p['id']}/birth", _birth(**changes))
    assert r.status_code == 422, r.json
    assert set(r.json["errors"]) == set(errors)
    for field, nested in errors.items():
        if nested:
            assert {k: set(v) for k, v in r.json["errors"][field].items()} == nested
    assert api.get(f"pregnancies/{p['id']}").json["status"] == "ongoing"
    assert db.scalar(sa.select(sa.func.count()).select_from(Child)) == 0


def test_a_birth_before_the_lmp_is_422(pregnant):
    api, _, p = pregnant(lmp_days_ago=200)
    r = api.post(f"pregnancies/{p['id']}/birth", _birth(born_at=f"{days_ago(201)}T10:00:00+08:00"))
    assert r.status_code == 422 and list(r.json["errors"]) == ["born_at"]
    assert api.get(f"pregnancies/{p['id']}").json["status"] == "ongoing"


def test_a_birth_in_the_future_is_422(pregnant):
    api, _, p = pregnant(lmp_days_ago=270)
    r = api.post(f"pregnancies/{p['id']}/birth", _birth(born_at="2026-03-10T12:01:00+08:00"))
    assert r.status_code == 422 and list(r.json["errors"]) == ["born_at"]


def test_a_second_birth_on_the_same_pregnancy_is_409(pregnant):
    api, _, p = pregnant(lmp_days_ago=270)
    assert api.post(f"pregnancies/{p['id']}/birth", TWINS).status_code == 200
    r = api.post(f"pregnancies/{p['id']}/birth", TWINS)
    assert r.status_code == 409
    assert len(api.get("me/children").json["items"]) == 2


def test_a_miscarriage_ends_the_pregnancy_neutrally(pregnant):
    api, _, p = pregnant(lmp_days_ago=70)
    r = api.post(f"pregnancies/{p['id']}/end", {"kind": "miscarriage", "ended_on": days_ago(2)})
    assert r.status_code == 200, r.json
    body = r.json
    assert (body["status"], body["end_kind"], body["ended_on"]) == (
        "ended",
        "miscarriage",
        days_ago(2),
    )
    assert body["gestational_age"] is None and body["child_ids"] == []
    assert body["ga_at_end"] == {"weeks": 9, "days": 5}, "computed from the dating when not given"
    assert "detail" not in body and "message" not in body
    stages = [s["stage"] for s in api.get("me").json["life_stages"]]
    assert stages == ["marriage"]
    assert api.get("me/children").json["total"] == 0


def test_a_stillbirth_keeps_the_given_gestational_age(pregnant):
    api, _, p = pregnant(lmp_days_ago=200)
    end = {"kind": "stillbirth", "ended_on": days_ago(0), "ga_weeks": 28, "ga_days": 3}
    r = api.post(f"pregnancies/{p['id']}/end", end)
    assert r.status_code == 200 and r.json["ga_at_end"] == {"weeks": 28, "days": 3}


def test_after_a_loss_a_new_pregnancy_can_be_recorded(pregnant):
    api, _, p = pregnant(lmp_days_ago=120)
    end = {"kind": "termination", "ended_on": days_ago(60)}
    assert api.post(f"pregnancies/{p['id']}/end", end).status_code == 200
    assert api.post("me/pregnancies", {"lmp": days_ago(20)}).status_code == 201


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "miscarriage", "ended_on": days_ago(-1)}, "ended_on"),
        ({"kind": "miscarriage", "ended_on": days_ago(71)}, "ended_on"),
        ({"kind": "lost", "ended_on": days_ago(1)}, "kind"),
        ({"ended_on": days_ago(1)}, "kind"),
        ({"kind": "ectopic"}, "ended_on"),
        ({"kind": "ectopic", "ended_on": days_ago(1), "ga_days": 3}, "ga_weeks"),
        ({"kind": "ectopic", "ended_on": days_ago(1), "ga_weeks": 45}, "ga_weeks"),
        ({"kind": "ectopic", "ended_on": days_ago(1), "note": "x"}, "note"),
    ],
)
def test_a_bad_end_is_422_naming_the_field(pregnant, body, field):
    api, _, p = pregnant(lmp_days_ago=70)
    r = api.post(f"pregnancies/{p['id']}/end", body)
    assert r.status_code == 422 and list(r.json["errors"]) == [field]
    assert api.get(f"pregnancies/{p['id']}").json["status"] == "ongoing"


def test_ending_a_delivered_pregnancy_is_409(pregnant):
    api, _, p = pregnant(lmp_days_ago=270)
    assert api.post(f"pregnancies/{p['id']}/birth", TWINS).status_code == 200
    r = api.post(f"pregnancies/{p['id']}/end", {"kind": "stillbirth", "ended_on": days_ago(0)})
    assert r.status_code == 409
