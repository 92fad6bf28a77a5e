"""What every request sets up, made cheap without changing what it decides: the language (a
memo per Accept-Language header), no cookie session, query defaults from a memo, and the
conditional GET's own If-None-Match check."""

from __future__ import annotations

import datetime as dt

import pytest
from flask import Flask, session
from flask.sessions import NullSession
from marshmallow import fields, post_load

from backend.api import ArgumentsParser, PageArgsSchema, Schema


@pytest.mark.parametrize(
    ("header", "language"),
    [
        ("en-US,en;q=0.9", "en"),
        ("zh-CN,zh;q=0.9", "zh_CN"),
        ("fr-FR, en;q=0.5", "en"),  # the best supported one
        ("fr-FR", "zh_CN"),  # none supported: the city's default
        ("en;q=0.4, zh-TW;q=0.8", "zh_CN"),  # by quality, not by order
        ("", "zh_CN"),
    ],
)
def test_each_accept_language_header_gets_its_own_language(client, header, language):
    """The header → language memo answers each header as the parse would, in any order."""
    for _ in range(2):  # the second time from the memo
        r = client.get("/api/v1/me", headers={"Accept-Language": header})
        assert r.status_code == 401
        assert r.json["detail"] == {"en": "Log in first.", "zh_CN": "请先登录。"}[language]


def test_languages_alternate_without_leaking_between_requests(client):
    titles = {
        header: client.get("/api/v1/me", headers={"Accept-Language": header}).json["title"]
        for header in ("en", "zh-CN", "en", "zh-CN")
    }
    assert titles["en"] != titles["zh-CN"]
    assert titles["en"].isascii() and not titles["zh-CN"].isascii()


def test_no_cookie_session(app: Flask):
    """Bearer tokens only (DESIGN.md): a cookie carries no session, and code that tries to
    keep one fails loudly instead of setting a cookie."""
    with app.test_request_context("/", headers={"Cookie": "session=eyJ4IjoxfQ.forged.sig"}):
        app.preprocess_request()
        assert dict(session) == {}
        assert isinstance(session._get_current_object(), NullSession)
        with pytest.raises(RuntimeError):
            session["user"] = "someone"


class _Today(Schema):
    day = fields.Date(load_default=dt.date.today)  # computed at each load: not memoized


class _Hooked(PageArgsSchema):
    calls = 0

    @post_load
    def _count(self, data, **_kwargs):
        type(self).calls += 1
        return data


def _parse(app: Flask, parser: ArgumentsParser, schema, query: str = "") -> dict:
    with app.test_request_context(f"/?{query}" if query else "/"):
        return parser.parse(schema, location="query")


def test_empty_query_defaults_are_a_fresh_copy_each_time(app):
    parser, schema = ArgumentsParser(), PageArgsSchema()
    first = _parse(app, parser, schema)
    assert first == {"page": 1, "page_size": 20}
    first["page"] = 99  # a view may change its arguments
    assert _parse(app, parser, schema) == {"page": 1, "page_size": 20}


def test_a_query_string_is_loaded_and_checked_as_ever(app):
    parser, schema = ArgumentsParser(), PageArgsSchema()
    _parse(app, parser, schema)
    assert _parse(app, parser, schema, "page=3") == {"page": 3, "page_size": 20}
    with pytest.raises(Exception) as refused:
        _parse(app, parser, schema, "page=0")
    assert getattr(refused.value, "code", None) == 422


def test_defaults_computed_at_load_time_or_by_hooks_are_not_memoized(app):
    parser = ArgumentsParser()
    hooked, before = _Hooked(), _Hooked.calls
    _parse(app, parser, hooked)
    _parse(app, parser, hooked)
    assert _Hooked.calls == before + 2  # its own hook runs every time
    today = _Today()
    assert _parse(app, parser, today)["day"] == dt.date.today()
    assert parser._defaults.get(today) is None  # not remembered


def test_etag_match_answers_304_with_its_headers_and_a_stale_one_200(citizen):
    first = citizen.get("me/schedule")
    etag = first.headers["ETag"]
    for header in (etag, "*", f'"stale", {etag}'):
        again = citizen.get("me/schedule", headers={"If-None-Match": header})
        assert again.status_code == 304, header
        assert again.headers["ETag"] == etag
        assert again.headers["Cache-Control"] == "private, no-cache"
        assert "Accept-Language" in again.headers["Vary"]
        assert again.data == b""
    stale = citizen.get("me/schedule", headers={"If-None-Match": 'W/"stale"'})
    assert stale.status_code == 200 and stale.headers["ETag"] == etag
    assert stale.headers["Vary"] == "Authorization, Accept-Language, Accept-Encoding"
