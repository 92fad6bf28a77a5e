"""The bureau's indicators over a small city counted by hand: twins, a stillbirth at 28+0 and
one at 27+6, a termination for a defect at 24 weeks, a woman who moved district; suppression
of small cells and of the cell that would give one away; scope, audit, CSV, query count."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from backend.auth.models import AuditEvent, Role
from backend.indicators import engine
from backend.indicators.definitions import definitions
from tests.indicators.conftest import LUCHENG, OUHAI

OCT = (dt.date(2026, 10, 1), dt.date(2026, 10, 31))
NOON = dt.datetime(2026, 11, 20, 12, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture(autouse=True)
def _noon(frozen_clock):
    frozen_clock(NOON)


def _compute(db, code, by=("district",), districts=None, min_cell=0):
    return engine.compute(
        db,
        definition=definitions()[code],
        since=OCT[0],
        until=OCT[1],
        by=by,
        districts=districts,
        today=NOON.date(),
        offset_minutes=480,
        min_cell=min_cell,
    )


def _cells(table, key="district_code"):
    return {c[key]: (c["numerator"], c["denominator"]) for c in table["rows"]}


def test_birth_defect_incidence_counted_by_hand(db, births):
    # Denominator: live births (twins twice) + stillbirths from 28+0 weeks; numerator: cases
    # (one per child) among them plus terminations for a defect (content/indicators).
    table = _compute(db, "birth_defect_incidence")
    assert _cells(table) == {LUCHENG: (3, 11), OUHAI: (1, 6)}
    total = table["total"]
    assert (total["numerator"], total["denominator"]) == (4, 17)
    assert total["value"] == round(4 / 17 * 1000, 2)  # per 1,000 births
    assert total["meets_target"] is False  # the target is < 15‰


def test_birth_defects_by_category_count_a_child_once_in_the_total(db, births):
    table = _compute(db, "birth_defect_incidence", by=("category",))
    cases = {c["category"]: c["numerator"] for c in table["rows"] if c["numerator"]}
    assert cases == {
        "congenital_heart_disease": 1,
        "polydactyly": 1,
        "anencephaly": 1,
        "down_syndrome": 1,
        "cleft_palate": 1,
    }
    assert {c["denominator"] for c in table["rows"]} == {17}
    assert len(table["rows"]) == 24  # the 23 monitored categories and "other"
    assert table["total"]["numerator"] == 4


def test_early_booking_and_anomaly_scan_by_hand(db, city):
    # Early booking: the first visit (建册) done within its window, which closes at 12+6.
    women = [city.woman(LUCHENG) for _ in range(6)]
    for i, w in enumerate(women):
        preg, _ = city.delivery(w, dt.date(2026, 10, 10))
        closes = preg.lmp + dt.timedelta(90)
        done = {0: closes, 1: closes - dt.timedelta(20), 2: closes + dt.timedelta(1)}.get(i)
        city.step(w, "pregnancy", preg.id, "ph_prenatal_1", closes, done_on=done)
        if i < 4:
            city.step(
                w,
                "pregnancy",
                preg.id,
                "anomaly_scan",
                preg.lmp + dt.timedelta(174),
                done_on=preg.lmp + dt.timedelta(150),
            )
    booking = _compute(db, "early_booking")["total"]
    assert (booking["numerator"], booking["denominator"]) == (2, 6)
    scan = _compute(db, "anomaly_scan_coverage")["total"]
    assert (scan["numerator"], scan["denominator"]) == (4, 6)


def test_wilson_interval_matches_newcombe_1998():
    # Newcombe, Stat Med 1998;17:857-72, table I (method 3, score interval).
    low, high = engine.wilson(81, 263, 1.96)
    assert (round(low, 4), round(high, 4)) == (0.2553, 0.3662)
    low, high = engine.wilson(0, 20, 1.96)
    assert (round(low, 4), round(high, 4)) == (0.0, 0.1611)


def test_small_cells_and_the_cell_that_would_give_one_away_are_hidden(db, city):
    # Lucheng 8 of 10 scanned: the 2 not scanned are below 5, so 8 is hidden. Ouhai 6 of 12
    # would then give Lucheng away (14 − 6), so it is hidden too; the total stays.
    for district, delivered, scanned in ((LUCHENG, 10, 8), (OUHAI, 12, 6)):
        for i in range(delivered):
            w = city.woman(district)
            preg, _ = city.delivery(w, dt.date(2026, 10, 3))
            if i < scanned:
                city.step(
                    w,
                    "pregnancy",
                    preg.id,
                    "anomaly_scan",
                    dt.date(2026, 4, 1),
                    done_on=dt.date(2026, 3, 20),
                )
    table = _compute(db, "anomaly_scan_coverage", min_cell=None)
    rows = {c["district_code"]: c for c in table["rows"]}
    assert rows[LUCHENG]["numerator"] is None and rows[LUCHENG]["suppressed"] == ["numerator"]
    assert rows[OUHAI]["numerator"] is None and rows[OUHAI]["suppressed"] == ["numerator"]
    assert rows[LUCHENG]["denominator"] == 10 and rows[LUCHENG]["value"] is None
    assert (table["total"]["numerator"], table["total"]["denominator"]) == (14, 22)


def test_bureau_reads_its_districts_only_counts_never_people_and_each_read_is_audited(
    db, births, bureau, make_staff
):
    admin, office = bureau
    url = "indicators/birth_defect_incidence?from=2026-10-01&to=2026-10-31"
    everywhere = admin.get(url).json
    assert {c["district_code"] for c in everywhere["rows"]} == {LUCHENG, OUHAI}
    mine = office.get(url).json
    assert [(c["district_code"], c["numerator"], c["denominator"]) for c in mine["rows"]] == [
        (OUHAI, None, 6)  # one case: fewer than 5, hidden
    ]
    assert mine["rows"][0]["district_name"] == "瓯海区"
    assert office.get(url + f"&district={LUCHENG}").status_code == 404
    doctor, _ = make_staff(Role.DOCTOR)
    assert doctor.get(url).status_code == 403
    assert office.get("indicators/no_such_thing?from=2026-10-01&to=2026-10-31").status_code == 404
    bad = office.get("indicators/early_booking?from=2026-10-01&to=2026-10-31&by=category")
    assert bad.status_code == 422 and "by" in bad.json["errors"]
    reads = db.scalar(
        select(func.count()).select_from(AuditEvent).where(AuditEvent.record_type == "Indicator")
    )
    assert reads == 2  # the admin's and the bureau's successful reads


def test_csv_is_the_same_table_with_hidden_counts_as_less_than_5(db, births, bureau):
    admin, _ = bureau
    r = admin.get("indicators/birth_defect_incidence?from=2026-10-01&to=2026-10-31&format=csv")
    assert r.status_code == 200 and r.mimetype == "text/csv"
    lines = r.get_data(as_text=True).lstrip("\ufeff").splitlines()
    assert lines[0].startswith("indicator,district_code,district_name")
    lucheng = next(line for line in lines if f",{LUCHENG}," in line).split(",")
    assert lucheng[6:8] == ["<5", "11"]
    assert lines[-1].split(",")[2] == "total"


def test_one_aggregate_statement_per_indicator_whatever_the_population(
    db, births, bureau, count_queries
):
    admin, _ = bureau
    url = "indicators/birth_defect_incidence?from=2026-10-01&to=2026-10-31&by=district,month"
    counts = []
    for more in (0, 10):
        for _ in range(more):
            births.delivery(births.woman(OUHAI), dt.date(2026, 10, 2))
        with count_queries() as statements:
            assert admin.get(url).status_code == 200
        counts.append(len(statements))
        assert sum("indicator_rows" in s for s in statements) == 1
    assert counts[0] == counts[1]


def test_the_definitions_say_what_counts_and_the_old_routes_read_the_same_files(db, births, bureau):
    admin, _ = bureau
    listed = {d["code"]: d for d in admin.get("indicators").json}
    expected = {
        "birth_defect_incidence", "prepregnancy_check_coverage", "premarital_check_uptake",
        "early_booking", "prenatal_visits_5plus", "prenatal_screening_coverage",
        "anomaly_scan_coverage", "ogtt_coverage", "prenatal_diagnosis_referral_completion",
        "high_risk_case_management", "newborn_heel_prick_coverage",
        "newborn_hearing_screening_coverage", "hearing_rescreen_completion",
        "postpartum_home_visit_coverage", "postpartum_42d_check_coverage",
        "postpartum_contraception_counselling", "folic_acid_uptake", "folic_acid_adherence",
        "child_health_checks_on_time", "vaccination_on_time", "education_service_rate",
        "reminder_effectiveness",
    }  # fmt: skip
    assert expected <= set(listed)
    assert listed["birth_defect_incidence"]["target"]["operator"] == "<"
    assert listed["birth_defect_incidence"]["target"]["value"] == 15
    assert all(d["verified"] is False and d["source"] for d in listed.values())
    education = listed["education_service_rate"]
    old = admin.get("indicators/education?from=2026-10-01&to=2026-10-31").json
    assert old["target"] == education["target"]["value"] / education["per"]
    assert admin.get("indicators/reminders?from=2026-10-01&to=2026-10-31").status_code == 200
    for code in listed:
        r = admin.get(f"indicators/{code}?from=2026-01-01&to=2026-10-31&by=district")
        assert r.status_code == 200, (code, r.json)


def test_the_demo_population_fills_the_indicators(db):
    from backend.indicators.demo import seed_population

    today = NOON.date()
    assert seed_population(db, today=today, births_per_month=2) is True
    assert seed_population(db, today=today, births_per_month=2) is False  # once
    since = today.replace(day=1) - dt.timedelta(days=365)
    for code in ("birth_defect_incidence", "anomaly_scan_coverage", "newborn_heel_prick_coverage"):
        table = engine.compute(
            db,
            definition=definitions()[code],
            since=since,
            until=today,
            by=("district",),
            districts=None,
            today=today,
            offset_minutes=480,
        )
        assert table["total"]["denominator"] > 50, code


def test_consent_based_counts_leave_out_women_who_did_not_agree(db, city):
    # Folic-acid check-ins are self-reported: counted only with her consent to anonymous
    # statistics (content/indicators/folic_acid_uptake.yaml, basis: consent); her latest
    # decision rules.
    from backend.access.models import Consent
    from backend.regimens.models import CheckIn, Regimen

    def woman_with_folic_acid(decisions):
        w = city.woman(LUCHENG)
        preg = city.loss(w, dt.date(2027, 1, 1), "miscarriage", 70)  # any pregnancy record
        preg.created_at = dt.datetime(2026, 10, 5, 2, tzinfo=dt.UTC)
        regimen = Regimen(
            user_id=w.id, kind="folic_acid", tier="standard", risk_factors=[],
            starts_on=preg.lmp - dt.timedelta(30), reminder_time=dt.time(8),
        )  # fmt: skip
        db.add(regimen)
        db.flush()
        db.add(CheckIn(regimen_id=regimen.id, on=preg.lmp, taken=True))
        for i, granted in enumerate(decisions):
            db.add(
                Consent(
                    user_id=w.id, purpose="anonymous_statistics", granted=granted,
                    text_version="t", at=dt.datetime(2026, 1, 1 + i, tzinfo=dt.UTC),
                )
            )  # fmt: skip
        db.flush()

    woman_with_folic_acid([True])
    woman_with_folic_acid([True, False])  # withdrew
    woman_with_folic_acid([])  # never asked
    total = _compute(db, "folic_acid_uptake")["total"]
    assert (total["numerator"], total["denominator"]) == (1, 1)
