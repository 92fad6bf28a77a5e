"""The doctor reads a patient's access log (谁看过她的档案) on the patient page.

Rules (backend/auth/policy.py, issue 14 point 2): the log is part of her handbook, so her doctor
reads it while she is registered (建册) at his institution, as the other patient reads; any other
id answers 404; the read is itself audited; the rows are hers, paged and in words of the locale.
"""

import datetime as dt

from backend import clock
from backend.auth.models import Role


def _patient_at(make_citizen, make_staff, name="李医生"):
    mum, mum_id, _ = make_citizen("王芳")
    preg = mum.post(
        "me/pregnancies",
        {"lmp": (clock.today("Asia/Shanghai") - dt.timedelta(days=70)).isoformat()},
    ).json
    doctor, doc = make_staff(Role.DOCTOR, name=name)
    mum.post("me/registrations", {"institution_id": str(doc.institution_id)})
    return mum, mum_id, preg, doctor, doc


def test_doctor_sees_who_viewed_and_changed_her_record_and_why(make_citizen, make_staff):
    mum, mum_id, preg, doctor, doc = _patient_at(make_citizen, make_staff)
    assert doctor.get(f"pregnancies/{preg['id']}").status_code == 200
    assert doctor.patch(f"pregnancies/{preg['id']}", {"gravidity": 2}).status_code == 200

    r = doctor.get(f"patients/{mum_id}/access-log")
    assert r.status_code == 200, r.json
    log = r.json
    # newest first; this very read is audited and so is its first row
    assert [(e["action"], e["record_type"]) for e in log["items"]] == [
        ("read", "AccessLog"),
        ("write", "Pregnancy"),
        ("read", "Pregnancy"),
    ]
    assert log["total"] == 3
    first = log["items"][0]
    assert first["actor_name"] == "李医生" and first["actor_id"] == str(doc.id)
    assert first["institution_name"] and first["at"]
    assert log["items"][1]["what"] == "修改了妊娠记录"
    assert "建册" in log["items"][1]["why"]
    # the doctor's view is hers, without the audit-only columns (path, address)
    assert all(e.get("address") is None and e.get("path") is None for e in log["items"])
    # she sees the same rows in her own log
    assert mum.get("me/access-log").json["total"] == 3


def test_log_is_in_the_readers_language(make_citizen, make_staff):
    _mum, mum_id, _preg, doctor, _doc = _patient_at(make_citizen, make_staff)
    doctor.lang = "en"
    item = doctor.get(f"patients/{mum_id}/access-log").json["items"][0]
    assert item["what"] == "Viewed the access log"
    assert item["why"].startswith("Care: she is registered")


def test_foreign_unregistered_or_unknown_patient_is_404(make_citizen, make_staff):
    mum, mum_id, _preg, doctor, doc = _patient_at(make_citizen, make_staff)
    other_doctor, _ = make_staff(Role.DOCTOR)  # another institution
    assert other_doctor.get(f"patients/{mum_id}/access-log").status_code == 404
    assert doctor.get(f"patients/{doc.id}/access-log").status_code == 404  # staff, not a patient
    unknown = "00000000-0000-4000-8000-000000000000"
    assert doctor.get(f"patients/{unknown}/access-log").status_code == 404
    # when she leaves the institution the log closes with the rest of the handbook
    reg = mum.get("me/registrations").json[0]
    mum.delete(f"me/registrations/{reg['id']}")
    r = doctor.get(f"patients/{mum_id}/access-log")
    assert r.status_code == 404 and r.content_type.startswith("application/problem+json")
    # refused reads leave no row in her log
    assert mum.get("me/access-log").json["total"] == 0


def test_other_roles_may_not_read_it(make_citizen, make_staff):
    mum, mum_id, _preg, _doctor, _doc = _patient_at(make_citizen, make_staff)
    assert mum.get(f"patients/{mum_id}/access-log").status_code == 403
    educator, _ = make_staff(Role.EDUCATOR)
    assert educator.get(f"patients/{mum_id}/access-log").status_code == 403
    admin, _ = make_staff(Role.ADMIN)
    assert admin.get(f"patients/{mum_id}/access-log").status_code == 403


def test_paged_with_bounded_queries(make_citizen, make_staff, count_queries):
    _mum, mum_id, preg, doctor, _doc = _patient_at(make_citizen, make_staff)
    for _ in range(6):
        doctor.get(f"pregnancies/{preg['id']}")
    page1 = doctor.get(f"patients/{mum_id}/access-log?page_size=4").json
    assert page1["total"] == 7 and len(page1["items"]) == 4 and page1["page"] == 1
    page2 = doctor.get(f"patients/{mum_id}/access-log?page=2&page_size=4").json
    assert page2["total"] == 8 and len(page2["items"]) == 4
    bad = doctor.get(f"patients/{mum_id}/access-log?page_size=0")
    assert bad.status_code == 422 and "page_size" in str(bad.json)
    with count_queries() as small:
        doctor.get(f"patients/{mum_id}/access-log?page_size=2")
    with count_queries() as large:
        doctor.get(f"patients/{mum_id}/access-log?page_size=20")
    assert len(large) == len(small)  # no query per row (actor and institution are joined)
