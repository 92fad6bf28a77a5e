"""A family's whole journey through the handbook, over HTTP, as the clock moves."""

import datetime as dt

from tests.conftest import PASSWORD, Api, new_phone
from tests.handbook.conftest import SHANGHAI


def at(frozen_clock, day: dt.date, hour: int = 10) -> None:
    frozen_clock(dt.datetime.combine(day, dt.time(hour), tzinfo=SHANGHAI))


def stages_of(api: Api) -> list[tuple[str, str]]:
    return [(s["stage"], s["subject"]["kind"]) for s in api.get("me").json["life_stages"]]


def test_sign_up_pregnancy_redating_twins_and_stages(
    app, anon, doctor_of, frozen_clock, monkeypatch
):
    monkeypatch.setitem(app.config, "TOKEN_TTL_SECONDS", 400 * 24 * 3600)  # the story spans months
    lmp = dt.date(2026, 1, 5)

    # Week 9: she signs up and records her pregnancy from the LMP.
    at(frozen_clock, lmp + dt.timedelta(weeks=9))
    phone = new_phone()
    assert anon.post("auth/register", {"phone": phone, "password": PASSWORD}).status_code == 201
    login = anon.post("auth/token", {"phone": phone, "password": PASSWORD}).json
    woman = Api(anon.client, token=login["access_token"])
    assert woman.patch("me", {"name": "林静", "sex": "female"}).status_code == 200
    assert stages_of(woman) == [("marriage", "woman")]
    r = woman.post("me/pregnancies", {"lmp": lmp.isoformat(), "gravidity": 2, "parity": 1})
    assert r.status_code == 201, r.json
    pregnancy = r.json
    assert pregnancy["edd"] == "2026-10-12" and pregnancy["gestational_age"] == {
        "weeks": 9,
        "days": 0,
    }
    assert stages_of(woman) == [("pregnancy", "pregnancy")]

    # Week 11: her doctor's dating scan measures 9+2 (12 days smaller: over the 7-day threshold).
    doctor, doctor_user = doctor_of(login["user_id"])
    scan_day = lmp + dt.timedelta(weeks=11)
    at(frozen_clock, scan_day)
    url = f"pregnancies/{pregnancy['id']}"
    etag = doctor.get(url).headers["ETag"]
    scan = {"scan_date": scan_day.isoformat(), "ga_weeks": 9, "ga_days": 2}
    r = doctor.patch(url, {"ultrasound": scan, "reason": "CRL 26 mm"}, headers={"If-Match": etag})
    assert r.status_code == 200, r.json
    redated = r.json
    new_edd = scan_day + dt.timedelta(days=280 - 65)
    assert (redated["edd"], redated["edd_source"]) == (new_edd.isoformat(), "ultrasound")
    assert redated["gestational_age"] == {"weeks": 9, "days": 2}

    # Week 20 by the new dating: an anomaly scan 4 days off stays under its 10-day threshold.
    later = scan_day + dt.timedelta(weeks=11)
    at(frozen_clock, later)
    scan = {"scan_date": later.isoformat(), "ga_weeks": 20, "ga_days": 6}
    r = doctor.patch(url, {"ultrasound": scan, "reason": "anomaly scan biometry"})
    assert r.status_code == 200
    assert r.json["edd"] == new_edd.isoformat(), "kept"
    history = r.json["dating_history"]
    assert [(h["source"], h["replaced"], h["decision"]) for h in history] == [
        ("lmp", True, "initial"),
        ("ultrasound", True, "replaced"),
        ("ultrasound", False, "later_scan"),
    ]
    assert all(h["by"]["id"] == str(doctor_user.id) for h in history[1:])
    assert history[0]["by"]["id"] == login["user_id"]
    assert history[1]["reason"] == "CRL 26 mm" and history[1]["at"]

    # 36+3: twins are born just after midnight, Shanghai time.
    born = new_edd - dt.timedelta(days=280 - (36 * 7 + 3))
    at(frozen_clock, born, hour=9)
    birth = {
        "born_at": f"{born.isoformat()}T00:40:00+08:00",
        "ga_weeks": 36,
        "ga_days": 3,
        "delivery_mode": "caesarean",
        "babies": [
            {"sex": "female", "weight_g": 2410, "length_cm": 46, "name": "林一"},
            {"sex": "female", "weight_g": 2280, "length_cm": 45.5, "name": "林二"},
        ],
    }
    r = woman.post(f"{url}/birth", birth)
    assert r.status_code == 200, r.json
    assert r.json["status"] == "delivered" and r.json["gestational_age"] is None

    children = woman.get("me/children").json["items"]
    assert [(c["name"], c["birth_order"], c["birth_date"]) for c in children] == [
        ("林一", 1, born.isoformat()),
        ("林二", 2, born.isoformat()),
    ]
    assert stages_of(woman) == [
        ("birth", "pregnancy"),
        ("rearing", "child"),
        ("rearing", "child"),
    ]
    stages = woman.get("me").json["life_stages"]
    assert [s["colour"] for s in stages] == ["yellow", "green", "green"]
    assert {s["subject"]["id"] for s in stages[1:]} == {c["id"] for c in children}

    # Day 43 postpartum: the birth stage is over, rearing goes on.
    at(frozen_clock, born + dt.timedelta(days=43))
    assert stages_of(woman) == [("rearing", "child"), ("rearing", "child")]
