"""Dating: Naegele and the ACOG CO 700 table as data, ultrasound redating and its history."""

import datetime as dt

import pytest
import yaml

from backend.handbook import dating
from tests.handbook.conftest import days_ago

D = dt.date


# --- the rules, without a database ------------------------------------------------------------


def test_naegele_adds_280_days():
    assert dating.edd_from_lmp(D(2026, 1, 1)) == D(2026, 10, 8)
    assert dating.dating_lmp(D(2026, 10, 8)) == D(2026, 1, 1)


def test_cycle_length_shifts_the_edd_by_the_difference_from_28():
    assert dating.edd_from_lmp(D(2026, 1, 1), 32) == D(2026, 10, 12)
    assert dating.edd_from_lmp(D(2026, 1, 1), 25) == D(2026, 10, 5)


def test_gestational_age_is_weeks_and_days_from_the_dating_lmp():
    ga = dating.gestational_age(D(2026, 10, 8), D(2026, 3, 10))
    assert (ga.weeks, ga.days, ga.total_days) == (9, 5, 68)


def test_ultrasound_edd_is_scan_date_plus_280_minus_its_ga():
    assert dating.edd_from_ultrasound(D(2026, 3, 10), 8 * 7) == D(2026, 10, 20)


@pytest.mark.parametrize(
    ("weeks", "days", "threshold"),
    [
        (0, 0, 5),
        (8, 6, 5),
        (9, 0, 7),
        (13, 6, 7),
        (14, 0, 7),
        (15, 6, 7),
        (16, 0, 10),
        (21, 6, 10),
        (22, 0, 14),
        (27, 6, 14),
        (28, 0, 21),
        (41, 0, 21),
    ],
)
def test_acog_bands_and_thresholds(weeks, days, threshold):
    assert dating.redating_rule().band_for(weeks * 7 + days).threshold_days == threshold


def test_the_rule_file_carries_its_source_and_tags():
    data = yaml.safe_load((dating.CONTENT_DIR / "acog-co700.yaml").read_text(encoding="utf-8"))
    assert "Committee Opinion No. 700" in data["source"]["name"]
    assert data["tags"] == ["C28", "C29"]
    assert len(data["bands"]) == 6


@pytest.mark.parametrize(("us_ga_days", "exceeds"), [(70 - 7, False), (70 - 8, True), (77, False)])
def test_redate_only_when_the_discrepancy_is_over_the_threshold(us_ga_days, exceeds):
    # By dates the scan is at 10+0 (band 9+0–13+6: threshold 7 days).
    dates_edd = dating.edd_from_lmp(D(2026, 1, 1))
    a = dating.assess_ultrasound(dates_edd=dates_edd, scan_date=D(2026, 3, 12), ga_days=us_ga_days)
    assert a.ga_by_dates_days == 70
    assert a.band.threshold_days == 7
    assert a.exceeds is exceeds


def test_age_in_years_counts_completed_years():
    assert dating.age_in_years(D(2023, 3, 11), D(2026, 3, 10)) == 2
    assert dating.age_in_years(D(2023, 3, 10), D(2026, 3, 10)) == 3
    assert dating.age_in_years(D(2024, 2, 29), D(2025, 2, 28)) == 1


# --- over HTTP --------------------------------------------------------------------------------


def _scan(api, pregnancy_id, *, scan_days_ago=0, weeks, days=0, **extra):
    body = {
        "ultrasound": {"scan_date": days_ago(scan_days_ago), "ga_weeks": weeks, "ga_days": days},
        **extra,
    }
    return api.patch(f"pregnancies/{pregnancy_id}", body)


def test_an_ultrasound_over_the_threshold_replaces_the_lmp_dating(pregnant):
    api, _, p = pregnant()  # 10+0 by LMP today
    r = _scan(api, p["id"], weeks=8, days=6, reason="CRL")  # 8 days smaller: over 7
    assert r.status_code == 200, r.json
    body = r.json
    assert body["edd_source"] == "ultrasound"
    assert body["edd"] == (dt.date.fromisoformat(days_ago(0)) + dt.timedelta(280 - 62)).isoformat()
    assert body["gestational_age"] == {"weeks": 8, "days": 6}
    last = body["dating_history"][-1]
    assert last["replaced"] is True and last["decision"] == "replaced"
    assert (last["discrepancy_days"], last["threshold_days"], last["rule"]) == (8, 7, "acog-co700")
    assert last["previous_edd"] == p["edd"] and last["edd"] == body["edd"]
    assert last["ultrasound"] == {"scan_date": days_ago(0), "ga": {"weeks": 8, "days": 6}}


def test_an_ultrasound_within_the_threshold_keeps_the_lmp_dating(pregnant):
    api, _, p = pregnant()
    r = _scan(api, p["id"], weeks=9, days=0)  # 7 days: not over 7
    assert r.status_code == 200
    assert (r.json["edd"], r.json["edd_source"]) == (p["edd"], "lmp")
    last = r.json["dating_history"][-1]
    assert last["replaced"] is False and last["decision"] == "within_threshold"
    assert last["proposed_edd"] != p["edd"], "what the scan implied is kept for the record"


