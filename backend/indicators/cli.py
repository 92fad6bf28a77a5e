"""`flask --app backend report monthly --district 330302 --month 2026-11`: the bureau's report;
`flask --app backend indicators snapshot --from 2025-01 --to 2025-12`: snapshot closed months."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from backend import clock
from backend.db import Session
from backend.indicators import jobs, report, snapshots

report_cli = click.Group("report", help="Reports for the health bureau.")
indicators_cli = click.Group("indicators", help="The bureau's indicators.")


def _month(text: str, name: str) -> dt.date:
    try:
        return dt.datetime.strptime(text, "%Y-%m").date()
    except ValueError as exc:
        raise click.BadParameter("use YYYY-MM", param_hint=name) from exc


@indicators_cli.command("snapshot")
@click.option("--from", "since", required=True, help="The first month, YYYY-MM.")
@click.option("--to", "until", required=True, help="The last month, YYYY-MM.")
@with_appcontext
def snapshot(since: str, until: str) -> None:
    """Snapshot every closed month (and year, where its period is not a sum of months) of
    every indicator from --from through --to: the backfill, or a correction of old months."""
    first = _month(since, "--from")
    last = snapshots.month_end(_month(until, "--to"))
    today, offset = jobs.local_today(str(current_app.config["DEFAULT_TIMEZONE"]))
    session = Session()
    taken = jobs.take_closed(session, since=first, until=last, today=today, offset_minutes=offset)
    session.commit()
    click.echo(f"took {taken} snapshots")


@report_cli.command("monthly")
@click.option("--district", required=True, help="GB/T 2260 code, e.g. 330302.")
@click.option("--month", required=True, help="YYYY-MM.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None)
@click.option("--locale", default="zh_CN", type=click.Choice(["zh_CN", "en"]))
@click.option("--pdf/--no-pdf", default=True, help="Also print a PDF when Chromium is here.")
@with_appcontext
def monthly(district: str, month: str, out: Path | None, locale: str, pdf: bool) -> None:
    """Write the monthly indicator report as HTML (and PDF when the machine can)."""
    first = _month(month, "--month")
    tz = str(current_app.config["DEFAULT_TIMEZONE"])
    now = clock.now()
    local = now.astimezone(clock.zone(tz))
    offset = int((local.utcoffset() or dt.timedelta(0)).total_seconds() // 60)
    page, _ = report.build(
        Session(),
        district=district,
        month=first,
        today=local.date(),
        offset_minutes=offset,
        locale=locale,
        generated_at=now,
    )
    out = out or Path("reports") / f"monthly-{district}-{month}.html"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(page, encoding="utf-8")
    click.echo(f"wrote {out}")
    if pdf:
        target = out.with_suffix(".pdf")
        if report.pdf(page, target.resolve()):
            click.echo(f"wrote {target}")
        else:
            click.echo("no PDF: Chromium not found or it failed")
