"""Doctor access follows 建册; partners see what she shares; export and deletion; audit."""

import datetime as dt
import uuid

from sqlalchemy import func, select

from backend import clock
from backend.auth.models import AccessToken, AuditEvent, Role, User
from backend.handbook.models import Child, Pregnancy
from tests.access.test_partners_consents import _partner
from tests.conftest import new_phone
from tests.records import add_guardian


def _lmp(days: int = 70) -> str:
    return (clock.today("Asia/Shanghai") - dt.timedelta(days=days)).isoformat()


def _pregnant(make_citizen):
    api, user_id, _phone = make_citizen("周敏")
    preg = api.post("me/pregnancies", {"lmp": _lmp()}).json
    return api, user_id, preg


def test_doctor_reaches_records_only_while_registered(make_citizen, make_staff):
    mum, mum_id, preg = _pregnant(make_citizen)
    doctor, doc = make_staff(Role.DOCTOR)
    assert doctor.get(f"pregnancies/{preg['id']}").status_code == 404
    assert doctor.get(f"patients/{mum_id}").status_code == 404

    reg = mum.post("me/registrations", {"institution_id": str(doc.institution_id)}).json
    assert doctor.get(f"pregnancies/{preg['id']}").status_code == 200
    handbook = doctor.get(f"patients/{mum_id}").json
    assert [p["id"] for p in handbook["pregnancies"]] == [preg["id"]]
    assert handbook["profile"]["name"] == "周敏"

    mum.delete(f"me/registrations/{reg['id']}")
    assert doctor.get(f"pregnancies/{preg['id']}").status_code == 404
    assert doctor.get(f"patients/{mum_id}").status_code == 404


def test_doctor_reads_are_audited_and_shown_to_her(make_citizen, make_staff, db):
    mum, mum_id, preg = _pregnant(make_citizen)
    doctor, doc = make_staff(Role.DOCTOR, name="李医生")
    mum.post("me/registrations", {"institution_id": str(doc.institution_id)})
    doctor.get(f"pregnancies/{preg['id']}")
    doctor.get(f"patients/{mum_id}")
    rows = db.scalars(
        select(AuditEvent).where(AuditEvent.owner_id == uuid.UUID(mum_id)).order_by(AuditEvent.at)
    ).all()
    assert [(r.actor_id, r.action, r.record_type) for r in rows] == [
        (doc.id, "read", "Pregnancy"),
        (doc.id, "read", "Handbook"),
    ]
    assert rows[0].path == f"/api/v1/pregnancies/{preg['id']}" and rows[0].address
    log = mum.get("me/access-log").json
    assert log["total"] == 2
    assert {e["actor_name"] for e in log["items"]} == {"李医生"}
    assert "address" not in log["items"][0] or log["items"][0].get("address") is None
    # her own reads are not audited
    mum.get(f"pregnancies/{preg['id']}")
    assert mum.get("me/access-log").json["total"] == 2


def test_admin_queries_the_audit_log(make_citizen, make_staff):
    mum, _mum_id, preg = _pregnant(make_citizen)
    doctor, doc = make_staff(Role.DOCTOR)
    admin, _ = make_staff(Role.ADMIN)
    mum.post("me/registrations", {"institution_id": str(doc.institution_id)})
    doctor.get(f"pregnancies/{preg['id']}")
    log = admin.get(f"audit-log?actor_id={doc.id}").json
    assert log["total"] >= 1
    assert all(e["actor_id"] == str(doc.id) for e in log["items"])
    assert log["items"][0]["address"]
    assert mum.get("audit-log").status_code == 403


def test_partner_sees_shared_scopes_read_only_until_revoked(client, make_citizen):
    mum, _mum_id, preg = _pregnant(make_citizen)
    child = mum.post("me/children", {"sex": "female", "birth_date": "2024-05-01"}).json
    phone = new_phone()
    grant = mum.post("me/partners", {"phone": phone, "scopes": ["pregnancies"]}).json
    partner = _partner(client, phone)
    assert partner.get(f"pregnancies/{preg['id']}").status_code == 404  # not yet accepted
    partner.post(f"partner-invitations/{grant['id']}/accept")
    assert partner.get(f"pregnancies/{preg['id']}").status_code == 200
    assert partner.get(f"children/{child['id']}").status_code == 404  # not shared
    assert partner.patch(f"pregnancies/{preg['id']}", {"gravidity": 2}).status_code == 404

    mum.patch(
        f"me/partners/{grant['id']}", {"scopes": ["pregnancies", "children"], "can_write": True}
    )
    assert partner.get(f"children/{child['id']}").status_code == 200
    assert partner.patch(f"pregnancies/{preg['id']}", {"gravidity": 2}).status_code == 200

    mum.delete(f"me/partners/{grant['id']}")
    assert partner.get(f"pregnancies/{preg['id']}").status_code == 404
    assert partner.get(f"children/{child['id']}").status_code == 404


def test_export_holds_all_her_data(make_citizen, make_staff):
    mum, mum_id, preg = _pregnant(make_citizen)
    mum.patch("me", {"national_id": "11010519491231002X"})
    mum.post("me/children", {"sex": "male", "birth_date": "2023-02-01"})
    mum.post("me/consents", {"purpose": "education", "granted": True})
    doctor, doc = make_staff(Role.DOCTOR)
    mum.post("me/registrations", {"institution_id": str(doc.institution_id)})
    doctor.get(f"patients/{mum_id}")
    body = mum.get("me/export").json
    assert body["profile"]["id"] == mum_id
    assert body["national_id"] == "11010519491231002X"
    assert [p["id"] for p in body["pregnancies"]] == [preg["id"]]
    assert len(body["children"]) == 1 and len(body["consents"]) == 1
    assert len(body["registrations"]) == 1 and len(body["access_log"]) == 1
    assert body["regimens"][0]["kind"] == "folic_acid"  # started with her pregnancy
    assert body["care_steps"] and all(s["person_id"] == mum_id for s in body["care_steps"])
    assert body["reminders"] and "lesson_reads" in body and "contraception_methods" in body


def test_doctor_cannot_export_for_her(make_citizen, make_staff):
    _, _mum_id, _ = _pregnant(make_citizen)
    doctor, _ = make_staff(Role.DOCTOR)
    assert doctor.get("me/export").status_code == 403


def test_delete_account_keeps_children_with_the_other_guardian(make_citizen, db):
    mum, mum_id, preg = _pregnant(make_citizen)
    dad, dad_id, _ = make_citizen("父亲")
    shared = mum.post("me/children", {"sex": "male", "birth_date": "2023-02-01"}).json
    only_hers = mum.post("me/children", {"sex": "female", "birth_date": "2024-08-01"}).json
    add_guardian(db, child_id=shared["id"], user_id=dad_id, relation="father")
    assert mum.delete("me").status_code == 204
    assert mum.get("me").status_code == 401, "her tokens went with the account"
    assert db.get(User, uuid.UUID(mum_id)) is None
    assert db.get(Pregnancy, uuid.UUID(preg["id"])) is None
    assert db.get(Child, uuid.UUID(only_hers["id"])) is None
    assert dad.get(f"children/{shared['id']}").status_code == 200
    assert [c["id"] for c in dad.get("me/children").json["items"]] == [shared["id"]]
    assert (
        db.scalar(
            select(func.count())
            .select_from(AccessToken)
            .where(AccessToken.user_id == uuid.UUID(mum_id))
        )
        == 0
    ), "her tokens were deleted, not kept"
