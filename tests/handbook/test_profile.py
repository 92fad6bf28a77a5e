"""GET/PATCH /me: the profile, the national ID at rest, life stages, query counts."""

import uuid

import sqlalchemy as sa

from backend.auth.models import Role, User
from tests.handbook.conftest import TODAY, days_ago

ID_1990 = "330302199003072816"  # valid check character, born 1990-03-07
ID_1988 = "330302198805120029"
ID_WITH_X = "33030219851120004X"


def test_new_citizen_profile_has_the_marriage_stage(citizen):
    r = citizen.get("me")
    assert r.status_code == 200
    body = r.json
    assert body["role"] == "citizen" and body["national_id"] is None
    assert [(s["stage"], s["colour"], s["subject"]["kind"]) for s in body["life_stages"]] == [
        ("marriage", "red", "woman")
    ]
    assert body["life_stages"][0]["subject"]["id"] == body["id"]
    assert r.headers["ETag"] == f'"{body["version"]}"'


def test_patch_profile_changes_the_given_fields(citizen):
    r = citizen.patch(
        "me",
        {
            "name": "王芳",
            "sex": "female",
            "birth_date": "1992-05-01",
            "district_code": "330302",
            "locale": "en",
            "timezone": "Asia/Urumqi",
        },
    )
    assert r.status_code == 200, r.json
    got = {k: r.json[k] for k in ("name", "sex", "birth_date", "district_code", "locale")}
    assert got == {
        "name": "王芳",
        "sex": "female",
        "birth_date": "1992-05-01",
        "district_code": "330302",
        "locale": "en",
    }
    assert citizen.get("me").json["timezone"] == "Asia/Urumqi"


def test_national_id_is_masked_and_gives_the_birth_date(citizen):
    r = citizen.patch("me", {"national_id": ID_1990})
    assert r.status_code == 200, r.json
    assert r.json["national_id"] == "330302**********16"
    assert r.json["birth_date"] == "1990-03-07"
    assert citizen.get("me").json["national_id"] == "330302**********16"


def test_national_id_with_lowercase_x_is_accepted_and_masked(citizen):
    r = citizen.patch("me", {"national_id": ID_WITH_X.lower()})
    assert r.status_code == 200, r.json
    assert r.json["national_id"] == "330302**********4X"


def test_raw_row_holds_no_plaintext_national_id(make_citizen, db):
    api, user_id, _ = make_citizen()
    assert api.patch("me", {"national_id": ID_1990}).status_code == 200
    table = User.__table__
    row = db.execute(sa.select(table).where(table.c.id == uuid.UUID(user_id))).one()
    for value in row:
        text = value.decode("latin-1") if isinstance(value, bytes) else str(value)
        assert ID_1990 not in text
        assert ID_1990[6:14] + ID_1990[14:] not in text
    assert row.national_id_cipher and row.national_id_hash


def test_wrong_check_character_is_422_and_nothing_is_written(citizen):
    wrong = ID_1990[:-1] + "7"
    r = citizen.patch("me", {"national_id": wrong, "name": "改名"})
    assert r.status_code == 422
    assert r.content_type == "application/problem+json"
    assert list(r.json["errors"]) == ["national_id"]
    me = citizen.get("me").json
    assert me["national_id"] is None and me["name"] == "测试"


def test_national_id_of_another_account_is_422(make_citizen):
    first, _, _ = make_citizen()
    second, _, _ = make_citizen()
    assert first.patch("me", {"national_id": ID_1988}).status_code == 200
    r = second.patch("me", {"national_id": ID_1988})
    assert r.status_code == 422 and list(r.json["errors"]) == ["national_id"]


def test_setting_ones_own_national_id_again_is_fine(citizen):
    assert citizen.patch("me", {"national_id": ID_1988}).status_code == 200
    assert citizen.patch("me", {"national_id": ID_1988}).status_code == 200


def test_birth_date_that_contradicts_the_id_is_422(citizen):
    r = citizen.patch("me", {"national_id": ID_1990, "birth_date": "1990-03-08"})
    assert r.status_code == 422 and list(r.json["errors"]) == ["birth_date"]
    assert citizen.patch("me", {"national_id": ID_1990}).status_code == 200
    r = citizen.patch("me", {"birth_date": "1991-01-01"})
    assert r.status_code == 422 and list(r.json["errors"]) == ["birth_date"]


