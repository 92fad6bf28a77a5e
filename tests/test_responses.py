"""The phone's JSON bodies: orjson must write exactly what the standard library would."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from zoneinfo import ZoneInfo

from backend import responses


def test_json_response_writes_what_json_dumps_writes(app):
    """`json_response` promises json.dumps(ensure_ascii=False, compact separators, ISO dates,
    UUIDs as text): the same bytes, Chinese kept as UTF-8, key order kept."""
    body = {
        "items": [
            {
                "id": uuid.UUID("6f1c1d4e-8b1e-4d7a-9a0e-3c2b1a0f9e8d"),
                "title": "孕早期检查 (first visit)",
                "opens_on": dt.date(2026, 2, 28),
                "at": dt.datetime(2026, 12, 31, 23, 59, 59, 123456, tzinfo=dt.UTC),
                "local": dt.datetime(2027, 1, 1, 7, 59, tzinfo=ZoneInfo("Asia/Shanghai")),
                "weeks": 12.5,
                "count": 3,
                "done": False,
                "note": None,
                "quote": 'a "quoted" \\ line\nnext',
            }
        ],
        "total": 1,
    }

    def iso(value):
        return value.isoformat() if isinstance(value, dt.date) else str(value)

    expected = json.dumps(body, default=iso, ensure_ascii=False, separators=(",", ":"))
    with app.test_request_context():
        assert responses.json_response(body).get_data(as_text=True) == expected
