"""`make run`'s demo: idempotent; its citizen has a handbook and a schedule in two languages."""

from sqlalchemy import func, select

from backend.auth.models import User
from backend.demo import PASSWORD, seed
from tests.conftest import Api


def test_demo_is_idempotent_and_its_citizen_has_a_schedule(app, db, client):
    with app.app_context():  # as under `flask seed-demo`
        seed(db, app.config)
        db.commit()
        users = db.scalar(select(func.count()).select_from(User))
        seed(db, app.config)
        db.commit()
    assert db.scalar(select(func.count()).select_from(User)) == users

    titles = {}
    for lang in ("zh-CN", "en"):
        api = Api(client, lang=lang)
        r = api.post("auth/token", {"phone": "13800000004", "password": PASSWORD})
        api.token = r.json["access_token"]
        stages = {s["stage"] for s in api.get("me").json["life_stages"]}
        assert {"pregnancy", "rearing"} <= stages
        schedule = api.get("me/schedule?status=due,upcoming&page_size=5").json
        assert schedule["total"] > 0
        titles[lang] = schedule["items"][0]["title"]
    assert titles["zh-CN"] != titles["en"]

    doctor = Api(client)
    doctor.token = doctor.post("auth/token", {"phone": "13800000002", "password": PASSWORD}).json[
        "access_token"
    ]
    assert doctor.get("patients").json["total"] >= 1
    assert doctor.get("worklists/due").status_code == 200
