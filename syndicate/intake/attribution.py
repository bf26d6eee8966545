"""UTM attribution: which links carry ``utm_*`` parameters, and how they are written into a URL.

The rules are stated for users in ``docs/attribution.md``; in short:

* :func:`tag_url` rewrites only the query of a URL. The query is a list of raw ``&``-separated
  segments; a segment whose *decoded* name is one we set gets our value where it stands (the
  first one; later ones with the same decoded name are dropped); the parameters the URL lacked
  are appended in :data:`UTM_KEYS` order. Every other byte (other segments and their order,
  empty segments, ``;``, ``+``, percent-encoding case, the fragment, host, port, userinfo) is
  kept. Tagging a tagged URL again changes nothing.
* :func:`tag_links` tags every URL in a text whose host is one of ours (the canonical page's and
  the call to action's), except hosts listed as never to be tagged.
* :func:`utm_content` names one publication: item, revision, locale, account and slot.
"""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, TypeVar
from urllib.parse import quote, unquote, urlsplit

from ..base.fields import host_key
from ..base.spans import URL

if TYPE_CHECKING:
    from ..channels.contract import PostContent
    from ..model.item import ContentItem

__all__ = [
    "FIRST_COMMENT_UTM_SUFFIX",
    "MAX_UTM_CONTENT_CHARS",
    "UTM_KEYS",
    "LinkTagger",
    "is_never_tagged",
    "item_link_tagger",
    "tag_links",
    "tag_post_links",
    "tag_url",
    "utm_content",
    "utm_for",
]

#: The parameters we set, in the order they are appended to a URL that lacks them.
UTM_KEYS = ("utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term", "utm_id")

#: Longest ``utm_content`` we write: GA4 keeps event parameter values up to 100 characters
#: (support.google.com/analytics/answer/9267744, "Length of event parameter value").
MAX_UTM_CONTENT_CHARS = 100

_Text = TypeVar("_Text", str, str | None)

#: What a first comment's ``utm_content`` adds to its post's.
FIRST_COMMENT_UTM_SUFFIX = ".comment"

#: Hex digits of the hash that ends a shortened ``utm_content``.
_HASH_CHARS = 10
#: Fewest characters of the item id a shortened ``utm_content`` keeps before its hash.
_MIN_ITEM_CHARS = 8

#: Just before a URL inside an HTML tag: the URL is an ``href`` value.
_HREF_BEFORE = re.compile(r"\bhref\s*=\s*[\"']?\Z", re.IGNORECASE)
_BRACKET = re.compile(r"[\[\]]")


# -- URLs -------------------------------------------------------------------------------------


def _encode(text: str) -> str:
    """RFC 3986 percent-encoding: unreserved characters kept, upper-case hex, space as ``%20``."""
    return quote(text, safe="")


def _decoded_name(segment: str) -> str:
    """The parameter name of one query segment, decoded as browsers decode a query
    (``application/x-www-form-urlencoded``: ``+`` is a space, ``%XX`` a UTF-8 byte)."""
    return unquote(segment.partition("=")[0].replace("+", " "), errors="replace")


def _ordered(params: Mapping[str, str]) -> dict[str, str]:
    """The non-empty ``params``: :data:`UTM_KEYS` first, in that order, then any others as given."""
    rank = {k: i for i, k in enumerate(UTM_KEYS)}
    keys = sorted((k for k, v in params.items() if v), key=lambda k: rank.get(k, len(rank)))
    return {k: params[k] for k in keys}


def tag_url(url: str, params: Mapping[str, str]) -> str:
    """``url`` carrying ``params`` in its query, every other byte as it was.

    A segment whose decoded name is in ``params`` gets our value in place (its name written
    plainly, ``utm_source=...``); later segments with that decoded name are dropped; parameters
    the URL lacks are appended, :data:`UTM_KEYS` first. Empty values are not written. An empty
    query (``?`` alone) has no segments; a trailing ``&`` is an empty segment and is kept.

    >>> tag_url("https://ex.com/a?b=1&utm_source=old#top", {"utm_source": "x", "utm_medium": "social"})
    'https://ex.com/a?b=1&utm_source=x&utm_medium=social#top'
    """
    ours = _ordered(params)
    if not ours:
        return url
    head, hash_, fragment = url.partition("#")
    base, _, query = head.partition("?")
    out: list[str] = []
    written: set[str] = set()
    for segment in query.split("&") if query else []:
        name = _decoded_name(segment)
        if name not in ours:
            out.append(segment)
        elif name not in written:
            out.append(f"{_encode(name)}={_encode(ours[name])}")
            written.add(name)
    out += [f"{_encode(k)}={_encode(v)}" for k, v in ours.items() if k not in written]
    return f"{base}?{'&'.join(out)}{hash_}{fragment}"


