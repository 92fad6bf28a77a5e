"""Children entered after birth, their guardians, access and query counts."""

import pytest

from backend.auth.models import Role
from tests.handbook.conftest import days_ago
from tests.records import add_guardian

CHILD = {
    "name": "小明",
    "sex": "male",
    "birth_date": days_ago(500),
    "birth_weight_g": 3300,
    "birth_length_cm": 50,
    "ga_weeks": 39,
    "ga_days": 4,
}


def test_a_mother_enters_a_child_born_before_she_joined(make_citizen):
    api, user_id, _ = make_citizen()
    r = api.post("me/children", CHILD)
    assert r.status_code == 201, r.json
    child = r.json
    assert (child["name"], child["sex"], child["birth_date"]) == ("小明", "male", days_ago(500))
    assert child["ga_at_birth"] == {"weeks": 39, "days": 4}
    assert child["pregnancy_id"] is None and child["birth_order"] == 1
    assert child["guardians"] == [{"user_id": user_id, "relation": "mother"}]
    assert "ga_weeks" not in child and "relation" not in child
    assert r.headers["ETag"] == '"1"'


def test_a_father_is_guardian_as_father_by_default(make_citizen):
    api, user_id, _ = make_citizen()
    assert api.patch("me", {"sex": "male"}).status_code == 200
    r = api.post("me/children", {"sex": "female", "birth_date": days_ago(30)})
    assert r.json["guardians"] == [{"user_id": user_id, "relation": "father"}]


def test_the_relation_can_be_given(citizen):
    body = {"sex": "female", "birth_date": days_ago(30), "relation": "other"}
    assert citizen.post("me/children", body).json["guardians"][0]["relation"] == "other"


def test_my_children_lists_the_eldest_first(citizen):
    younger = citizen.post("me/children", {**CHILD, "birth_date": days_ago(100)}).json
    elder = citizen.post("me/children", CHILD).json
    r = citizen.get("me/children")
    assert r.status_code == 200 and r.json["total"] == 2
    assert [c["id"] for c in r.json["items"]] == [elder["id"], younger["id"]]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**CHILD, "birth_date": days_ago(-1)}, "birth_date"),
        ({**CHILD, "birth_date": days_ago(18 * 366)}, "birth_date"),
        ({**CHILD, "birth_weight_g": 9000}, "birth_weight_g"),
        ({**CHILD, "birth_length_cm": "fifty"}, "birth_length_cm"),
        ({**CHILD, "ga_weeks": 50}, "ga_weeks"),
        ({k: v for k, v in CHILD.items() if k != "ga_weeks"}, "ga_weeks"),
        ({k: v for k, v in CHILD.items() if k != "sex"}, "sex"),
        ({**CHILD, "relation": "aunt"}, "relation"),
        ({**CHILD, "guardians": []}, "guardians"),
        ({**CHILD, "blood_type": "A"}, "blood_type"),
    ],
)
def test_a_bad_child_is_422_naming_the_field_and_writes_nothing(citizen, body, field):
    r = citizen.post("me/children", body)
    assert r.status_code == 422, r.json
    assert list(r.json["errors"]) == [field]
    assert citizen.get("me/children").json["total"] == 0


def test_a_child_is_corrected_with_patch_and_if_match(citizen):
    child = citizen.post("me/children", CHILD).json
    url = f"children/{child['id']}"
    etag = citizen.get(url).headers["ETag"]
    r = citizen.patch(url, {"name": "小明明", "ga_weeks": 38}, headers={"If-Match": etag})
    assert r.status_code == 200, r.json
    assert r.json["name"] == "小明明" and r.json["ga_at_birth"] == {"weeks": 38, "days": 0}
    assert r.json["sex"] == "male", "fields not given are kept"
    r = citizen.patch(url, {"name": "又改"}, headers={"If-Match": etag})
    assert r.status_code == 412
    assert citizen.get(url).json["name"] == "小明明"


def test_patching_a_child_refuses_a_future_birth_date_and_unknown_fields(citizen):
    child = citizen.post("me/children", CHILD).json
    url = f"children/{child['id']}"
    r = citizen.patch(url, {"birth_date": days_ago(-3)})
    assert r.status_code == 422 and list(r.json["errors"]) == ["birth_date"]
    r = citizen.patch(url, {"relation": "father"})
    assert r.status_code == 422 and list(r.json["errors"]) == ["relation"]
    assert citizen.get(url).json["birth_date"] == CHILD["birth_date"]


def test_a_stranger_gets_404_on_get_and_patch(citizen, make_citizen):
    child = citizen.post("me/children", CHILD).json
    stranger, _, _ = make_citizen()
    assert stranger.get(f"children/{child['id']}").status_code == 404
    assert stranger.patch(f"children/{child['id']}", {"name": "x"}).status_code == 404
    assert stranger.get("me/children").json["total"] == 0


def test_a_second_guardian_sees_and_lists_the_child(make_citizen, db):
    mother, _, _ = make_citizen()
    father, father_id, _ = make_citizen(name="父亲")
    child_id = mother.post("me/children", CHILD).json["id"]
    add_guardian(db, child_id=child_id, user_id=father_id, relation="father")
    r = father.get(f"children/{child_id}")
    assert r.status_code == 200
    assert {g["relation"] for g in r.json["guardians"]} == {"mother", "father"}
    assert [c["id"] for c in father.get("me/children").json["items"]] == [child_id]
    assert father.patch(f"children/{child_id}", {"name": "明"}).status_code == 200


def test_a_doctor_of_the_mothers_institution_reads_the_child(make_citizen, doctor_of):
    mother, mother_id, _ = make_citizen()
    child_id = mother.post("me/children", CHILD).json["id"]
    doctor, _ = doctor_of(mother_id)
    assert doctor.get(f"children/{child_id}").status_code == 200


def test_a_doctor_elsewhere_gets_404(citizen, make_staff):
    child_id = citizen.post("me/children", CHILD).json["id"]
    doctor, _ = make_staff(Role.DOCTOR)
    assert doctor.get(f"children/{child_id}").status_code == 404


def test_a_partner_needs_the_children_scope(make_citizen, partner_of):
    mother, mother_id, _ = make_citizen()
    child_id = mother.post("me/children", CHILD).json["id"]
    with_scope, _ = partner_of(mother_id, scopes=("children",))
    without, _ = partner_of(mother_id, scopes=("pregnancies",))
    assert with_scope.get(f"children/{child_id}").status_code == 200
    assert with_scope.patch(f"children/{child_id}", {"name": "x"}).status_code == 404
    assert without.get(f"children/{child_id}").status_code == 404


def test_listing_costs_the_same_queries_for_one_or_five_children(make_citizen, count_queries):
    counts = []
    for n in (1, 5):
        api, _, _ = make_citizen()
        for i in range(n):
            assert (
                api.post("me/children", {**CHILD, "birth_date": days_ago(100 + i)}).status_code
                == 201
            )
        with count_queries() as statements:
            r = api.get("me/children")
        assert r.status_code == 200 and r.json["total"] == n
        counts.append(len(statements))
    assert counts[0] == counts[1], counts
