"""What she read, as a section of her data export."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select

from backend import exports
from backend.education.models import LessonRead


def register(app: Flask) -> None:
    """What she read belongs in her data export."""
    exports.register(
        app,
        "lesson_reads",
        lambda s, u: s.scalars(
            select(LessonRead).where(LessonRead.user_id == u.id).order_by(LessonRead.read_at)
        ),
    )
