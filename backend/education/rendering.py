"""Lesson bodies: Markdown rendered to HTML that is safe to show in the app.

Two fences: markdown-it-py escapes raw HTML (`html: False`) and refuses unsafe link targets,
then nh3 (ammonia) keeps only the tags Markdown produces, links only to http, https and mailto,
and adds rel="noopener noreferrer".
"""

from __future__ import annotations

import functools

import nh3
from markdown_it import MarkdownIt

TAGS = {
    "p",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "ul",
    "ol",
    "li",
    "strong",
    "em",
    "a",
    "code",
    "pre",
    "blockquote",
    "hr",
    "br",
}
ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}}
URL_SCHEMES = {"http", "https", "mailto"}


@functools.cache
def _parser() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": False})


def _only_absolute_links(element: str, attribute: str, value: str) -> str | None:
    """Drop hrefs without an allowed scheme (relative links lead nowhere in the app)."""
    if element == "a" and attribute == "href":
        scheme = value.split(":", 1)[0].lower() if ":" in value else ""
        return value if scheme in URL_SCHEMES else None
    return value


def render_markdown(text: str) -> str:
    """Markdown → sanitized HTML: no raw HTML, no scripts, no event handlers, safe links."""
    html = _parser().render(text)
    return nh3.clean(
        html,
        tags=TAGS,
        attributes=ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        attribute_filter=_only_absolute_links,
        link_rel="noopener noreferrer",
    )
