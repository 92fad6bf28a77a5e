"""Life stages as a pure function of a person's facts (no database)."""

import datetime as dt
import uuid

import pytest

from backend.handbook import stages
from backend.handbook.stages import ChildFacts, PersonFacts, PregnancyFacts

TODAY = dt.date(2026, 3, 10)
ME = uuid.uuid4()


def _derive(**facts):
    return stages.derive(PersonFacts(id=ME, **{"birth_date": None, **facts}), today=TODAY)


def _names(found):
    return [(s.stage, s.colour) for s in found]


def _years_before(years, days=0):
    return TODAY.replace(year=TODAY.year - years) - dt.timedelta(days=days)


def test_the_yaml_declares_seven_stages_in_order_and_cites_the_design():
    assert tuple(stages.rules()) == stages.STAGE_NAMES
    assert "DESIGN.md §2" in stages.STAGES_FILE.read_text(encoding="utf-8")


def test_no_facts_means_marriage():
    found = _derive()
    assert _names(found) == [("marriage", "red")]
    assert found[0].subject == stages.Subject("woman", ME) and found[0].since is None


def test_an_ongoing_pregnancy_replaces_marriage():
    p = PregnancyFacts(id=uuid.uuid4(), status="ongoing", dating_lmp=dt.date(2026, 1, 1))
    found = _derive(pregnancies=[p])
    assert _names(found) == [("pregnancy", "orange")]
    assert found[0].subject == stages.Subject("pregnancy", p.id)
    assert found[0].since == dt.date(2026, 1, 1)


@pytest.mark.parametrize(("days", "in_birth"), [(0, True), (42, True), (43, False)])
def test_birth_lasts_to_42_days_postpartum(days, in_birth):
    delivered = TODAY - dt.timedelta(days=days)
    p = PregnancyFacts(uuid.uuid4(), "delivered", dt.date(2025, 6, 1), delivered_on=delivered)
    child = ChildFacts(uuid.uuid4(), delivered, born_of_recorded_pregnancy=True)
    found = _derive(pregnancies=[p], children=[child])
    assert _names(found) == ([("birth", "yellow")] if in_birth else []) + [("rearing", "green")]


def test_a_mother_who_joined_after_the_birth_is_in_birth_through_the_child():
    child = ChildFacts(uuid.uuid4(), TODAY - dt.timedelta(days=10))
    found = _derive(children=[child])
    assert _names(found) == [("birth", "yellow"), ("rearing", "green")]
    assert found[0].subject == stages.Subject("woman", ME)


def test_a_father_is_not_in_birth():
    child = ChildFacts(uuid.uuid4(), TODAY - dt.timedelta(days=10), relation="father")
    assert _names(_derive(children=[child])) == [("rearing", "green")]


def test_twins_born_the_same_day_make_one_birth_and_two_rearings():
    born = TODAY - dt.timedelta(days=3)
    twins = [ChildFacts(uuid.uuid4(), born), ChildFacts(uuid.uuid4(), born)]
    assert _names(_derive(children=twins)) == [
        ("birth", "yellow"),
        ("rearing", "green"),
        ("rearing", "green"),
    ]


@pytest.mark.parametrize(
    ("birth_date", "expected"),
    [
        (_years_before(3, days=-1), [("rearing", "green")]),
        (_years_before(3), [("education", "cyan")]),
        (_years_before(18, days=-1), [("education", "cyan")]),
        (_years_before(18), [("marriage", "red")]),
    ],
    ids=["day-before-3rd-birthday", "3rd-birthday", "day-before-18th", "18th-birthday"],
)
def test_child_age_bands(birth_date, expected):
    assert _names(_derive(children=[ChildFacts(uuid.uuid4(), birth_date)])) == expected


def test_pregnant_while_rearing_and_educating():
    p = PregnancyFacts(uuid.uuid4(), "ongoing", dt.date(2026, 1, 1))
    kids = [ChildFacts(uuid.uuid4(), _years_before(2)), ChildFacts(uuid.uuid4(), _years_before(6))]
    found = _derive(pregnancies=[p], children=kids)
    assert _names(found) == [("pregnancy", "orange"), ("rearing", "green"), ("education", "cyan")]
    assert found[2].since == kids[1].birth_date.replace(year=kids[1].birth_date.year + 3)


def test_an_ended_pregnancy_leaves_no_pregnancy_or_birth_stage():
    p = PregnancyFacts(uuid.uuid4(), "ended", dt.date(2025, 12, 1))
    assert _names(_derive(pregnancies=[p])) == [("marriage", "red")]


@pytest.mark.parametrize(
    ("age", "expected"),
    [
        (44, [("marriage", "red")]),
        (45, [("care", "blue")]),
        (59, [("care", "blue")]),
        (60, [("enjoyment", "purple")]),
    ],
)
def test_own_age_bands(age, expected):
    found = _derive(birth_date=_years_before(age))
    assert _names(found) == expected


def test_care_goes_with_other_stages_but_marriage_does_not():
    kid = ChildFacts(uuid.uuid4(), _years_before(10))
    found = _derive(birth_date=_years_before(50), children=[kid])
    assert _names(found) == [("education", "cyan"), ("care", "blue")]
