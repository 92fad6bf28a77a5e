"""`flask --app backend seed-demo`: a small demo for `make run` (idempotent)."""

from __future__ import annotations

import click


@click.command("seed-demo")
def seed_demo() -> None:
    """Create the demo institution, admin, doctor, educator and citizen."""
    click.echo("demo: nothing yet")
