"""Education: life-stage lessons, their editorial workflow, the reader's feed, reading stats.

Lessons are written through the API or as Markdown files in content/lessons/ imported with
`flask --app backend content import`; a second educator or an administrator approves each
version before readers see it. Publishing a version sends signals.lesson_published, which
the reminder planner may listen to.
"""

from __future__ import annotations

from flask import Flask

from backend.api import Api


def init_app(app: Flask, api: Api) -> None:
    """Register the blueprint and the `content` command group."""
    from backend.education import cli, routes

    api.register_blueprint(routes.blp)
    app.cli.add_command(cli.content_cli)
    _register_exports(app)


def _register_exports(app: Flask) -> None:
    """What she read belongs in her data export."""
    from sqlalchemy import select

    from backend import exports
    from backend.education.models import LessonRead

    exports.register(
        app,
        "lesson_reads",
        lambda s, u: s.scalars(
            select(LessonRead).where(LessonRead.user_id == u.id).order_by(LessonRead.read_at)
        ),
    )
