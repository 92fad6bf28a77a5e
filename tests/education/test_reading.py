"""Reading: read and completed (the end, or a passed quiz); reach; the education service rate."""

from __future__ import annotations

import datetime as dt

import pytest

from backend.auth import service as auth_service
from backend.auth.models import Role
from tests.conftest import NOON, SHANGHAI, TODAY
from tests.education.conftest import days, iso


def _ok(r, status: int = 200):
    assert r.status_code == status, r.json
    return r.json


def test_a_read_is_recorded_once_and_a_completion_is_never_undone(citizen, publish):
    lesson = publish()
    path = f"lessons/{lesson.id}/reads"
    first = _ok(citizen.post(path, {}), 201)
    assert first["completed"] is False and first["completed_at"] is None
    done = _ok(citizen.post(path, {"completed": True}), 201)
    assert done["read_at"] == first["read_at"] and done["completed_at"] is not None
    again = _ok(citizen.post(path, {"completed": False}), 201)
    assert again["completed_at"] == done["completed_at"]
    content = _ok(citizen.get(f"lessons/{lesson.id}/content"))
    assert content["read"]["completed"] is True


def test_a_passed_quiz_completes_the_lesson_and_a_failed_one_does_not(citizen, publish):
    lesson = publish(quiz=True)
    content = _ok(citizen.get(f"lessons/{lesson.id}/content"))
    assert content["quiz"] == [{"question": "几毫克？", "options": ["0.4", "4"]}]  # no answer
    path = f"lessons/{lesson.id}/reads"
    failed = _ok(citizen.post(path, {"quiz_answers": [1]}), 201)
    assert (failed["quiz_score"], failed["quiz_total"], failed["quiz_passed"]) == (0, 1, False)
    assert failed["completed"] is False
    passed = _ok(citizen.post(path, {"quiz_answers": [0]}), 201)
    assert (passed["quiz_score"], passed["quiz_passed"], passed["completed"]) == (1, True, True)
    worse = _ok(citizen.post(path, {"quiz_answers": [1]}), 201)
    assert (worse["quiz_score"], worse["quiz_passed"], worse["completed"]) == (1, True, True)


def test_quiz_answers_must_fit_the_quiz(citizen, publish):
    with_quiz, without = publish(quiz=True, slug="with-quiz"), publish(slug="no-quiz")
    r = citizen.post(f"lessons/{with_quiz.id}/reads", {"quiz_answers": [0, 1]})
    assert r.status_code == 422 and "quiz_answers" in r.json["errors"]
    r = citizen.post(f"lessons/{without.id}/reads", {"quiz_answers": [0]})
    assert r.status_code == 422 and "quiz_answers" in r.json["errors"]


def test_drafts_and_unknown_lessons_answer_404_to_readers(citizen, educator):
    from tests.education.conftest import lesson_body

    draft = _ok(educator[0].post("lessons", lesson_body()), 201)
    for lesson_id in (draft["id"], "00000000-0000-0000-0000-000000000000"):
        assert citizen.get(f"lessons/{lesson_id}/content").status_code == 404
        assert citizen.post(f"lessons/{lesson_id}/reads", {}).status_code == 404


def test_reach_per_lesson_and_per_stage(make_citizen, publish, educator, frozen_clock):
    lesson = publish(quiz=True)
    other = publish(slug="sleep", stage="rearing", window=("child_age_month", 0, 12))
    readers = [make_citizen()[0] for _ in range(3)]
    frozen_clock(NOON - days(30))  # before the period below
    _ok(readers[0].post(f"lessons/{lesson.id}/reads", {"completed": True}), 201)
    frozen_clock(NOON)
    _ok(readers[1].post(f"lessons/{lesson.id}/reads", {"quiz_answers": [0]}), 201)
    _ok(readers[2].post(f"lessons/{lesson.id}/reads", {}), 201)
    _ok(readers[2].post(f"lessons/{other.id}/reads", {"completed": True}), 201)

    api = educator[0]
    reach = _ok(api.get(f"lessons/{lesson.id}/reach"))
    assert (reach["readers"], reach["completed"], reach["quiz_passed"]) == (3, 2, 1)
    assert reach["completion_rate"] == pytest.approx(2 / 3, abs=1e-4)
    assert reach["versions"] == [{"number": 1, "readers": 3, "completed": 2, "quiz_passed": 1}]
    period = f"from={iso(TODAY - days(7))}&to={iso(TODAY)}"
    recent = _ok(api.get(f"lessons/{lesson.id}/reach?{period}"))
    assert (recent["readers"], recent["completed"], recent["from"]) == (2, 1, iso(TODAY - days(7)))

    stages = {s["stage"]: s for s in _ok(api.get("education/reach"))}
    assert list(stages)[:2] == ["marriage", "pregnancy"] and len(stages) == 7
    pregnancy = stages["pregnancy"]
    assert pregnancy["colour"] == "orange" and pregnancy["published_lessons"] >= 1
    assert (pregnancy["reads"], pregnancy["readers"], pregnancy["completions"]) == (3, 3, 2)
    assert stages["rearing"]["completed_readers"] == 1
    assert stages["enjoyment"]["reads"] == 0
    assert _ok(api.get(f"education/reach?{period}"))[1]["completions"] == 1
    assert api.get("education/reach?from=2026-06-10&to=2026-06-01").status_code == 422


