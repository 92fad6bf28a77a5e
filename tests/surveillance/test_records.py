"""Birth-defect records: a doctor of her institution writes, the family reads in plain words,
the audit log keeps who wrote; codes are checked against ICD-10 chapter XVII and the monitored
categories (content/surveillance/categories.yaml)."""

from __future__ import annotations

import datetime as dt
import uuid
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from backend.auth.models import AuditEvent, Role
from backend.surveillance.content import categories

NOON = dt.datetime(2026, 11, 20, 12, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
TODAY = NOON.date()


@pytest.fixture(autouse=True)
def _noon(frozen_clock):
    frozen_clock(NOON)


@pytest.fixture
def family(make_citizen, make_staff):
    """A woman at 20 weeks registered at a doctor's institution; (mother, doctor, ids)."""
    return _family(make_citizen, make_staff, 20 * 7)


@pytest.fixture
def term_family(make_citizen, make_staff):
    """The same at 39+3 weeks, so that she can give birth."""
    return _family(make_citizen, make_staff, 39 * 7 + 3)


def _family(make_citizen, make_staff, days):
    mother, user_id, _ = make_citizen("母亲")
    preg = mother.post("me/pregnancies", {"lmp": (TODAY - dt.timedelta(days=days)).isoformat()})
    assert preg.status_code == 201, preg.json
    doctor, doc = make_staff(Role.DOCTOR)
    r = mother.post("me/registrations", {"institution_id": str(doc.institution_id)})
    assert r.status_code == 201, r.json
    return mother, doctor, {"user_id": user_id, "pregnancy_id": preg.json["id"], "doc": doc}


def _birth(mother, pregnancy_id: str, days_ago: int = 3, babies: int = 1) -> list[str]:
    born = dt.datetime.combine(TODAY - dt.timedelta(days=days_ago), dt.time(8), NOON.tzinfo)
    r = mother.post(
        f"pregnancies/{pregnancy_id}/birth",
        {
            "born_at": born.isoformat(),
            "ga_weeks": 39,
            "babies": [{"sex": "female", "weight_g": 3000, "length_cm": 50}] * babies,
        },
    )
    assert r.status_code == 200, r.json
    return [c["id"] for c in mother.get("me/children").json["items"]][-babies:]


def test_the_23_monitored_categories_and_the_most_specific_code_wins():
    cats = categories()
    assert len(cats.items) == 23
    assert cats.verified is False and cats.source
    # Microtia Q17.2 before the other external-ear malformations Q17 (national list, 8 and 9).
    assert cats.classify("Q17.2") == "microtia"
    assert cats.classify("Q17.0") == "other_external_ear"
    assert cats.classify("q21.0") == "congenital_heart_disease"  # Q20-Q26
    assert cats.classify("Q39.4") == "other"  # only Q39.0-Q39.3 are oesophageal atresia
    assert cats.classify("Q39.1") == "oesophageal_atresia"
    assert cats.classify("Q99.9") == "other"


def test_doctor_records_on_a_child_family_reads_plain_words_audit_keeps_the_writer(term_family, db):
    mother, doctor, ids = term_family
    (child_id,) = _birth(mother, ids["pregnancy_id"])
    r = doctor.post(
        f"children/{child_id}/birth-defects",
        {"icd10": "Q21.0", "timing": "within_7_days", "diagnosed_on": TODAY.isoformat()},
    )
    assert r.status_code == 201, r.json
    assert r.json["category"] == "congenital_heart_disease"
    assert r.json["outcome"] == "live_birth" and r.json["gestational_age"] == {
        "weeks": 39,
        "days": 0,
    }

    zh = mother.get(f"children/{child_id}/birth-defects").json
    assert zh[0]["title"] == "先天性心脏病" and "心脏" in zh[0]["plain"]
    assert zh[0]["timing_text"] == "出生后一周内发现"
    mother.lang = "en"
    en = mother.get(f"children/{child_id}/birth-defects").json
    assert en[0]["title"] == "Congenital heart disease"
    assert en[0]["timing_text"] == "Found in the first week after birth"

    writes = db.scalars(
        select(AuditEvent).where(
            AuditEvent.record_type == "BirthDefect", AuditEvent.record_id == uuid.UUID(r.json["id"])
        )
    ).all()
    assert [(w.actor_id, w.action, str(w.owner_id)) for w in writes] == [
        (ids["doc"].id, "write", ids["user_id"])
    ]


def test_only_her_institutions_doctors_write_and_citizens_never(term_family, make_staff):
    mother, _, ids = term_family
    (child_id,) = _birth(mother, ids["pregnancy_id"])
    body = {
        "icd10": "Q69.9",
        "timing": "at_birth",
        "diagnosed_on": (TODAY - dt.timedelta(3)).isoformat(),
    }
    stranger, _ = make_staff(Role.DOCTOR)
    assert stranger.post(f"children/{child_id}/birth-defects", body).status_code == 404
    assert stranger.get(f"children/{child_id}/birth-defects").status_code == 404
    assert mother.post(f"children/{child_id}/birth-defects", body).status_code == 403
    assert mother.get(f"children/{child_id}/birth-defects").json == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"icd10": "P07.1"}, "icd10"),  # not chapter XVII
        ({"icd10": "Q21.0", "category": "cleft_lip"}, "category"),  # disagrees with the code
        ({"timing": "at_birth"}, "timing"),  # she has not given birth yet
        ({"diagnosed_on": (TODAY + dt.timedelta(1)).isoformat()}, "diagnosed_on"),
    ],
)
def test_bad_records_answer_422_naming_the_field_and_write_nothing(family, body, field):
    mother, doctor, ids = family
    good = {"icd10": "Q05.9", "timing": "prenatal_ultrasound", "diagnosed_on": TODAY.isoformat()}
    r = doctor.post(f"pregnancies/{ids['pregnancy_id']}/birth-defects", {**good, **body})
    assert r.status_code == 422, r.json
    assert field in r.json["errors"]
    assert mother.get(f"pregnancies/{ids['pregnancy_id']}/birth-defects").json == []


