"""A teaser from the body, for channels that show a summary when an item has none.

``summary`` is optional: a feed entry, a LinkedIn link card, a WordPress excerpt, a webhook and the
lead of a social post then use the first sentences of the (localized) body's plain text, up to
``TEASER_CHARS``. Headings and code blocks are left out; a first sentence that is too long is cut
at a word (or, in scripts written without spaces, a grapheme) boundary and ends with an ellipsis.
One pass over the text, no regular expression meets it.
"""

from __future__ import annotations

from collections.abc import Mapping
from html.parser import HTMLParser
from typing import TYPE_CHECKING

from ..channels.markup import markdown_to_html
from ..channels.rendering import grapheme_boundaries

if TYPE_CHECKING:
    from ..model.item import ContentItem

__all__ = ["TEASER_CHARS", "teaser", "teaser_of"]

#: Longest teaser, in characters.
TEASER_CHARS = 280

#: Characters that end a sentence; the CJK ones end it even without a space after them.
_SENTENCE_ENDS = frozenset(".!?…。！？")
_CJK_ENDS = frozenset("。！？")
_ELLIPSIS = "…"


class _Paragraphs(HTMLParser):
    """The text of HTML, block by block, without headings, preformatted code, scripts and styles."""

    _BLOCKS = frozenset({"p", "div", "br", "li", "blockquote", "tr", "td", "th", "figcaption", "hr"})
    _SKIPPED = frozenset({"h1", "h2", "h3", "h4", "h5", "h6", "pre", "script", "style", "template"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[list[str]] = [[]]
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._SKIPPED:
            self._skipping += 1
        if tag in self._BLOCKS or tag in self._SKIPPED:
            self.blocks.append([])

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIPPED:
            self._skipping = max(0, self._skipping - 1)
        if tag in self._BLOCKS or tag in self._SKIPPED:
            self.blocks.append([])

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.blocks[-1].append(data)


def _plain(body: str, body_format: str) -> str:
    parser = _Paragraphs()
    parser.feed(body if body_format == "html" else markdown_to_html(body))
    parser.close()
    return " ".join(" ".join("".join(block).split()) for block in parser.blocks if "".join(block).strip())


def _first_sentence_end(text: str, start: int) -> int:
    """The index just after the sentence that starts at ``start`` (``len(text)`` for the last one)."""
    for i in range(start, len(text)):
        c = text[i]
        if c in _SENTENCE_ENDS and (c in _CJK_ENDS or i + 1 == len(text) or text[i + 1] == " "):
            return i + 1
    return len(text)


def _cut(text: str, max_chars: int) -> str:
    """``text`` cut to at most ``max_chars`` with an ellipsis, at a word boundary if there is one."""
    room = max_chars - len(_ELLIPSIS)
    space = text.rfind(" ", 0, room + 1)
    if space > room // 2:
        return text[:space].rstrip() + _ELLIPSIS
    cut = max((b for b in grapheme_boundaries(text[: room + 16]) if b <= room), default=0)
    return text[:cut] + _ELLIPSIS


def teaser(body: str, body_format: str, *, max_chars: int = TEASER_CHARS) -> str:
    """The first sentences of ``body``'s plain text that fit in ``max_chars`` ("" if it has no text).

    Args:
        body: the item's body (or a human translation of it).
        body_format: ``markdown`` or ``html``.
        max_chars: longest teaser, in characters.
    """
    text = _plain(body, body_format)
    if len(text) <= max_chars:
        return text
    end = _first_sentence_end(text, 0)
    if end > max_chars:
        return _cut(text, max_chars)
    while end < len(text):
        nxt = _first_sentence_end(text, end + 1)
        if nxt > max_chars:
            break
        end = nxt
    return text[:end].rstrip()


def teaser_of(item: ContentItem, fields: Mapping[str, str]) -> str:
    """The teaser of ``item`` in one locale: from the localized body in ``fields`` if there is one."""
    return teaser(fields.get("body") or item.body, item.body_format)
