"""Audit point 10 and the review tooling: `verified` means a clinician signed it off.

Rules: no item whose source is memory (`M`, `M!`) may be `verified: true` (it was the case of
screening.growth_scan); a `verified: true` needs `verified_by`, `verified_on` and `verified_in`
(document and page), or the app refuses to start; `flask --app backend content review` writes the
review sheet (CSV and printable HTML) from the real content, with an unverified-only filter.
"""

from __future__ import annotations

import csv
import datetime as dt
import shutil
from pathlib import Path

import pytest

from backend import review
from backend.care.protocols import load_protocols

CONTENT = Path(__file__).resolve().parents[2] / "content"


def test_no_item_from_memory_is_verified():
    items = review.collect()
    assert len(items) > 200
    offenders = [f"{i.file}:{i.code}" for i in items if i.verified and i.from_memory]
    assert offenders == []
    growth = next(i for i in items if i.code == "growth_scan")
    assert growth.from_memory and not growth.verified


def test_the_real_content_passes_start_up_validation():
    assert review.problems(review.collect()) == []


@pytest.fixture
def content(tmp_path: Path) -> Path:
    """A copy of the clinical files to edit."""
    for sub in ("protocols", "contraception", "benefits", "regimens", "dating"):
        shutil.copytree(CONTENT / sub, tmp_path / sub)
    return tmp_path


def _sign(content: Path, old: str, new: str) -> None:
    path = content / "protocols" / "prenatal_public_health.yaml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


VISIT_2 = """  - code: ph_prenatal_2
    window: {opens: 16w, closes: 20w6d}"""
UNSIGNED = "    verified: false\n    note: >-\n"


def _visit_2_block(content: Path) -> str:
    text = (content / "protocols" / "prenatal_public_health.yaml").read_text(encoding="utf-8")
    start = text.index(VISIT_2)
    return text[start : text.index("    parts:", start)]


def test_verified_without_a_sign_off_stops_the_app(content: Path):
    block = _visit_2_block(content)
    _sign(content, block, block.replace("verified: false", "verified: true", 1))
    with pytest.raises(review.ContentReviewError) as error:
        review.validate(content)
    message = str(error.value)
    assert "content/protocols/prenatal_public_health.yaml: item ph_prenatal_2" in message
    for name in ("verified_by", "verified_on", "verified_in"):
        assert f"field {name}: required" in message


def test_a_full_sign_off_is_accepted_and_the_loaders_read_it(content: Path):
    block = _visit_2_block(content)
    signed = block.replace(
        "verified: false",
        "verified: true\n    verified_by: 王医生 (温州市妇幼保健院)\n"
        "    verified_on: 2026-12-01\n"
        "    verified_in: {document: 国家基本公共卫生服务规范（第三版）, page: 87}",
        1,
    )
    _sign(content, block, signed)
    items = review.validate(content)
    visit = next(i for i in items if i.code == "ph_prenatal_2")
    assert (visit.verified, visit.verified_by, visit.verified_on) == (
        True,
        "王医生 (温州市妇幼保健院)",
        "2026-12-01",
    )
    assert visit.verified_in == "国家基本公共卫生服务规范（第三版）, p. 87"
    loaded = load_protocols(content / "protocols").item("ph_prenatal_2")
    assert loaded.verified is True
    assert loaded.signoff == {  # what the API shows next to source.verified
        "verified_by": "王医生 (温州市妇幼保健院)",
        "verified_on": "2026-12-01",
        "verified_in": "国家基本公共卫生服务规范（第三版）, p. 87",
    }
    rows = review.review_rows(items, unverified_only=True)
    assert "ph_prenatal_2" not in {r["code"] for r in rows}
    assert len(rows) == len(items) - 1


def test_a_memory_source_cannot_be_signed_off(content: Path):
    path = content / "protocols" / "screening.yaml"
    text = path.read_text(encoding="utf-8")
    start = text.index("  - code: growth_scan")
    block = text[start : text.index("    results:", start)]
    signed = block.replace(
        "verified: false",
        "verified: true\n    verified_by: 王医生\n    verified_on: 2026-12-01\n"
        "    verified_in: {document: 孕前和孕期保健指南（2018）, page: 9}",
        1,
    )
    path.write_text(text.replace(block, signed, 1), encoding="utf-8")
    with pytest.raises(review.ContentReviewError, match=r"growth_scan: field verified: cannot"):
        review.validate(content)


def test_the_review_sheet_is_generated_from_the_real_content(app, tmp_path: Path):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["content", "review", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    with open(tmp_path / "review-sheet.csv", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    items = review.collect()
    assert len(rows) == len(items)
    assert tuple(rows[0]) == review.COLUMNS
    rop = next(r for r in rows if r["code"] == "rop_screening")
    assert rop["verified"] == "no" and "32w" in rop["says"] and rop["source_title"]
    coc_row = next(r for r in rows if r["code"] == "postpartum_breastfeeding_lt_6w")
    assert "coc: 4" in coc_row["says"] and "/me/contraception" in coc_row["used_by"]
    html = (tmp_path / "review-sheet.html").read_text(encoding="utf-8")
    assert html.startswith("<!doctype html>") and "rop_screening" in html
    assert f"{len(items)} items" in html and dt.date.today().isoformat() in html
    unverified = runner.invoke(args=["content", "review", "--unverified", "--out", str(tmp_path)])
    assert unverified.exit_code == 0 and "not verified" in unverified.output


def test_the_api_says_per_step_and_per_advice_whether_its_rule_is_verified(citizen):
    citizen.post("me/children", {"sex": "female", "birth_date": dt.date.today().isoformat()})
    steps = citizen.get("me/schedule?page_size=50&view=full").json["items"]
    assert steps and all(s["source"]["verified"] is False for s in steps)
    methods = citizen.get("me/contraception").json["methods"]
    rated = [m for m in methods if m["reasons"]]
    assert rated and all(m["verified"] is False for m in methods)
    assert all("verified" in r for m in rated for r in m["reasons"])
