"""Protect what must not be translated: URLs, mentions, hashtags, code, e-mail addresses, terms.

:func:`mask` replaces each protected span with a placeholder ``<x id="N"/>`` (XML, so engines with
tag handling keep it); :func:`unmask` puts the spans back and checks that every placeholder came
back exactly once, raising :class:`~syndicate.errors.PlaceholderMismatch` otherwise.

Protected, in order of precedence (an earlier kind wins where two overlap): placeholders already
in the text, HTML tags and entities (``markup=True``, for HTML bodies), code fences and code spans,
``{...}`` templates (see :mod:`.formatting`), URLs, e-mail addresses, @mentions, #hashtags, then the
route's glossary and do-not-translate terms (longest first, whole words, case-sensitive).

A glossary term is restored as its translation for the target language instead of itself: that
is how glossaries work for every engine (see ``docs/localization.md``).
"""

from __future__ import annotations

import bisect
import html
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from ..base.spans import EXISTING_PLACEHOLDER, HASHTAG, MENTION, PLACEHOLDER, URL
from ..errors import PlaceholderMismatch
from .formatting import TEMPLATE

__all__ = [
    "EXISTING_PLACEHOLDER", "HASHTAG", "MENTION", "PLACEHOLDER", "URL",  # from syndicate.base.spans
    "Finder", "Masked", "find_emails", "mask", "protected_spans", "unmask", "xml_escape", "xml_unescape",
]

