"""Markup shared by every channel: Markdown to HTML, and HTML made safe to publish.

Items are written in Markdown or HTML; channels publish HTML (a blog, a feed, a webhook's
``body_html``) or plain text (social posts). Sanitizing happens at intake and again before any
channel sends HTML, with one allow-list.
"""

from __future__ import annotations

import nh3
from markdown_it import MarkdownIt

__all__ = ["ALLOWED_ATTRIBUTES", "ALLOWED_TAGS", "body_html", "markdown_to_html", "sanitize_html"]

_markdown = MarkdownIt("commonmark", {"html": False}).enable("table").enable("strikethrough")

#: Tags and attributes that survive HTML sanitization of item bodies.
ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "em", "figcaption", "figure", "h2", "h3", "h4", "h5",
    "h6", "hr", "i", "img", "li", "ol", "p", "pre", "s", "strong", "sub", "sup", "table", "tbody", "td",
    "th", "thead", "tr", "u", "ul",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title", "hreflang"}, "img": {"src", "alt", "width", "height"},
                      "td": {"colspan", "rowspan"}, "th": {"colspan", "rowspan", "scope"}}


def sanitize_html(html: str) -> str:
    """Keep only safe markup: no scripts, event handlers, styles or ``javascript:`` links."""
    return nh3.clean(html, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES,
                     url_schemes={"http", "https", "mailto"}, link_rel="noopener noreferrer")


def markdown_to_html(markdown: str) -> str:
    """CommonMark (with tables and strikethrough) to HTML; raw HTML in the Markdown is shown as text."""
    rendered: str = _markdown.render(markdown)
    return rendered


def body_html(body: str, body_format: str) -> str:
    """An item body as sanitized HTML, whether it was written in Markdown or HTML."""
    return sanitize_html(body if body_format == "html" else markdown_to_html(body))
