"""Her export is streamed section by section (no row limit) and holds every registered section."""

from __future__ import annotations

import uuid

from sqlalchemy import insert

from backend.auth.models import AuditEvent


def test_the_export_is_streamed_with_every_registered_section(app, citizen):
    r = citizen.get("me/export")
    assert r.status_code == 200 and r.is_streamed and r.mimetype == "application/json"
    assert set(r.json) == set(app.extensions["export_sections"])
    # Sections the response schema used to drop are there too (issue 10).
    assert r.json["birth_defects"] == [] and r.json["prenatal_diagnoses"] == []


def test_the_access_log_is_not_cut_off_at_ten_thousand_rows(citizen, db):
    """The export once read the access log as one page of 10,000 rows."""
    owner = uuid.UUID(citizen.get("me").json["id"])
    row = {"owner_id": owner, "actor_role": "doctor", "action": "read", "record_type": "Profile"}
    db.execute(insert(AuditEvent), [{**row, "id": uuid.uuid4()} for _ in range(10_001)])
    db.commit()
    assert len(citizen.get("me/export").json["access_log"]) == 10_001
