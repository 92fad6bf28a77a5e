"""Audit point 4: preterm and low-birth-weight babies get a fundus (ROP) screening step.

Rule and source: 中国早产儿视网膜病变筛查指南（2014年）— screen babies born before 32 weeks or
under 2,000 g (and those a paediatrician asks for); the first exam at 4–6 weeks after birth or
at 31–32 weeks corrected (postmenstrual) age, whichever is later. content/protocols/eye_care.yaml,
verified: false until signed off.
"""

from __future__ import annotations

import datetime as dt

import pytest

from backend.care.engine import NOT_APPLICABLE, SubjectFacts, plan

BIRTH = dt.date(2026, 3, 1)


def _rop(protocols, *, ga_weeks=None, weight=None, flags=None):
    anchors = {"birth": BIRTH}
    ga = ga_weeks * 7 if ga_weeks is not None else None
    if ga is not None:
        anchors["lmp"] = BIRTH - dt.timedelta(days=ga)
    facts = SubjectFacts(
        kind="child",
        enrolled_on=BIRTH,
        anchors=anchors,
        sex="female",
        ga_at_birth_days=ga,
        birth_weight_g=weight,
        flags=flags or {},
    )
    steps = plan(facts, protocols, BIRTH, include_not_applicable=True)
    return next(s for s in steps if s.code == "rop_screening")


@pytest.mark.parametrize(
    ("ga_weeks", "opens_after_birth"),
    [
        # Born at 26 weeks: 31 weeks postmenstrual age is 5 weeks after birth, later than 4.
        (26, dt.timedelta(weeks=5)),
        # Born at 30 weeks: 31 weeks PMA is 1 week after birth; 4 weeks after birth is later.
        (30, dt.timedelta(weeks=4)),
        # Born at 24 weeks: 31 weeks PMA is 7 weeks after birth.
        (24, dt.timedelta(weeks=7)),
    ],
)
def test_first_exam_at_the_later_of_4_weeks_or_31_weeks_pma(protocols, ga_weeks, opens_after_birth):
    step = _rop(protocols, ga_weeks=ga_weeks, weight=1500)
    assert step.status != NOT_APPLICABLE
    assert step.opens_on == BIRTH + opens_after_birth
    assert step.verified is False and step.source.title.startswith("中国早产儿视网膜病变筛查指南")


def test_under_2000_g_at_term_is_screened(protocols):
    step = _rop(protocols, ga_weeks=37, weight=1900)
    assert step.status != NOT_APPLICABLE
    assert step.opens_on == BIRTH + dt.timedelta(weeks=4)


def test_a_paediatrician_can_ask_for_it(protocols):
    step = _rop(protocols, ga_weeks=34, weight=2300, flags={"rop_screening_requested": True})
    assert step.status != NOT_APPLICABLE


def test_32_weeks_and_2000_g_are_not_screened_by_the_birth_criteria(protocols):
    assert _rop(protocols, ga_weeks=32, weight=2000).status == NOT_APPLICABLE