def test_a_prenatal_finding_becomes_a_case_when_the_pregnancy_is_terminated(family):
    mother, doctor, ids = family
    preg = ids["pregnancy_id"]
    r = doctor.post(
        f"pregnancies/{preg}/prenatal-diagnoses",
        {
            "performed_on": TODAY.isoformat(),
            "procedure": "amniocentesis",
            "test": "karyotype",
            "result": "abnormal",
            "icd10": "Q90.9",
        },
    )
    assert r.status_code == 201, r.json
    assert r.json["ga_days"] == 140
    r = doctor.post(
        f"pregnancies/{preg}/birth-defects",
        {"icd10": "Q90.9", "timing": "prenatal_diagnosis", "diagnosed_on": TODAY.isoformat()},
    )
    assert r.status_code == 201 and r.json["outcome"] == "ongoing" and r.json["outcome_on"] is None
    ended = mother.post(
        f"pregnancies/{preg}/end", {"kind": "termination", "ended_on": TODAY.isoformat()}
    )
    assert ended.status_code == 200, ended.json
    (record,) = mother.get(f"pregnancies/{preg}/birth-defects").json
    assert (record["outcome"], record["outcome_on"]) == ("termination", TODAY.isoformat())
    assert record["gestational_age"]["weeks"] == 20
    assert mother.get(f"pregnancies/{preg}/prenatal-diagnoses").json[0]["result"] == "abnormal"


def test_a_live_born_babys_defect_goes_on_the_child(term_family):
    mother, doctor, ids = term_family
    _birth(mother, ids["pregnancy_id"])
    r = doctor.post(
        f"pregnancies/{ids['pregnancy_id']}/birth-defects",
        {"icd10": "Q35.9", "timing": "at_birth", "diagnosed_on": TODAY.isoformat()},
    )
    assert r.status_code == 422 and "pregnancy_id" in r.json["errors"]
