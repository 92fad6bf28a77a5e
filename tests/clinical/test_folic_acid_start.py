"""Audit point 8: folic acid for high-risk women starts no later than for everyone else.

Rule and source: the standard regimen starts 3 months (90 days) before conception [C9][C10];
after a neural-tube-defect pregnancy the dose is 4 mg [C13], and the 2017 guideline's "at least
1 month before" [M!] is a minimum, never a reason to start later than the standard 90 days.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from backend.regimens.folic_acid import (
    FOLIC_ACID_FILE,
    RegimenContentError,
    load_folic_acid,
)

CONTENT = Path(__file__).resolve().parents[2] / "content" / "regimens"


def test_every_tier_starts_at_least_as_early_as_the_standard_tier():
    folic = load_folic_acid()
    standard = folic.lead_days_for([])
    assert standard == 90
    for tier in folic.tiers:
        for factor in tier.risk_factors:
            assert folic.lead_days_for([factor]) >= standard, factor
    assert folic.lead_days_for(["prior_ntd_pregnancy"]) >= 90


def test_the_loader_refuses_a_higher_tier_that_starts_later(tmp_path: Path):
    data = yaml.safe_load((CONTENT / FOLIC_ACID_FILE).read_text(encoding="utf-8"))
    high = next(t for t in data["tiers"] if t["code"] == "high")
    high["lead_days"] = 30
    (tmp_path / FOLIC_ACID_FILE).write_text(yaml.safe_dump(data, allow_unicode=True))
    with pytest.raises(RegimenContentError, match=r"high\)\.lead_days: must be at least"):
        load_folic_acid(tmp_path)
