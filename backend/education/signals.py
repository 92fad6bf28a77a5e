"""What education announces; the reminder planner listens (a `lesson_new` reminder per reader).

Sent after the service flushed, inside the unit of work, with the lesson as sender and keyword
arguments. A receiver works in the same `session` and must not commit; with this module
imported as `signals`:

    signals.lesson_published.connect(on_lesson)  # on_lesson(sender, *, session, lesson, version)
"""

from __future__ import annotations

from blinker import Namespace

education_signals = Namespace()

lesson_published = education_signals.signal(
    "lesson-published",
    doc="A version of a lesson was approved and is now the one readers see (a new lesson, a "
    "new version of a published one, or a retired lesson published again). kwargs: session, "
    "lesson, version (the LessonVersion, status published).",
)
