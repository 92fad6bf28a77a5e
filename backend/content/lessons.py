"""The front matter of a lesson file (content/lessons/<stage>/<slug>/<locale>.md), typed.

The model fixes the keys and their types (and gives editors a JSON Schema); what depends on the
stage (which clock, its bounds), the lengths and the agreement between languages stays in
backend/education/lesson_content.py, whose localized messages the lesson API shares.
"""

from __future__ import annotations

import typing
from typing import Annotated, Literal

from pydantic import Field, StrictInt

from backend.content.common import Strict

Clock = Literal[
    "woman_age_years",
    "plan_months_before",
    "pregnancy_week",
    "postpartum_day",
    "loss_day",
    "child_age_month",
    "child_age_year",
]
Audience = Literal["mother", "partner", "grandparent"]
CLOCKS: tuple[str, ...] = typing.get_args(Clock)
AUDIENCES: tuple[str, ...] = typing.get_args(Audience)
SLUG = r"^[a-z0-9]+(-[a-z0-9]+)*$"


class LessonWindow(Strict):
    """When the lesson is shown: `from` and `to` on one clock of the lesson's stage."""

    clock: Clock
    from_: StrictInt = Field(alias="from")
    to: StrictInt


class LessonSource(Strict):
    """A source of the lesson's clinical facts."""

    title: str
    ref: str


class QuizQuestion(Strict):
    """A question, its options and the position of the right one (from 0)."""

    question: str
    options: list[str]
    answer: StrictInt


class LessonFrontMatter(Strict):
    """The keys of a lesson file's front matter, each written once; the Markdown body follows."""

    slug: Annotated[str, Field(pattern=SLUG)]
    stage: str
    window: LessonWindow
    topics: Annotated[list[str], Field(min_length=1)]
    audience: Annotated[list[Audience], Field(min_length=1)]
    reading_minutes: StrictInt
    sources: Annotated[list[LessonSource], Field(min_length=1)]
    title: str
    summary: str
    quiz: list[QuizQuestion] | None = None
