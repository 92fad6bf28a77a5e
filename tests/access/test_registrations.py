from backend.auth.models import Role


def _register(citizen, institution_id):
    return citizen.post("me/registrations", {"institution_id": str(institution_id)})


def test_doctor_sees_patient_only_while_registered(make_citizen, make_staff):
    doctor, doc_user = make_staff(Role.DOCTOR)
    mum, mum_id, _ = make_citizen("张丽")
    assert doctor.get("patients").json["items"] == []

    r = _register(mum, doc_user.institution_id)
    assert r.status_code == 201 and r.json["active"] is True
    listed = doctor.get("patients").json
    assert [p["id"] for p in listed["items"]] == [mum_id] and listed["total"] == 1

    assert mum.delete(f"me/registrations/{r.json['id']}").status_code == 200
    assert doctor.get("patients").json["items"] == []
    assert mum.get("me/registrations").json[0]["active"] is False


def test_registering_twice_is_a_conflict(citizen, make_staff):
    _, doc_user = make_staff(Role.DOCTOR)
    assert _register(citizen, doc_user.institution_id).status_code == 201
    r = _register(citizen, doc_user.institution_id)
    assert r.status_code == 409 and r.content_type == "application/problem+json"


def test_unknown_institution_names_the_field(citizen):
    r = _register(citizen, "7d4f6e4e-3f7a-4a6e-9c7e-1b2c3d4e5f60")
    assert r.status_code == 422 and "institution_id" in r.json["errors"]


def test_patients_of_another_institution_stay_hidden(make_citizen, make_staff):
    doctor_a, _ = make_staff(Role.DOCTOR)
    _, doc_b = make_staff(Role.DOCTOR)
    mum, _, _ = make_citizen()
    _register(mum, doc_b.institution_id)
    assert doctor_a.get("patients").json["total"] == 0


def test_patient_search_by_name_and_phone(make_citizen, make_staff):
    doctor, doc_user = make_staff(Role.DOCTOR)
    a, a_id, a_phone = make_citizen("陈静")
    b, _, _ = make_citizen("林芳")
    for c in (a, b):
        _register(c, doc_user.institution_id)
    assert [p["id"] for p in doctor.get("patients?q=陈").json["items"]] == [a_id]
    assert [p["id"] for p in doctor.get(f"patients?q={a_phone}").json["items"]] == [a_id]


def test_leaving_someone_elses_registration_is_404(make_citizen, make_staff):
    _, doc_user = make_staff(Role.DOCTOR)
    a, _, _ = make_citizen()
    b, _, _ = make_citizen()
    reg = _register(a, doc_user.institution_id).json
    assert b.delete(f"me/registrations/{reg['id']}").status_code == 404


def test_patient_list_query_count_is_constant(make_citizen, make_staff, count_queries):
    doctor, doc_user = make_staff(Role.DOCTOR)
    _register(make_citizen()[0], doc_user.institution_id)
    with count_queries() as few:
        assert doctor.get("patients").status_code == 200
    for _ in range(6):
        _register(make_citizen()[0], doc_user.institution_id)
    with count_queries() as many:
        assert doctor.get("patients").json["total"] == 7
    assert len(many) == len(few)