def test_national_id_can_be_removed(citizen):
    assert citizen.patch("me", {"national_id": ID_1990}).status_code == 200
    r = citizen.patch("me", {"national_id": None})
    assert r.status_code == 200 and r.json["national_id"] is None


def test_future_birth_date_is_422(citizen):
    r = citizen.patch("me", {"birth_date": days_ago(-1)})
    assert r.status_code == 422 and list(r.json["errors"]) == ["birth_date"]


def test_unknown_time_zone_is_422(citizen):
    r = citizen.patch("me", {"timezone": "Mars/Olympus"})
    assert r.status_code == 422 and list(r.json["errors"]) == ["timezone"]


def test_wrong_types_name_each_field(citizen):
    r = citizen.patch("me", {"name": 5, "birth_date": "yesterday", "sex": "f", "locale": "fr"})
    assert r.status_code == 422
    assert set(r.json["errors"]) == {"name", "birth_date", "sex", "locale"}


def test_unknown_and_read_only_fields_are_refused(citizen):
    r = citizen.patch("me", {"role": "doctor", "phone": "13900000000", "hobby": "x"})
    assert r.status_code == 422
    assert set(r.json["errors"]) == {"role", "phone", "hobby"}
    assert citizen.get("me").json["role"] == "citizen"


def test_stale_if_match_is_412_and_nothing_is_written(citizen):
    etag = citizen.get("me").headers["ETag"]
    assert citizen.patch("me", {"name": "甲"}, headers={"If-Match": etag}).status_code == 200
    r = citizen.patch("me", {"name": "乙"}, headers={"If-Match": etag})
    assert r.status_code == 412
    assert citizen.get("me").json["name"] == "甲"


def test_if_match_is_optional_unless_the_server_requires_it(app, citizen):
    """RFC 6585 428: with REQUIRE_IF_MATCH a write without If-Match is refused, not applied."""
    assert citizen.patch("me", {"name": "甲"}).status_code == 200
    app.config["REQUIRE_IF_MATCH"] = True
    try:
        r = citizen.patch("me", {"name": "乙"}, headers={"Accept-Language": "en"})
        assert r.status_code == 428
        assert r.headers["Content-Type"].startswith("application/problem+json")
        assert "If-Match" in r.json["detail"]
        assert citizen.get("me").json["name"] == "甲"
        etag = citizen.get("me").headers["ETag"]
        assert citizen.patch("me", {"name": "乙"}, headers={"If-Match": etag}).status_code == 200
    finally:
        app.config["REQUIRE_IF_MATCH"] = False
    assert citizen.get("me").json["name"] == "乙"


def test_staff_have_no_handbook_profile(make_staff):
    doctor, _ = make_staff(Role.DOCTOR)
    assert doctor.get("me").status_code == 403


def test_anonymous_is_401(anon):
    assert anon.get("me").status_code == 401


def _add_children(api, n):
    for i in range(n):
        r = api.post(
            "me/children", {"sex": "female", "birth_date": days_ago(400 + i), "name": f"孩{i}"}
        )
        assert r.status_code == 201, r.json


def test_get_me_costs_the_same_queries_for_one_or_five_children(make_citizen, count_queries):
    counts = []
    for n in (1, 5):
        api, _, _ = make_citizen()
        _add_children(api, n)
        assert api.post("me/pregnancies", {"lmp": days_ago(30)}).status_code == 201
        with count_queries() as statements:
            r = api.get("me")
        assert r.status_code == 200
        assert len([s for s in r.json["life_stages"] if s["stage"] == "rearing"]) == n
        counts.append(len(statements))
    assert counts[0] == counts[1], counts
    assert counts[0] <= 4


def test_life_stages_use_her_today(citizen):
    assert citizen.patch("me", {"birth_date": "1981-03-11"}).status_code == 200
    stages = [s["stage"] for s in citizen.get("me").json["life_stages"]]
    assert stages == ["marriage"], "44 years old until tomorrow"
    assert TODAY.isoformat() == "2026-03-10"
    assert citizen.patch("me", {"birth_date": "1981-03-10"}).status_code == 200
    stages = citizen.get("me").json["life_stages"]
    assert [(s["stage"], s["colour"], s["since"]) for s in stages] == [
        ("care", "blue", "2026-03-10")
    ]