def utm_for(*, source: str, medium: str, campaign: str, content: str, term: str | None = None,
            id: str | None = None) -> dict[str, str]:
    """The ``utm_*`` mapping for one publication, in :data:`UTM_KEYS` order, without empty values."""
    values = {"utm_source": source, "utm_medium": medium, "utm_campaign": campaign, "utm_content": content,
              "utm_term": term or "", "utm_id": id or ""}
    return {k: values[k] for k in UTM_KEYS if values[k]}


def utm_content(item_id: str, revision: int, locale: str, account: str, slot: int, *,
                first_comment: bool = False) -> str:
    """``utm_content`` of one publication: ``ITEM.rREVISION.LOCALE.ACCOUNT.SLOT``.

    A first comment's links carry its post's value followed by ``.comment``, so that clicks from
    the comment are told apart from clicks on the post (docs/attribution.md).

    A new revision's posts carry a new value, so a lead is traced to the very post that brought
    it. A value longer than :data:`MAX_UTM_CONTENT_CHARS` shortens the item id to its first
    characters followed by ``~`` and a hash of the whole value (so it stays unique), keeping the
    rest readable; if the rest alone is too long, the whole value is cut that way.

    >>> utm_content("launch-2026", 2, "de-DE", "x-dach", 0)
    'launch-2026.r2.de-DE.x-dach.0'
    >>> utm_content("launch-2026", 2, "de-DE", "x-dach", 0, first_comment=True)
    'launch-2026.r2.de-DE.x-dach.0.comment'
    """
    tail = f".r{revision}.{locale}.{account}.{slot}" + (FIRST_COMMENT_UTM_SUFFIX if first_comment else "")
    value = item_id + tail
    if len(value) <= MAX_UTM_CONTENT_CHARS:
        return value
    mark = "~" + hashlib.sha256(value.encode("utf-8")).hexdigest()[:_HASH_CHARS]
    room = MAX_UTM_CONTENT_CHARS - len(mark) - len(tail)
    if room >= _MIN_ITEM_CHARS:
        return item_id[:room] + mark + tail
    return value[:MAX_UTM_CONTENT_CHARS - len(mark)] + mark


# -- hosts ------------------------------------------------------------------------------------


def _url_host(url: str) -> str:
    try:
        return host_key(urlsplit(url).hostname)
    except ValueError:  # a malformed authority, such as an unclosed IPv6 bracket
        return ""


def is_never_tagged(host: str, never_tag: Collection[str]) -> bool:
    """Whether ``host`` (a :func:`host_key`) is a never-tag entry or a subdomain of one."""
    return any(host == h or host.endswith("." + h) for h in never_tag)


# -- links in text ----------------------------------------------------------------------------


def _url_spans(text: str) -> Iterable[tuple[int, int]]:
    """Where the http(s) URLs of ``text`` are: the URL pattern the translators protect, plus the
    closing parentheses of a URL that opened them (``.../Foo_(bar)``). Linear in ``text``."""
    for m in URL.finditer(text):  # the URLs translation protects: the ones it kept unchanged
        start, end = m.span()
        depth = text.count("(", start, end) - text.count(")", start, end)
        while depth > 0 and end < len(text) and text[end] == ")":
            end += 1
            depth -= 1
        yield start, end