def test_a_later_scan_never_redates_after_the_first(pregnant):
    api, _, p = pregnant(lmp_days_ago=140)  # 20+0 by LMP
    first = _scan(api, p["id"], scan_days_ago=70, weeks=10).json  # within threshold
    assert first["edd_source"] == "lmp"
    r = _scan(api, p["id"], weeks=16)  # 4 weeks off, but later than the first scan
    assert r.json["edd"] == p["edd"]
    assert r.json["dating_history"][-1]["decision"] == "later_scan"


def test_an_earlier_scan_entered_late_is_the_one_that_decides(pregnant):
    api, _, p = pregnant(lmp_days_ago=140)
    assert _scan(api, p["id"], weeks=20).json["edd_source"] == "lmp"
    r = _scan(api, p["id"], scan_days_ago=77, weeks=7)  # at 9+0 by LMP: 14 days off
    assert r.json["edd_source"] == "ultrasound"
    assert r.json["dating_history"][-1]["decision"] == "replaced"


def test_a_corrected_lmp_redates_unless_an_ultrasound_rules(pregnant):
    api, _, p = pregnant()
    r = api.patch(f"pregnancies/{p['id']}", {"lmp": days_ago(63), "reason": "typo"})
    assert r.status_code == 200
    assert r.json["lmp"] == days_ago(63) and r.json["gestational_age"] == {"weeks": 9, "days": 0}
    assert r.json["dating_history"][-1]["decision"] == "dates_corrected"
    assert _scan(api, p["id"], weeks=7).json["edd_source"] == "ultrasound"  # 14 days off
    r = api.patch(f"pregnancies/{p['id']}", {"lmp": days_ago(65)})
    assert r.json["edd_source"] == "ultrasound"
    assert r.json["dating_history"][-1]["decision"] == "ultrasound_in_force"


def test_a_corrected_edd_redates(pregnant):
    api, _, p = pregnant()
    edd = days_ago(-200)
    r = api.patch(f"pregnancies/{p['id']}", {"edd": edd})
    assert (r.json["edd"], r.json["edd_source"], r.json["lmp"]) == (edd, "edd", None)


@pytest.mark.parametrize(
    ("ultrasound", "path"),
    [
        ({"scan_date": days_ago(-1), "ga_weeks": 10}, ("ultrasound", "scan_date")),
        ({"scan_date": days_ago(80), "ga_weeks": 10}, ("ultrasound", "scan_date")),
        ({"scan_date": days_ago(0), "ga_weeks": 10, "ga_days": 7}, ("ultrasound", "ga_days")),
        ({"scan_date": days_ago(0), "ga_weeks": 3}, ("ultrasound", "ga_weeks")),
        ({"scan_date": days_ago(0), "ga_weeks": "ten"}, ("ultrasound", "ga_weeks")),
        ({"scan_date": days_ago(0)}, ("ultrasound", "ga_weeks")),
        ({"scan_date": days_ago(0), "ga_weeks": 10, "crl_mm": 31}, ("ultrasound", "crl_mm")),
    ],
)
def test_a_bad_ultrasound_is_422_naming_the_nested_field(pregnant, ultrasound, path):
    api, _, p = pregnant()
    r = api.patch(f"pregnancies/{p['id']}", {"ultrasound": ultrasound})
    assert r.status_code == 422, r.json
    assert path[1] in r.json["errors"][path[0]]
    assert len(api.get(f"pregnancies/{p['id']}").json["dating_history"]) == 1


def test_a_scan_dating_the_pregnancy_beyond_44_weeks_is_refused(pregnant):
    api, _, p = pregnant(lmp_days_ago=300)
    r = _scan(api, p["id"], scan_days_ago=100, weeks=30)
    assert r.status_code == 422 and "ga_weeks" in r.json["errors"]["ultrasound"]


@pytest.mark.parametrize(
    "body",
    [
        {"reason": "no change"},
        {"lmp": days_ago(60), "edd": days_ago(-200)},
        {"lmp": days_ago(60), "ultrasound": {"scan_date": days_ago(0), "ga_weeks": 9}},
    ],
)
def test_a_patch_brings_at_most_one_dating_change_and_a_reason_only_with_it(pregnant, body):
    api, _, p = pregnant()
    r = api.patch(f"pregnancies/{p['id']}", body)
    assert r.status_code == 422


def test_the_dating_of_a_closed_pregnancy_cannot_change(pregnant):
    api, _, p = pregnant()
    end = {"kind": "miscarriage", "ended_on": days_ago(0)}
    assert api.post(f"pregnancies/{p['id']}/end", end).status_code == 200
    assert _scan(api, p["id"], weeks=8).status_code == 409
