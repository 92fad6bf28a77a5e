"""Education: life-stage lessons, their editorial workflow, the reader's feed, reading stats.

Lessons are written through the API or as Markdown files in content/lessons/ imported with
`flask --app backend content import`; a second educator or an administrator approves each
version before readers see it. Publishing a version sends signals.lesson_published, which
the reminder planner may listen to.
"""

from __future__ import annotations

from flask import Flask

from backend.api import Api
from backend.education import cli, exporters, routes


def init_app(app: Flask, api: Api) -> None:
    """Register the blueprint and the `content` command group."""
    api.register_blueprint(routes.blp)
    app.cli.add_command(cli.content_cli)
    exporters.register(app)
