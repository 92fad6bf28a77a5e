"""The monthly report a district bureau prints: every indicator for the month against its
target, a 12-month trend chart per indicator (matplotlib, inline SVG), suppressed cells marked.

One aggregate statement per indicator (by month, over the 12 months ending with the report's
month); the charts are drawn from those few rows. PDF is printed by a headless Chromium when
the machine has one (`pdf`).
"""

from __future__ import annotations

import datetime as dt
import html
import io
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from flask_babel import force_locale
from sqlalchemy.orm import Session

from backend.i18n import _
from backend.indicators import engine
from backend.indicators.definitions import Definition, definitions, policy
from backend.months import month_end, months_back

# Chart text is left as text in the SVG, so the browser renders it with its own fonts.
SVG_PARAMS = {"svg.fonttype": "none"}


def _words() -> dict[str, str]:
    """The report's own words in the current locale (Babel catalog)."""
    return {
        "report": _("Maternal and child health indicators, monthly report"),
        "indicator": _("Indicator"),
        "month": _("This month"),
        "ci": _("95% CI"),
        "target": _("Target"),
        "met": _("met"),
        "not_met": _("not met"),
        "no_target": _("no numeric target"),
        "trend": _("Last 12 months"),
        "hidden": _("<5: cells below 5 (and a cell that would reveal one) are not shown"),
        "generated": _("Generated"),
        "basis": _("Counts"),
        "period": _("Period rule"),
        "source": _("Source"),
        "unverified": _("not yet verified by a clinician"),
        "statutory": _("statutory surveillance and service reporting"),
        "consent": _("only women who consented to anonymous statistics"),
    }


def _chart(definition: Definition, months: list[str], cells: dict[str, dict[str, Any]]) -> str:
    """A small line chart of the rate per month (SVG), with its interval, the target line and
    an x where a month's value is hidden."""
    # Imported here: matplotlib takes seconds to import, and only reports need it.
    import matplotlib
    from matplotlib.figure import Figure

    with matplotlib.rc_context(SVG_PARAMS):  # type: ignore[arg-type]  # matplotlib types the keys as literals
        fig = Figure(figsize=(4.2, 1.6), dpi=96)
        ax = fig.add_subplot()
        xs = list(range(len(months)))
        values = [cells.get(m, {}).get("value") for m in months]
        lows = [cells.get(m, {}).get("ci_low") for m in months]
        highs = [cells.get(m, {}).get("ci_high") for m in months]
        shown = [(x, v, lo, hi) for x, v, lo, hi in zip(xs, values, lows, highs, strict=True)
                 if v is not None]  # fmt: skip
        if shown:
            sx, sv, slo, shi = zip(*shown, strict=True)
            ax.fill_between(sx, slo, shi, color="#9ecae1", alpha=0.5, linewidth=0)
            ax.plot(sx, sv, marker="o", markersize=3, color="#08519c", linewidth=1.2)
        hidden = [x for x, m in zip(xs, months, strict=True) if cells.get(m, {}).get("suppressed")]
        ymax = max(
            [
                *(h for h in highs if h is not None),
                definition.target.value if definition.target else 0,
                1,
            ]
        )
        if hidden:
            ax.plot(hidden, [0] * len(hidden), "x", color="#b30000", markersize=5)
        if definition.target is not None:
            ax.axhline(definition.target.value, color="#b30000", linestyle="--", linewidth=0.8)
        ax.set_ylim(0, ymax * 1.1)
        ax.set_xticks(xs, [m[2:] for m in months], fontsize=6, rotation=45)
        ax.tick_params(axis="y", labelsize=6)
        ax.spines[["top", "right"]].set_visible(False)
        fig.subplots_adjust(left=0.1, right=0.99, bottom=0.3, top=0.95)
        out = io.StringIO()
        fig.savefig(out, format="svg")
    svg = out.getvalue()
    return svg[svg.index("<svg") :]


def _fmt(cell: dict[str, Any], field: str, hidden: str) -> str:
    """A cell's field as HTML text; a hidden count reads "<5"."""
    return html.escape(_text(cell, field, hidden))


def _text(cell: dict[str, Any], field: str, hidden: str) -> str:
    if field in cell.get("suppressed", ()) or (
        field in ("value", "ci") and "numerator" in cell.get("suppressed", ())
    ):
        return hidden
    if field == "ci":
        return "" if cell.get("ci_low") is None else f"{cell['ci_low']}–{cell['ci_high']}"
    value = cell.get(field)
    return "" if value is None else str(value)


