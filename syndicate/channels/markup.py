"""Markup shared by every channel: Markdown to HTML, HTML made safe to publish, HTML to plain
text, and the direction of right-to-left text.

Items are written in Markdown or HTML; channels publish HTML (a blog, a feed, a webhook's
``body_html``) or plain text (social posts). Sanitizing happens at intake and again before any
channel sends HTML, with one allow-list. Markdown is read one way everywhere: CommonMark with
tables and strikethrough, raw HTML in it shown as text.
"""

from __future__ import annotations

import functools
from html.parser import HTMLParser

import nh3
from markdown_it import MarkdownIt

from ..base.locales import html_attributes, is_rtl

__all__ = [
    "ALLOWED_ATTRIBUTES",
    "ALLOWED_TAGS",
    "body_html",
    "body_text",
    "html_to_text",
    "markdown_to_html",
    "sanitize_html",
    "with_direction",
]

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


#: Bodies up to this many characters have their HTML kept (:func:`body_html`), at most
#: ``_BODY_CACHE`` of them, for the same body rendered for every account of a locale: with the
#: bodies themselves (the keys), about 2.5 MB of ASCII text and under 10 MB of 4-byte characters.
_CACHED_BODY_CHARS = 16_000
_BODY_CACHE = 64


def body_html(body: str, body_format: str) -> str:
    """An item body as sanitized HTML, whether it was written in Markdown or HTML.

    Every account of a locale renders the same body: the HTML of short bodies is kept (a pure
    function of its arguments), so Markdown and sanitizing run once per body, not once per post.
    """
    if len(body) <= _CACHED_BODY_CHARS:
        return _body_html_cached(body, body_format)
    return _body_html(body, body_format)


def _body_html(body: str, body_format: str) -> str:
    return sanitize_html(body if body_format == "html" else markdown_to_html(body))


_body_html_cached = functools.lru_cache(maxsize=_BODY_CACHE)(_body_html)


class _TextOfHtml(HTMLParser):
    """Collects the text of HTML: a blank line around each block, a space between table cells, and
    a link's target after its text when the text is not the target itself."""

    BLOCKS = frozenset({"p", "div", "br", "li", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "tr"})
    CELLS = frozenset({"td", "th"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self._href: str | None = None
        self._link_text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.BLOCKS:
            self.out.append("\n\n")
        elif tag in self.CELLS:
            self.out.append(" ")
        if tag == "a":
            self._href = dict(attrs).get("href")
            self._link_text = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._href:
            text = "".join(self._link_text).strip()
            if self._href.startswith(("http://", "https://")) and self._href != text:
                self.out.append(f" {self._href}")
            self._href = None
        if tag in self.BLOCKS:
            self.out.append("\n\n")

    def handle_data(self, data: str) -> None:
        self.out.append(data)
        if self._href is not None:
            self._link_text.append(data)


def html_to_text(html: str) -> str:
    """HTML as plain text: paragraphs separated by blank lines, runs of whitespace made one
    space, markup dropped, link targets kept after their text.

    The markup is cleaned by nh3 (linear) before Python's ``HTMLParser`` reads it: that parser
    reads the rest of the text once per unclosed ``<!--``, ``<!`` or ``<?`` (quadratic).
    """
    kept = set(_TextOfHtml.BLOCKS | _TextOfHtml.CELLS | {"a"})
    parser = _TextOfHtml()
    parser.feed(nh3.clean(html, tags=kept, attributes={"a": {"href"}}, link_rel=None))
    parser.close()
    paragraphs = [" ".join(p.split()) for p in "".join(parser.out).split("\n\n")]
    return "\n\n".join(p for p in paragraphs if p)


def body_text(body: str, body_format: str) -> str:
    """An item body as plain text (:func:`html_to_text`), whether written in Markdown or HTML."""
    return html_to_text(body if body_format == "html" else markdown_to_html(body))


def with_direction(html: str, locale: str, *, lang: bool = True) -> str:
    """``html`` in a ``<div lang=".." dir="rtl">`` (without ``lang`` if not ``lang``) when ``locale``
    is written right to left; unchanged otherwise.

    Call it on sanitized HTML: the sanitizer's allow-list has neither ``div`` nor ``dir``.
    """
    if not is_rtl(locale):
        return html
    attributes = html_attributes(locale) if lang else 'dir="rtl"'
    return f"<div {attributes}>{html}</div>"
