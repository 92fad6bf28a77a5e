"""The monthly report from real rows: a chart per indicator with a monthly breakdown, each
indicator against its target, the suppressed cells marked; the CLI writes it, the bureau
downloads it."""

from __future__ import annotations

import datetime as dt
import re

from backend.indicators.definitions import definitions
from tests.indicators.conftest import LUCHENG, OUHAI


def test_bureau_downloads_the_report_of_its_district_only(db, births, bureau):
    _, office = bureau
    r = office.get(f"reports/monthly?district={OUHAI}&month=2026-10")
    assert r.status_code == 200 and r.mimetype == "text/html"
    page = r.get_data(as_text=True)
    monthly = [d for d in definitions().values() if "month" in d.breakdowns]
    assert page.count("<svg") == len(monthly)  # one trend chart per indicator
    for d in definitions().values():
        assert f'id="{d.code}"' in page
    # Ouhai in October: 1 case of 6 births, hidden; the < 15‰ target shown.
    row = re.search(r'id="birth_defect_incidence".*?</tr>', page, re.S).group(0)
    assert "&lt;5 / 6" in row and "&lt; 15 ‰" in row
    assert office.get(f"reports/monthly?district={LUCHENG}&month=2026-10").status_code == 404
    bad = office.get(f"reports/monthly?district={OUHAI}&month=2026-13")
    assert bad.status_code == 422 and "month" in bad.json["errors"]
    # Year 0 (found by the fuzzer: a 500 from strptime) is refused like any impossible month.
    year_zero = office.get(f"reports/monthly?district={OUHAI}&month=0000-01")
    assert year_zero.status_code == 422 and "month" in year_zero.json["errors"]


def test_cli_writes_the_html(app, db, births, tmp_path):
    out = tmp_path / "r.html"
    result = app.test_cli_runner().invoke(
        args=["report", "monthly", "--district", LUCHENG, "--month", "2026-10", "--out",
              str(out), "--no-pdf", "--locale", "en"]
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    page = out.read_text(encoding="utf-8")
    assert "Birth-defect incidence" in page and "Lucheng" in page
    assert page.count("<svg") >= 20
    assert dt.date(2026, 10, 1).strftime("%Y-%m") in page
