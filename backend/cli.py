"""App-wide commands: `db upgrade|check|revision`, `openapi-yaml`, `seed-demo`."""

from __future__ import annotations

import datetime as dt
import json
import logging
from pathlib import Path

import click
import yaml
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext

from backend import migrate, review, scheduler
from backend.content.cli import content_schema
from backend.db import engine_of
from backend.demo import seed_demo
from backend.education.cli import content_cli
from backend.extensions import api
from backend.reminders.dispatcher import worker_id as new_worker_id

db_cli = AppGroup(
    "db", help="Create, upgrade and check the database schema."
)  # app context pushed per command


@db_cli.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Create or upgrade the schema to REVISION (default: head)."""
    migrate.upgrade(engine_of(current_app), revision)
    click.echo(f"database at {revision}: {engine_of(current_app).url.render_as_string()}")


@db_cli.command("check")
def db_check() -> None:
    """Fail when the models and the migrations disagree."""
    migrate.check(engine_of(current_app))
    click.echo("models and migrations agree")


@db_cli.command("revision")
@click.option("-m", "--message", required=True)
def db_revision(message: str) -> None:
    """Autogenerate a migration from the models."""
    migrate.revision(engine_of(current_app), message)


def openapi_document() -> str:
    """The OpenAPI document as YAML, `openapi:` first, keys in the spec's own order."""
    plain = json.loads(json.dumps(api.spec.to_dict()))  # enums and lazy strings → plain str
    first = ("openapi", "info", "security", "tags", "paths", "components")
    ordered = {k: plain[k] for k in first if k in plain} | plain
    return yaml.safe_dump(ordered, sort_keys=False, allow_unicode=True, width=100)


@click.command("openapi-yaml")
@click.argument("path", type=click.Path(dir_okay=False))
@with_appcontext
def openapi_yaml(path: str) -> None:
    """Write the OpenAPI document to PATH (the committed openapi.yaml)."""
    with open(path, "w", encoding="utf-8") as f:
        f.write(openapi_document())
    click.echo(f"wrote {path}")


def init_app(app: Flask) -> None:
    """Register the app-wide commands."""
    app.cli.add_command(db_cli)
    app.cli.add_command(openapi_yaml)
    app.cli.add_command(dispatcher_command)
    app.cli.add_command(seed_demo)
    # `flask content review` and `schema` join the content group the education domain registered.
    content_cli.add_command(content_review)
    content_cli.add_command(content_schema)


@click.command("review")
@click.option(
    "--out",
    "out_dir",
    default="instance/review",
    show_default=True,
    help="Directory for review-sheet.csv and review-sheet.html.",
)
@click.option("--unverified", is_flag=True, help="Only the items not verified yet.")
@with_appcontext
def content_review(out_dir: str, unverified: bool) -> None:
    """Write the clinical review sheet of content/ (CSV and printable HTML)."""
    items = review.collect(current_app.extensions["content"])
    rows = review.review_rows(items, unverified_only=unverified)
    target = Path(out_dir)
    target.mkdir(parents=True, exist_ok=True)
    with open(target / "review-sheet.csv", "w", encoding="utf-8", newline="") as fh:
        review.write_csv(rows, fh)
    (target / "review-sheet.html").write_text(
        review.render_html(rows, generated_on=dt.date.today()), encoding="utf-8"
    )
    pending = sum(1 for i in items if not i.verified)
    click.echo(
        f"{len(rows)} items written to {target}/review-sheet.csv and review-sheet.html "
        f"({pending} of {len(items)} not verified)"
    )
    for problem in review.problems(items):
        click.echo(f"refused: {problem}", err=True)


@click.command("dispatcher")
@click.option("--worker-id", default=None, help="Name of this dispatcher (default: host:pid).")
@with_appcontext
def dispatcher_command(worker_id: str | None) -> None:
    """Run the reminder dispatcher (APScheduler) until SIGTERM."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    scheduler.run(current_app._get_current_object(), worker=worker_id or new_worker_id())  # type: ignore[attr-defined]