@pytest.fixture
def institution(db):
    def make(district: str = "330302"):
        inst = auth_service.create_institution(
            db,
            data={
                "name": f"中心 {district}",
                "kind": "community_health_centre",
                "district_code": district,
            },
        )
        db.commit()
        return inst

    return make


def test_the_education_service_rate_on_a_known_fixture(
    make_citizen, make_staff, institution, publish, frozen_clock
):
    """4 registered women 15-49 at A, 3 completed a lesson in June → 75%; B: 1 of 1."""
    lesson = publish(slug="any", stage="marriage", window=("woman_age_years", 20, 45))
    a, b = institution("330302"), institution("330304")

    def woman(inst, birth_date: str, sex: str | None = "female"):
        api, *_ = make_citizen()
        profile = {"birth_date": birth_date} | ({"sex": sex} if sex else {})
        _ok(api.patch("me", profile))
        _ok(api.post("me/registrations", {"institution_id": str(inst.id)}), 201)
        return api

    def complete(api):
        _ok(api.post(f"lessons/{lesson.id}/reads", {"completed": True}), 201)

    may = dt.datetime(2026, 5, 20, 10, 0, tzinfo=SHANGHAI)
    frozen_clock(may)
    late = woman(a, "1990-04-01")
    complete(late)  # completed, but before the period: not counted
    frozen_clock(NOON)
    for birth in ("1990-01-01", "2011-06-15", "1976-07-01"):  # 36, just 15, still 49
        complete(woman(a, birth))
    complete(woman(a, "1974-02-01"))  # 52: outside the age band
    complete(woman(a, "1990-01-01", sex="male"))  # a man is not counted
    no_birth_date = woman(a, "1990-01-01")
    _ok(no_birth_date.patch("me", {"birth_date": None}))
    complete(no_birth_date)  # cannot be placed in the age band
    pregnant = woman(b, "1995-01-01", sex=None)  # sex unknown, but a pregnancy in her handbook
    _ok(pregnant.post("me/pregnancies", {"lmp": iso(TODAY - days(70))}), 201)
    complete(pregnant)
    frozen_clock(dt.datetime(2026, 7, 2, 9, 0, tzinfo=SHANGHAI))
    complete(woman(b, "1995-01-01"))  # registered and completed after the period

    frozen_clock(NOON)
    admin = make_staff(Role.ADMIN)[0]
    r = admin.get("indicators/education?from=2026-06-01&to=2026-06-30")
    body = _ok(r)
    assert body["target"] == 0.95 and body["age_band"] == {"from": 15, "to": 49}
    by_inst = {i["institution_id"]: i for i in body["institutions"]}
    assert (by_inst[str(a.id)]["registered"], by_inst[str(a.id)]["completed"]) == (4, 3)
    assert by_inst[str(a.id)]["rate"] == 0.75 and by_inst[str(a.id)]["percent"] == 75.0
    assert by_inst[str(a.id)]["meets_target"] is False
    assert (by_inst[str(b.id)]["registered"], by_inst[str(b.id)]["completed"]) == (1, 1)
    assert by_inst[str(b.id)]["meets_target"] is True
    districts = {d["district_code"]: d for d in body["districts"]}
    assert (districts["330302"]["registered"], districts["330302"]["completed"]) == (4, 3)
    assert districts["330304"]["rate"] == 1.0
    assert (body["total"]["registered"], body["total"]["completed"]) == (5, 4)
    assert body["total"]["rate"] == 0.8

    may_only = _ok(admin.get("indicators/education?from=2026-05-01&to=2026-05-31"))
    assert (may_only["total"]["registered"], may_only["total"]["completed"]) == (1, 1)


def test_the_rate_is_for_admins_and_needs_a_period(make_staff, citizen, educator):
    admin = make_staff(Role.ADMIN)[0]
    assert admin.get("indicators/education").status_code == 422
    assert admin.get("indicators/education?from=2026-06-30&to=2026-06-01").status_code == 422
    empty = _ok(admin.get("indicators/education?from=2026-06-01&to=2026-06-30"))
    assert empty["total"] == {
        "registered": 0,
        "completed": 0,
        "rate": None,
        "percent": None,
        "meets_target": False,
    }
    assert citizen.get("indicators/education?from=2026-06-01&to=2026-06-30").status_code == 403
    assert educator[0].get("indicators/education?from=2026-06-01&to=2026-06-30").status_code == 403