EMAIL = re.compile(r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b")
_LOCAL_PART_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._%+-")
CODE_FENCE = re.compile(r"```.*?```|~~~.*?~~~", re.DOTALL)
CODE_SPAN = re.compile(r"`[^`\n]+`")
#: An unclosed comment runs to the end of the text (as in browsers): were it to need its ``-->``,
#: every ``<!--`` of a text without one would scan the rest of it (quadratic).
HTML_TAG = re.compile(r"</?[A-Za-z][^<>]*>|<!--.*?(?:-->|\Z)", re.DOTALL)
HTML_ENTITY = re.compile(r"&(?:[A-Za-z][A-Za-z0-9]{1,31}|#[0-9]{1,7}|#[xX][0-9A-Fa-f]{1,6});")

#: What a pattern finds in a text (``re.Pattern.finditer``, or a function that finds the same).
Finder = Callable[[str], Iterable[re.Match[str]]]


def _is_word(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


def find_emails(text: str) -> Iterator[re.Match[str]]:
    """``EMAIL.finditer(text)``, in linear time.

    A regex engine tries ``EMAIL`` at every word boundary of a run like ``a.a.a.a`` and reads the
    rest of the run each time (quadratic). An address needs an ``@``, and for one ``@`` the match
    can only start at the first word boundary of the run of local-part characters before it: so
    each ``@`` is looked at once, and ``EMAIL`` is matched once, anchored there.
    """
    pos = 0
    at = text.find("@")
    while at != -1:
        start = at
        while start > pos and text[start - 1] in _LOCAL_PART_CHARS:
            start -= 1
        while start < at and (start > 0 and _is_word(text[start - 1])) == _is_word(text[start]):
            start += 1  # no word boundary here: EMAIL's leading \b cannot match
        if start < at:
            m = EMAIL.match(text, start)
            if m is not None:
                yield m
                pos = m.end()
                at = text.find("@", pos)
                continue
        at = text.find("@", at + 1)


@dataclass(frozen=True)
class Masked:
    """Masked text and the spans its placeholders stand for (index = placeholder id - start).

    Attributes:
        text: the text with placeholders.
        spans: the original text of each span.
        restore: what each placeholder becomes after translation: the span itself, or a glossary
            term's translation.
    """

    text: str
    spans: tuple[str, ...]
    restore: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.restore:
            object.__setattr__(self, "restore", self.spans)


def _term_pattern(terms: Sequence[str]) -> re.Pattern[str] | None:
    cleaned = sorted({t for t in terms if t.strip()}, key=len, reverse=True)
    if not cleaned:
        return None
    return re.compile(r"(?<!\w)(?:" + "|".join(re.escape(t) for t in cleaned) + r")(?!\w)")


def protected_spans(text: str, terms: Sequence[str] = (), *, markup: bool = False) -> list[tuple[int, int]]:
    """Non-overlapping ``(start, end)`` spans to protect, in order; earlier patterns win overlaps.

    Args:
        text: the text.
        terms: glossary and do-not-translate terms.
        markup: also protect HTML tags and entities (HTML bodies).
    """
    patterns: list[Finder] = [EXISTING_PLACEHOLDER.finditer]
    if markup:
        patterns += [HTML_TAG.finditer, HTML_ENTITY.finditer]
    patterns += [CODE_FENCE.finditer, CODE_SPAN.finditer, TEMPLATE.finditer, URL.finditer, find_emails,
                 MENTION.finditer, HASHTAG.finditer]
    tp = _term_pattern(terms)
    if tp is not None:
        patterns.append(tp.finditer)
    starts: list[int] = []  # sorted, non-overlapping spans, kept as parallel lists for bisect
    ends: list[int] = []
    for finditer in patterns:
        for m in finditer(text):
            s, e = m.span()
            if s == e:
                continue
            i = bisect.bisect_right(starts, s)
            if (i > 0 and ends[i - 1] > s) or (i < len(starts) and starts[i] < e):
                continue  # overlaps a span an earlier pattern took
            starts.insert(i, s)
            ends.insert(i, e)
    return list(zip(starts, ends, strict=True))


def mask(text: str, terms: Sequence[str] = (), *, start: int = 0, replacements: Mapping[str, str] | None = None,
         markup: bool = False) -> Masked:
    """Replace protected spans with ``<x id="N"/>`` placeholders numbered from ``start``.

    Args:
        text: the text to mask.
        terms: glossary and do-not-translate terms to protect.
        start: the first placeholder id.
        replacements: term → what it becomes after translation (a glossary's target term);
            other spans come back as they were.
        markup: also protect HTML tags and entities.
    """
    out: list[str] = []
    spans: list[str] = []
    restore: list[str] = []
    repl = replacements or {}
    pos = 0
    for s, e in protected_spans(text, terms, markup=markup):
        out.append(text[pos:s])
        out.append(f'<x id="{start + len(spans)}"/>')
        span = text[s:e]
        spans.append(span)
        restore.append(repl.get(span, span))
        pos = e
    out.append(text[pos:])
    return Masked("".join(out), tuple(spans), tuple(restore))


def check_placeholders(translated: str, masked: Masked, *, start: int = 0, field: str = "text") -> None:
    """Raise :class:`PlaceholderMismatch` unless each placeholder of ``masked`` is in ``translated``
    exactly once and no other placeholder is."""
    counts = Counter(int(m) for m in PLACEHOLDER.findall(translated))
    expected = set(range(start, start + len(masked.spans)))
    missing = sorted(expected - counts.keys())
    repeated = sorted(i for i, c in counts.items() if c > 1 and i in expected)
    unknown = sorted(i for i in counts if i not in expected)
    if missing or repeated or unknown:
        parts = []
        if missing:
            parts.append(f"lost {[masked.spans[i - start] for i in missing]}")
        if repeated:
            parts.append(f"repeated {[masked.spans[i - start] for i in repeated]}")
        if unknown:
            parts.append(f"invented placeholders {unknown}")
        raise PlaceholderMismatch(f"the translation of {field} {' and '.join(parts)}")


def unmask(translated: str, masked: Masked, *, start: int = 0, field: str = "text") -> str:
    """Restore the spans of ``masked`` into ``translated`` (glossary terms as their translation).

    Raises:
        PlaceholderMismatch: a placeholder is missing, repeated or unknown.
    """
    check_placeholders(translated, masked, start=start, field=field)
    return PLACEHOLDER.sub(lambda m: masked.restore[int(m.group(1)) - start], translated)


def xml_escape(masked_text: str) -> str:
    """Escape ``&``, ``<`` and ``>`` outside placeholders, for engines that parse XML or HTML."""
    out: list[str] = []
    pos = 0
    for m in PLACEHOLDER.finditer(masked_text):
        out.append(html.escape(masked_text[pos:m.start()], quote=False))
        out.append(m.group(0))
        pos = m.end()
    out.append(html.escape(masked_text[pos:], quote=False))
    return "".join(out)


def xml_unescape(text: str) -> str:
    """Undo :func:`xml_escape` on an engine's output (placeholders are left as they are)."""
    return html.unescape(text)
