"""content/regimens/folic_acid.yaml: the real file, the rules it drives, and broken files."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml
from flask import Flask

from backend import regimens
from backend.regimens.folic_acid import (
    CONTENT_DIR,
    FOLIC_ACID_FILE,
    RegimenContentError,
    build_folic_acid,
    load_folic_acid,
)

TEXT = (CONTENT_DIR / FOLIC_ACID_FILE).read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def folic():
    return load_folic_acid()


def test_the_file_loads_with_four_tiers_the_standard_first(folic):
    assert [t.code for t in folic.tiers] == ["standard", "raised", "high", "very_high"]
    standard = folic.default_tier
    assert standard.lead_days == 90 and not standard.ask_doctor and not standard.risk_factors
    assert "0.4" in standard.dose_in("zh_CN") and "0.4 mg" in standard.dose_in("en")
    assert all(t.ask_doctor for t in folic.tiers[1:])


def test_memory_facts_are_never_verified(folic):
    # The tier details are [M!] in the reference: every tier, the start and the stop say so.
    provenances = [t.provenance for t in folic.tiers] + [folic.start, folic.stop]
    assert all(not p.verified and p.note for p in provenances)
    assert all(any(i.startswith("M") for i in p.source.ids) for p in provenances)


def test_the_stop_is_the_conservative_reading_13_weeks_6_days(folic):
    assert folic.stop_ga_days == 13 * 7 + 6
    edd = dt.date(2027, 1, 1)
    assert folic.ends_on(edd) == edd - dt.timedelta(days=280) + dt.timedelta(days=97)
    assert "conservative" in folic.stop.note


@pytest.mark.parametrize(
    ("codes", "tier", "lead"),
    [
        ([], "standard", 90),
        (["diabetes"], "raised", 90),
        (["prior_ntd_pregnancy"], "high", 90),  # never later than everyone (issue 9)
        # the highest tier wins, and the longest lead time of the tiers she meets
        (["epilepsy", "prior_ntd_pregnancy"], "high", 90),
        (["hyperhomocysteinaemia", "partner_fathered_ntd"], "very_high", 90),
    ],
)
def test_tier_and_lead_time_from_risk_factors(folic, codes, tier, lead):
    assert folic.tier_for(codes).code == tier
    assert folic.lead_days_for(codes) == lead


def _broken(edit) -> list[str]:
    data = yaml.safe_load(TEXT)
    edit(data)
    with pytest.raises(RegimenContentError) as info:
        build_folic_acid("folic_acid.yaml", yaml.safe_dump(data, allow_unicode=True))
    return info.value.problems


@pytest.mark.parametrize(
    ("edit", "field"),
    [
        (lambda d: d["tiers"][2].pop("lead_days"), "tiers[2] (high).lead_days"),
        (lambda d: d["tiers"][1].update(lead_days=-1), "tiers[1] (raised).lead_days"),
        (lambda d: d["tiers"][1].update(ask_doctor="yes"), "tiers[1] (raised).ask_doctor"),
        (lambda d: d["tiers"][0]["dose"].pop("en"), "tiers[0] (standard).dose.en"),
        (lambda d: d["tiers"][2].update(verified=True), "tiers[2] (high).verified"),
        (lambda d: d["tiers"][3].pop("note"), "tiers[3] (very_high).note"),
        (lambda d: d["tiers"][2]["risk_factors"].append("smoking"), "(high).risk_factors"),
        (lambda d: d["tiers"][0]["risk_factors"].append("diabetes"), "(standard).risk_factors"),
        (
            lambda d: d["risk_factors"].update(
                smoking={"label": {"zh_CN": "吸烟", "en": "Smoking"}}
            ),
            "risk_factors.smoking",
        ),
        (lambda d: d["stop"]["at_ga"].update(days=7), "stop.at_ga.days"),
        (lambda d: d["start"].update(verified=True), "start.verified"),
        (lambda d: d.update(kind="iron"), "kind"),
        (lambda d: d.update(dose="0.4"), "dose"),
    ],
)
def test_a_broken_file_names_the_file_and_the_field(edit, field):
    problems = _broken(edit)
    assert any(p.startswith("folic_acid.yaml: field ") and field in p for p in problems), problems


def test_every_broken_section_is_reported_at_once():
    def edit(d):
        d["tiers"][1].pop("dose")
        d["stop"].pop("at_ga")

    problems = _broken(edit)
    assert len(problems) == 2 and "dose" in problems[0] and "stop.at_ga" in problems[1]


def test_duplicate_keys_and_bad_yaml_are_refused():
    with pytest.raises(RegimenContentError, match="duplicate key 'diabetes'"):
        build_folic_acid("x.yaml", TEXT.replace("  obesity:\n", "  diabetes:\n", 1))
    with pytest.raises(RegimenContentError, match=r"x\.yaml: YAML syntax error"):
        build_folic_acid("x.yaml", "tiers: [")


def test_a_broken_file_stops_the_app_at_start_up(tmp_path: Path):
    (tmp_path / FOLIC_ACID_FILE).write_text(TEXT.replace("lead_days: 90", "lead_days: soon", 1))
    app = Flask("broken")
    app.config["REGIMENS_DIR"] = str(tmp_path)
    with pytest.raises(RegimenContentError, match=r"folic_acid\.yaml: field .*lead_days"):
        regimens.init_app(app, None)  # type: ignore[arg-type]


def test_a_missing_file_is_named(tmp_path: Path):
    with pytest.raises(RegimenContentError, match=r"folic_acid\.yaml: cannot be read"):
        load_folic_acid(tmp_path)
