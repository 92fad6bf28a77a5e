"""Audit point 7: the DTaP transition applies to doses not yet given.

Rule and source: from 2025-01-01 DTaP is given at 2, 4, 6 and 18 months and 6 years, DT leaves
the routine schedule, and a child who started the old series gets the remaining doses at the
new ages (国家疾控局等六部门通知 [C61]; reference §6, the transition [M!]). So a dose of the 2021
schedule still pending on 2025-01-01, whose window opened before that day, follows the 2025
version; a dose already given keeps its 2021 record.
"""

from __future__ import annotations

import datetime as dt

from backend.care.engine import DONE, SubjectFacts, plan

D = dt.date


def _dose(protocols, code, birth, today, completed=None):
    facts = SubjectFacts(
        kind="child",
        enrolled_on=birth,
        anchors={"birth": birth},
        sex="male",
        completed=completed or {},
    )
    return next(s for s in plan(facts, protocols, today) if s.code == code)


def test_a_dtap_dose_opened_in_2024_and_still_pending_moves_to_the_2025_ages(protocols):
    birth = D(2024, 7, 1)
    # 2021: dose 3 at 5 months, open from 2024-12-01; 2025: dose 3 at 6 months (2025-01-01).
    step = _dose(protocols, "dtap_3", birth, D(2025, 1, 15))
    assert step.version == "2025.01"
    assert step.opens_on == D(2025, 1, 1)


def test_a_dose_given_in_2024_keeps_its_2021_record(protocols):
    birth = D(2024, 7, 1)
    step = _dose(
        protocols, "dtap_3", birth, D(2025, 1, 15), completed={"dtap_3": (D(2024, 12, 5), None)}
    )
    assert (step.status, step.version) == (DONE, "2021")


def test_a_dt_dose_still_open_in_2025_becomes_dtap(protocols):
    birth = D(2018, 6, 1)  # DT at 6 years opened 2024-06-01, open until the 7th birthday
    step = _dose(protocols, "dtp_6y", birth, D(2025, 3, 1))
    assert step.version == "2025.01"
    assert step.title["en"] == "DTaP dose 5 (6 years)"
    assert step.opens_on == D(2025, 1, 1)


def test_a_dose_already_missed_before_2025_stays_missed_under_2021(protocols):
    birth = D(2022, 1, 1)  # DTaP dose 3 (before 12 months) closed 2022-12-31
    step = _dose(protocols, "dtap_3", birth, D(2025, 3, 1))
    assert step.version == "2021" and step.status == "missed"
