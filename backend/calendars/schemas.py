"""Bodies for the calendar feed."""

from __future__ import annotations

from marshmallow import fields

from backend.api import Schema


class CalendarFeedSchema(Schema):
    url = fields.Url(
        metadata={
            "description": "The secret subscription URL (shown once; keep it private). "
            "Rotating makes the previous URL stop working at once."
        }
    )
    rotated_at = fields.AwareDateTime(metadata={"description": "When this secret was issued."})


# The body of an iCalendar response, for the OpenAPI document.
ICS_DOC = {"type": "string", "description": "An RFC 5545 iCalendar file."}
