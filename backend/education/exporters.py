"""What she read, as a section of her data export."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select

from backend import exports
from backend.education.models import LessonRead


def register(app: Flask) -> None:
    """What she read belongs in her data export."""
    reads = select(LessonRead).order_by(LessonRead.read_at)
    exports.register(app, "lesson_reads", exports.owned(reads, LessonRead.user_id))