class LinkTagger:
    """Tags the links of one publication: the call to action and the links in the item's text.

    Args:
        params: the publication's ``utm_*`` parameters.
        hosts: the hosts whose links are tagged (the canonical page's and the call to action's);
            compared exactly, after :func:`host_key`.
        never_tag: hosts never tagged, with their subdomains (the item's and the route's lists).
    """

    def __init__(self, params: Mapping[str, str], *, hosts: Iterable[str], never_tag: Iterable[str] = ()) -> None:
        self.params = dict(params)
        self.never_tag = frozenset(host_key(h) for h in never_tag)
        self.hosts = frozenset(k for h in hosts if (k := host_key(h)) and not is_never_tagged(k, self.never_tag))

    def url(self, url: str) -> str:
        """``url`` tagged whatever its host, unless that host is never tagged (for the call to
        action and the canonical link, which are ours wherever they point)."""
        if is_never_tagged(_url_host(url), self.never_tag):
            return url
        return tag_url(url, self.params)

    def _ours(self, url: str) -> bool:
        return _url_host(url) in self.hosts

    def text(self, text: str, *, html_markup: bool = False) -> str:
        """``text`` with every link to one of :attr:`hosts` tagged; the rest unchanged.

        Links are bare URLs, Markdown link destinations and, with ``html_markup``, ``href``
        values and URLs in text; image sources (Markdown ``![alt](url)``, HTML ``src``) are not
        links and are left alone. With ``html_markup``, a URL is read as HTML reads it (character
        references decoded) and written back escaped (``&`` as ``&amp;``).
        """
        if not self.hosts or not self.params or "://" not in text:
            return text
        out: list[str] = []
        pos = 0
        tags = _TagTracker(text) if html_markup else None
        openers = _label_openers(text) if tags is None and "](" in text else {}
        for start, end in _url_spans(text):
            if tags is not None and tags.inside_tag(start) and not _HREF_BEFORE.search(text, max(0, start - 16), start):
                continue  # an attribute other than href: an image source, a title
            if tags is None and _markdown_image(text, start, openers):
                continue
            raw = text[start:end]
            url = html.unescape(raw) if html_markup else raw
            if not self._ours(url):
                continue
            tagged = tag_url(url, self.params)
            if tagged == url:
                continue
            out += [text[pos:start], html.escape(tagged) if html_markup else tagged]
            pos = end
        if not out:
            return text
        out.append(text[pos:])
        return "".join(out)


class _TagTracker:
    """Whether a position of an HTML text is inside a tag; asked at increasing positions, linear in all."""

    def __init__(self, text: str) -> None:
        self._text = text
        self._pos = 0
        self._inside = False

    def inside_tag(self, at: int) -> bool:
        opened = self._text.rfind("<", self._pos, at)
        closed = self._text.rfind(">", self._pos, at)
        if opened != closed:  # both -1 (neither seen): the state carries on
            self._inside = opened > closed
        self._pos = at
        return self._inside


def _label_openers(text: str) -> dict[int, int]:
    """For each ``]`` of ``text``, the ``[`` it closes (paired like parentheses); one pass."""
    opened: list[int] = []
    pairs: dict[int, int] = {}
    for m in _BRACKET.finditer(text):
        if m.group() == "[":
            opened.append(m.start())
        elif opened:
            pairs[m.start()] = opened.pop()
    return pairs


def _markdown_image(text: str, start: int, openers: Mapping[int, int]) -> bool:
    """Whether the URL at ``start`` is the destination of a Markdown image ``![alt](url)``."""
    if start >= 2 and text.startswith("](", start - 2):
        close = start - 2
    elif start >= 3 and text.startswith("](<", start - 3):
        close = start - 3
    else:
        return False
    opener = openers.get(close)
    return opener is not None and opener > 0 and text[opener - 1] == "!"


def tag_links(text: str, params: Mapping[str, str], *, hosts: Iterable[str], never_tag: Iterable[str] = (),
              html_markup: bool = False) -> str:
    """:meth:`LinkTagger.text` in one call."""
    return LinkTagger(params, hosts=hosts, never_tag=never_tag).text(text, html_markup=html_markup)


def item_link_tagger(item: ContentItem, params: Mapping[str, str], never_tag: Iterable[str] = ()) -> LinkTagger:
    """The :class:`LinkTagger` of one publication of ``item``: links to the canonical page's host
    and the call to action's are tagged; the item's ``never_tag`` hosts and ``never_tag`` (the
    route's) are not."""
    hosts = [_url_host(item.canonical_url)] + ([_url_host(item.cta.url)] if item.cta else [])
    return LinkTagger(params, hosts=hosts, never_tag=(*item.never_tag, *never_tag))


def tag_post_links(content: PostContent, links: LinkTagger) -> PostContent:
    """``content`` with the links in its text tagged: title, summary, body (as HTML when it is
    HTML), call-to-action text, the channel's hand-written text and the evergreen variant."""
    def plain(text: _Text) -> _Text:
        return links.text(text) if text else text

    return replace(
        content, title=plain(content.title), summary=plain(content.summary),
        body=links.text(content.body, html_markup=content.body_format == "html"),
        cta_text=plain(content.cta_text), channel_text=plain(content.channel_text), variant=plain(content.variant))
