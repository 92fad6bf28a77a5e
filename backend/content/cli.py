"""`flask content schema`: the JSON Schema of every content file kind, for editors."""

from __future__ import annotations

import click

from backend.content.files import write_schemas


@click.command("schema")
@click.option(
    "--out",
    "out_dir",
    default="instance/content-schema",
    show_default=True,
    help="Directory for <kind>.schema.json files.",
)
def content_schema(out_dir: str) -> None:
    """Write one JSON Schema per kind of content file (check a file before committing it)."""
    for path in write_schemas(out_dir):
        click.echo(f"wrote {path}")
