"""Audit point 3: the indications for prenatal diagnosis are referred.

Rule and source: 产前诊断技术管理办法 (卫生部令第33号, 2002) 第十七条 — the doctor advises
prenatal diagnosis for (二) a suspected fetal anomaly, (四) a previous baby with a serious birth
defect, (五) age over 35 (read conservatively: 35 or more at the EDD), besides abnormal
screening results. Encoded as data in content/protocols/screening.yaml (verified: false, [M!]).
"""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from backend.auth.models import Registration, Role
from tests.conftest import TODAY

pytestmark = pytest.mark.usefixtures("at_noon")


def _steps(api):
    return {s["code"]: s for s in api.get("me/schedule?page_size=100&view=full").json["items"]}


def _lmp(weeks: int) -> str:
    return (TODAY - dt.timedelta(weeks=weeks)).isoformat()


def test_a_suspected_anomaly_on_the_scan_is_referred(make_staff, make_citizen, db):
    doctor, doc = make_staff(Role.DOCTOR)
    api, user_id, _ = make_citizen()
    db.add(Registration(user_id=uuid.UUID(user_id), institution_id=doc.institution_id))
    db.commit()
    api.post("me/pregnancies", {"lmp": _lmp(21)})
    scan = _steps(api)["anomaly_scan"]
    r = doctor.post(
        f"care-steps/{scan['id']}/results",
        {"values": {"finding": "anomaly_suspected"}, "performed_on": TODAY.isoformat()},
    )
    assert r.status_code == 201, r.json
    referral = _steps(api)["prenatal_diagnosis_referral_anomaly"]
    assert referral["status"] == "due" and referral["opens_on"] == TODAY.isoformat()
    assert referral["follows_up"] == "anomaly_scan"


def test_a_normal_scan_refers_no_one(make_staff, make_citizen, db):
    doctor, doc = make_staff(Role.DOCTOR)
    api, user_id, _ = make_citizen()
    db.add(Registration(user_id=uuid.UUID(user_id), institution_id=doc.institution_id))
    db.commit()
    api.post("me/pregnancies", {"lmp": _lmp(21)})
    scan = _steps(api)["anomaly_scan"]
    doctor.post(
        f"care-steps/{scan['id']}/results",
        {"values": {"finding": "normal"}, "performed_on": TODAY.isoformat()},
    )
    assert "prenatal_diagnosis_referral_anomaly" not in _steps(api)


@pytest.mark.parametrize(
    ("birth_date", "referred"),
    [
        # EDD = LMP (10 weeks ago) + 280 d = 2027-01-11: 35 on the EDD, 34 today.
        ("1992-01-11", True),
        ("1992-01-12", False),  # still 34 on the EDD
    ],
)
def test_age_35_or_more_at_the_edd_is_an_indication(citizen, birth_date, referred):
    assert citizen.patch("me", {"birth_date": birth_date}).status_code == 200
    preg = citizen.post("me/pregnancies", {"lmp": _lmp(10)}).json
    assert preg["edd"] == "2027-01-11"
    assert ("prenatal_diagnosis_referral_age" in _steps(citizen)) is referred


def test_a_previous_baby_with_a_birth_defect_is_an_indication(citizen):
    preg = citizen.post("me/pregnancies", {"lmp": _lmp(10)}).json
    assert "prenatal_diagnosis_referral_history" not in _steps(citizen)
    r = citizen.patch(
        f"pregnancies/{preg['id']}/care-options", {"flags": {"previous_birth_defect": True}}
    )
    assert r.status_code == 200, r.json
    step = _steps(citizen)["prenatal_diagnosis_referral_history"]
    assert step["status"] == "due" and step["source"]["verified"] is False
    bad = citizen.patch(f"pregnancies/{preg['id']}/care-options", {"flags": {"x": True}})
    assert bad.status_code == 422 and "flags.x" in bad.json["errors"]
