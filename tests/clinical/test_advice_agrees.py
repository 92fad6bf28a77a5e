"""Audit point 9: advice that agrees with itself.

Rules and sources:
- Post-abortion care (人工流产后避孕服务规范 2018 [contraception-and-leave:C1]) follows an induced
  abortion; the care steps and the free-service row (content/contraception/services.yaml) apply
  to the same losses.
- After a loss, reminders follow the gentler rule of content/reminders.yaml (`after_loss`): no
  reminder before the window, no second nudge, no escalation to the doctor's call list.
- IUD after a birth: the postpartum contraception lesson and the eligibility engine both give
  the China practice (3 months after a vaginal birth, 6 after a caesarean [C54][C55]).
- With postpartum facts unknown a method shows at least the postpartum floor (WHO MEC [S1]).
- GBS (35–37 weeks) is required or optional in one place only.
- HPV (2025 notice [C62]): girls born on or after 2011-11-10, from age 13, no upper age.
- The heel-prick note says what whole-day dates can and cannot promise (48 hours).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml

from backend.care.engine import SubjectFacts, plan
from backend.contraception.eligibility import (
    NOT_OFFERED,
    WomanFacts,
    assess,
)
from backend.contraception.loading import load_eligibility
from backend.reminders import rules as reminder_rules

CONTENT = Path(__file__).resolve().parents[2] / "content"
PAC_CODES = ("post_abortion_care", "post_abortion_followup_1m")


@pytest.fixture(scope="module")
def table():
    return load_eligibility()


def _pregnancy_end(protocols, kind: str, ga_weeks: int):
    ended = dt.date(2026, 6, 1)
    facts = SubjectFacts(
        kind="pregnancy",
        enrolled_on=ended - dt.timedelta(weeks=ga_weeks),
        anchors={"lmp": ended - dt.timedelta(weeks=ga_weeks), "pregnancy_end": ended},
        flags={"pregnancy_end_kind": kind},
        ended_on=ended,
    )
    return {s.code for s in plan(facts, protocols, ended)}


@pytest.mark.parametrize(
    ("kind", "induced"),
    [("termination", True), ("miscarriage", False), ("ectopic", False)],
)
def test_post_abortion_care_steps_and_service_cover_the_same_losses(
    protocols, table, kind, induced
):
    steps = _pregnancy_end(protocols, kind, 10)
    assert (set(PAC_CODES) <= steps) is induced
    facts = WomanFacts(
        abortion_on=dt.date(2026, 6, 1), abortion_ga_weeks=10, abortion_induced=induced
    )
    services = {s.code for s in assess(facts, table, dt.date(2026, 6, 2)).services}
    assert ("post_abortion_care" in services) is induced


def test_reminders_after_a_loss_are_gentler():
    rules = reminder_rules.load()
    standard = rules.offsets_for("ph_prenatal_2")
    assert {"before", "nudge_2", "escalation"} <= set(standard)
    for code in PAC_CODES:
        gentle = rules.offsets_for(code)
        assert "escalation" not in gentle and "before" not in gentle and "nudge_2" not in gentle
        assert "due" in gentle


def test_the_iud_advice_after_a_birth_agrees_with_the_lesson(table):
    lesson = (CONTENT / "lessons/birth/postpartum-contraception/en.md").read_text()
    assert "3 months after a vaginal birth" in lesson and "6 months after a caesarean" in lesson
    five_weeks = WomanFacts(last_birth_on=dt.date(2026, 5, 1), breastfeeding=True)
    iud = assess(five_weeks, table, dt.date(2026, 6, 5), "en").method("cu_iud")
    advice = " ".join(iud.advice)
    assert "3 months after a vaginal birth" in advice and "6 months after a caesarean" in advice


def test_unknown_feeding_keeps_the_postpartum_floor(table):
    # 3 weeks after a birth, feeding unknown: combined pill at least as strict as the
    # breastfeeding row (4), never the 'not breastfeeding, 21–42 days' 2 [S1].
    facts = WomanFacts(last_birth_on=dt.date(2026, 5, 11))
    coc = assess(facts, table, dt.date(2026, 6, 1)).method("coc")
    assert (coc.category, coc.offer) == (4, NOT_OFFERED)


def test_gbs_is_required_or_optional_in_one_place(protocols):
    places = [
        (item.code, part.code)
        for code in protocols.codes()
        for item in [protocols.item(code)]
        for part in item.parts
        if "gbs" in part.code
    ]
    assert places == []
    assert protocols.item("gbs_screen").optional is False


def test_hpv_has_no_upper_age_before_the_handbook_stops(protocols):
    girl = SubjectFacts(
        kind="child",
        enrolled_on=dt.date(2012, 1, 1),
        anchors={"birth": dt.date(2012, 1, 1)},
        sex="female",
    )
    at_16 = {s.code: s for s in plan(girl, protocols, dt.date(2028, 3, 1))}
    assert at_16["hpv_1"].status == "overdue"  # 16 years old: still offered, not missed
    assert at_16["hpv_1"].opens_on == dt.date(2025, 11, 10)  # the programme's first day


def test_the_heel_prick_note_says_what_dates_cannot_promise(protocols):
    note = protocols.item("heel_prick").note
    assert "48 hours" in note and "NOT promise" in note
    raw = yaml.safe_load((CONTENT / "protocols/newborn_screening.yaml").read_text())
    assert raw["items"][0]["window"]["opens"] == "2d"
