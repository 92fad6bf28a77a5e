"""App-wide commands: `flask --app backend db upgrade|check|revision`, `seed-demo`."""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from backend import migrate
from backend.db import engine_of

db_cli = AppGroup("db", help="Create, upgrade and check the database schema.")


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


def init_app(app: Flask) -> None:
    """Register the app-wide commands."""
    app.cli.add_command(db_cli)
    from backend.demo import seed_demo

    app.cli.add_command(seed_demo)
