"""The sanitizer: no script, event handler or javascript: link ever reaches the HTML."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from backend.education.rendering import render_markdown
from tests.education.conftest import lesson_body

ATTACKS = [
    "<script>alert(1)</script>",
    "hello <script src=https://evil.example/x.js></script> world",
    '<img src=x onerror="alert(1)">',
    "![pic](x.png)",
    '<a href="javascript:alert(1)">click</a>',
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](java&#115;cript:alert(1))",
    "[click](vbscript:msgbox(1))",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    '<div onclick="alert(1)">x</div>',
    "<iframe src=https://evil.example></iframe>",
    "<style>body{display:none}</style>",
    "<svg onload=alert(1)>",
    "```\n<script>alert(1)</script>\n```",
]


class Elements(HTMLParser):
    """Every element and its attributes, as a browser would parse them."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, dict(attrs)))


def elements(html: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = Elements()
    parser.feed(html)
    return parser.found


def assert_safe(html: str) -> None:
    for tag, attrs in elements(html):
        assert tag not in ("script", "img", "iframe", "style", "svg", "div"), html
        assert not any(name.startswith("on") for name in attrs), html
        href = (attrs.get("href") or "").strip().lower()
        assert not href or href.startswith(("http://", "https://", "mailto:")), html


@pytest.mark.parametrize("markdown", ATTACKS)
def test_attacks_never_reach_the_html(markdown):
    html = render_markdown(markdown)
    assert "<script" not in html.lower()
    assert_safe(html)


def test_markdown_renders_headings_lists_emphasis_and_safe_links():
    html = render_markdown(
        "## 吃多少\n\n- **每天0.4毫克**\n- *轻松*\n\n[国家卫健委](https://www.nhc.gov.cn) "
        "[写信](mailto:help@example.org) [相对](/x)"
    )
    assert "<h2>吃多少</h2>" in html
    assert "<li><strong>每天0.4毫克</strong></li>" in html and "<em>轻松</em>" in html
    links = [attrs for tag, attrs in elements(html) if tag == "a"]
    assert links[0] == {"href": "https://www.nhc.gov.cn", "rel": "noopener noreferrer"}
    assert links[1]["href"] == "mailto:help@example.org"
    assert "href" not in links[2]  # a relative link leads nowhere in the app


def test_a_lesson_body_is_stored_and_served_sanitized(educator, reviewer, citizen):
    body = (
        "正文 <script>alert('x')</script>\n\n<img src=x onerror=alert(1)>\n\n"
        "[x](javascript:alert(1))"
    )
    api = educator[0]
    r = api.post("lessons", lesson_body(body=body))
    assert r.status_code == 201, r.json
    lesson = r.json
    variant = lesson["current_version"]["variants"][0]
    assert variant["locale"] == "zh_CN" and variant["body"] == body + "\n"
    assert "<script" not in variant["body_html"]
    assert_safe(variant["body_html"])
    assert api.post(f"lessons/{lesson['id']}/submit").status_code == 200
    assert reviewer[0].post(f"lessons/{lesson['id']}/approve").status_code == 200
    html = citizen.get(f"lessons/{lesson['id']}/content").json["body_html"]
    assert "<script" not in html and "&lt;script&gt;" in html
    assert_safe(html)
