"""Rendering helpers shared by adapters: fit text to a channel's limit without breaking it.

Text is cut at a sentence end, else at a word boundary, else between grapheme clusters (``regex``
``\\X``), never inside a URL, an @mention or a #hashtag, and an ellipsis marks the cut. The link and
the call to action are not part of the cuttable text: :func:`compose` reserves their room first,
so they always survive.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import regex

from .localization.masking import HASHTAG, MENTION, URL

__all__ = ["ELLIPSIS", "Fitted", "atomic_spans", "compose", "fit_text", "grapheme_boundaries", "hashtags"]

ELLIPSIS = "…"

_GRAPHEME = regex.compile(r"\X")
_SENTENCE_END = regex.compile(r"[.!?。！？…](?:[\"'”’»)\]]*)(?=\s|$)")
_WORD_GAP = regex.compile(r"\s+")


@dataclass(frozen=True)
class Fitted:
    """A text fitted to a budget: the text, its measured length, and whether it was cut."""

    text: str
    length: int
    cut: bool


def grapheme_boundaries(text: str) -> list[int]:
    """Offsets between grapheme clusters, 0 and ``len(text)`` included."""
    out = [0]
    for m in _GRAPHEME.finditer(text):
        out.append(m.end())
    return out


def atomic_spans(text: str) -> list[tuple[int, int]]:
    """Spans that must never be cut: URLs, @mentions, #hashtags."""
    spans: list[tuple[int, int]] = []
    for pat in (URL, MENTION, HASHTAG):
        for m in pat.finditer(text):
            s, e = m.span()
            if not any(s < te and ts < e for ts, te in spans):
                spans.append((s, e))
    return sorted(spans)


def _inside(pos: int, spans: Sequence[tuple[int, int]]) -> bool:
    i = bisect.bisect_right([s for s, _ in spans], pos) - 1
    return i >= 0 and spans[i][0] < pos < spans[i][1]


def fit_text(text: str, budget: int, counter: Callable[[str], int], *, ellipsis: str = ELLIPSIS) -> Fitted:
    """The longest start of ``text`` that, with ``ellipsis`` if cut, measures at most ``budget``.

    Cut points are tried in order of preference: after a sentence end, at a word boundary, then
    between graphemes; never inside an atomic span. Returns an empty text if nothing fits.
    """
    n = counter(text)
    if n <= budget:
        return Fitted(text, n, False)
    if budget <= 0:
        return Fitted("", 0, True)
    spans = atomic_spans(text)
    graphemes = grapheme_boundaries(text)
    gset = set(graphemes)
    sentence_cuts = [m.end() for m in _SENTENCE_END.finditer(text)]
    word_cuts = [m.start() for m in _WORD_GAP.finditer(text)]
    candidates_by_pref = [sentence_cuts, word_cuts, graphemes]

    def measure(cut: int) -> tuple[str, int]:
        head = text[:cut].rstrip()
        out = head if head.endswith(ellipsis) else head + ellipsis
        if cut in sentence_cuts and head and head[-1] in ".!?。！？":
            out = head  # a whole sentence needs no ellipsis
        return out, counter(out)

    for cuts in candidates_by_pref:
        valid = sorted({c for c in cuts if 0 < c < len(text) and c in gset and not _inside(c, spans)})
        # the counter is monotone in the prefix length, so binary search the largest fitting cut
        lo, hi, best = 0, len(valid) - 1, None
        while lo <= hi:
            mid = (lo + hi) // 2
            out, length = measure(valid[mid])
            if length <= budget and out.strip(ellipsis + " "):
                best = (out, length)
                lo = mid + 1
            else:
                hi = mid - 1
        if best is not None:
            return Fitted(best[0], best[1], True)
    return Fitted("", 0, True)


def hashtags(tags: Sequence[str], *, style: str = "camel") -> list[str]:
    """Hashtags from item tags: ``"marketing automation"`` → ``#MarketingAutomation`` (``camel``)
    or ``#marketingautomation`` (``lower``). Tags that leave no letters are dropped."""
    out = []
    for tag in tags:
        words = regex.findall(r"[\p{L}\p{N}]+", tag)
        if not words:
            continue
        body = "".join(words).lower() if style == "lower" else "".join(w[:1].upper() + w[1:] for w in words)
        if body and not body.isdigit():
            out.append("#" + body)
    return out


def compose(
    *,
    text: str,
    suffix: str,
    budget: int,
    counter: Callable[[str], int],
    separator: str = "\n\n",
    optional_tail: str = "",
) -> tuple[str, bool]:
    """``text`` + ``separator`` + ``suffix`` (+ ``optional_tail``) within ``budget``.

    ``suffix`` (the call to action and the link) is kept whole; ``optional_tail`` (hashtags) is
    dropped first when space runs out; then ``text`` is cut with :func:`fit_text`.

    Returns:
        The composed post and whether anything was cut or dropped.
    """
    for tail in ((optional_tail, False), ("", bool(optional_tail))):
        fixed = (separator + suffix if suffix else "") + (("\n" + tail[0]) if tail[0] else "")
        whole = text + fixed
        if counter(whole) <= budget:
            return whole, tail[1]
    fixed = separator + suffix if suffix else ""
    # Measure the fixed part in context: weighted counters are additive over concatenation.
    room = budget - (counter(text + fixed) - counter(text))
    fitted = fit_text(text, room, counter)
    if not fitted.text:
        return suffix, True
    return fitted.text + fixed, True
