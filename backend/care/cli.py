"""`flask --app backend care resync`: re-plan everyone after a protocol file changed."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from backend.care import service
from backend.db import Session

care_cli = AppGroup("care", help="Care schedules.")


@care_cli.command("resync")
def resync() -> None:
    """Re-plan every enrolled subject from the current protocols (done steps untouched)."""
    report = service.resync_all(
        Session(),
        protocols=current_app.extensions["care.protocols"],
        default_tz=current_app.config["DEFAULT_TIMEZONE"],
    )
    click.echo(
        f"resync: {report.added} added, {report.moved} moved, {report.cancelled} cancelled, "
        f"{report.reopened} reopened"
    )