def build(
    session: Session,
    *,
    district: str,
    month: dt.date,
    today: dt.date,
    offset_minutes: int,
    locale: str,
    generated_at: dt.datetime,
) -> tuple[str, list[dict[str, Any]]]:
    """The report's HTML, and its figures (one entry per indicator) for tests and callers."""
    with force_locale("zh_Hans_CN" if locale == "zh_CN" else locale):
        words = _words()
    rules = policy()
    hidden = f"<{rules['min_cell']}"
    names = {d["code"]: d["name"] for d in rules["districts"]}
    district_name = names.get(district, {}).get(locale, district)
    start = months_back(month, 11)
    months = [f"{months_back(month, n):%Y-%m}" for n in range(11, -1, -1)]
    figures: list[dict[str, Any]] = []
    for definition in definitions().values():
        by = ("month",) if "month" in definition.breakdowns else ()
        since = start if by else month
        table = engine.compute(
            session,
            definition=definition,
            since=since,
            until=month_end(month),
            by=by,
            districts=[district],
            today=today,
            offset_minutes=offset_minutes,
            locale=locale,
        )
        cells = {c["month"]: c for c in table["rows"]} if by else {}
        this = cells.get(months[-1]) if by else table["total"]
        this = this or {
            "numerator": 0,
            "denominator": 0,
            "suppressed": ["numerator", "denominator"],
        }
        figures.append(
            {
                "definition": definition,
                "cell": this,
                "chart": _chart(definition, months, cells) if by else None,
            }
        )
    rows = []
    for fig in figures:
        d: Definition = fig["definition"]
        cell = fig["cell"]
        target = (
            f"{d.target.operator} {d.target.value:g} {d.text('unit', locale)}"
            if d.target
            else words["no_target"]
        )
        met = cell.get("meets_target")
        verdict = "" if met is None else (words["met"] if met else words["not_met"])
        chart = fig["chart"] or ""
        counts = f"{d.text('numerator', locale)} / {d.text('denominator', locale)}"
        about = (
            f"{words['period']}: {d.text('period_text', locale)} · {words[d.basis]}"
            f" · {words['source']}: {d.source}"
            + ("" if d.verified else f" · {words['unverified']}")
        )
        rows.append(
            f"""<tr class="indicator" id="{html.escape(d.code)}">
<td><strong>{html.escape(d.text("title", locale))}</strong>
<div class="words">{html.escape(counts)}</div>
<div class="words">{html.escape(about)}</div></td>
<td class="num">{_fmt(cell, "numerator", hidden)} / {_fmt(cell, "denominator", hidden)}</td>
<td class="num"><strong>{_fmt(cell, "value", hidden)}</strong> {html.escape(d.text("unit", locale))}
<div class="words">{words["ci"]} {_fmt(cell, "ci", hidden)}</div></td>
<td>{html.escape(target)}<div class="verdict {"met" if met else "not"}">{verdict}</div></td>
<td class="chart">{chart}</td></tr>"""
        )
    body = "\n".join(rows)
    page = f"""<!doctype html>
<html lang="{"zh-CN" if locale == "zh_CN" else "en"}"><head><meta charset="utf-8">
<title>{words["report"]} · {html.escape(district_name)} · {month:%Y-%m}</title>
<style>
body {{ font-family: "Noto Sans CJK SC", "Noto Serif CJK SC", sans-serif; margin: 1.5em; }}
h1 {{ font-size: 1.3em; margin-bottom: 0.2em; }}
table {{ border-collapse: collapse; width: 100%; }}
td, th {{ border-bottom: 1px solid #ddd; padding: 4px 6px; vertical-align: top; }}
td {{ font-size: 0.85em; }}
.num {{ text-align: right; white-space: nowrap; }}
.words {{ color: #555; font-size: 0.8em; }}
.verdict.met {{ color: #006d2c; }} .verdict.not {{ color: #b30000; }}
.chart svg {{ width: 320px; height: auto; }}
@media print {{ tr {{ page-break-inside: avoid; }} }}
</style></head><body>
<h1>{words["report"]} · {html.escape(district_name)}（{district}） · {month:%Y-%m}</h1>
<p class="words">{words["generated"]}: {generated_at:%Y-%m-%d %H:%M} UTC · {words["hidden"]}</p>
<table><thead><tr><th>{words["indicator"]}</th><th>{words["basis"]}</th><th>{words["month"]}</th>
<th>{words["target"]}</th><th>{words["trend"]}</th></tr></thead>
<tbody>
{body}
</tbody></table></body></html>
"""
    return page, figures


def pdf(page: str, destination: Path) -> bool:
    """Print the page to PDF with a headless Chromium; False when the machine has none."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        return False
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "report.html"
        source.write_text(page, encoding="utf-8")
        result = subprocess.run(
            [
                browser,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-pdf-header-footer",
                f"--user-data-dir={tmp}/profile",
                f"--print-to-pdf={destination}",
                source.as_uri(),
            ],
            capture_output=True,
            timeout=120,
            check=False,
        )
    return result.returncode == 0 and destination.exists()
