"""Fitting text to a channel's limits without breaking it; shared by every adapter.

The rules, in order of preference for where a text may be cut:

1. after a sentence (``.``, ``!``, ``?``, ``。``, ``！``, ``？``, ``؟``, ``।`` ...) or before a line break;
2. at a space;
3. at a word boundary (Unicode's default word boundaries, which separate CJK ideographs);
4. between two grapheme clusters (``regex`` ``\\X``), never inside one.

A more preferred cut is taken unless it would keep much less text than the next kind (a sentence
cut must keep at least 60% of what a grapheme cut keeps, a space or word cut 40%). No cut ever
falls inside a URL, an @mention, a #hashtag, a ``<x id="N"/>`` placeholder or a span that the
channel's own rules make atomic (X: its URLs and emoji sequences). A cut text ends with an
ellipsis unless it ends a sentence.

Lengths are always measured by the channel's counter (:class:`~syndicate.channels.Limits`), on the
final text: weighted counters (X counts every URL as 23) are not monotone in the prefix length,
so every candidate is measured, and nothing is returned that the counter puts over the limit.

The link and the call to action are never cut: :func:`compose` and :func:`render_post` reserve
their room first, drop hashtags (last first) when room runs out, then cut the lead text. When
even the link and the call to action do not fit, they raise :class:`~syndicate.errors.ContentError`
rather than send a post that the platform would refuse.

Thread mode (:func:`render_post` with ``thread=True``) splits a long text into numbered parts
(``1/3``, by a configurable marker), the link (with the call to action) in the first or the last
part, hashtags in the last part when they fit.

Only what can fit is measured: a lead longer than twice the characters all parts can hold, plus
room for two URLs of the longest kind X counts (:data:`WINDOW_SLACK_CHARS`), is cut back to that
window (at a whitespace when there is one) before anything is measured; every counter treats a
character as at least one unit except in URLs. And rendering has a CPU budget: run under
:func:`cpu_budget`, a render that uses more of its thread's CPU time raises
:class:`~syndicate.errors.ContentError` instead of running into the worker's time limit.
"""

from __future__ import annotations

import bisect
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import regex

from ..base.segments import grapheme_boundaries, word_boundaries
from ..base.spans import EXISTING_PLACEHOLDER, HASHTAG, MENTION, URL
from ..errors import ContentError

if TYPE_CHECKING:
    from .contract import Limits

__all__ = [
    "ELLIPSIS",
    "Fitted",
    "Post",
    "SpanFinder",
    "atomic_spans",
    "compose",
    "cpu_budget",
    "fit_text",
    "grapheme_boundaries",
    "hashtags",
    "render_post",
]

ELLIPSIS = "…"

#: Finds extra spans a channel never wants cut (``text -> [(start, end), ...]``).
SpanFinder = Callable[[str], Iterable[tuple[int, int]]]
Counter = Callable[[str], int]

_SENTENCE_END = regex.compile(
    r"(?:[.!?…؟۔।॥][\"'”’»)\]]*(?=\s|$))"     # Latin, Arabic, Urdu, Devanagari: a space follows
    r"|(?:[。！？][」』”’）)]*)")                # CJK: no space follows
_LINE_BREAK = regex.compile(r"\n")
_SPACE = regex.compile(r"\s+")
_TERMINAL = frozenset(".!?。！？؟۔।॥")
_SOFT_TRAILING = frozenset(",;:、，；：–—-")

#: Characters kept beyond twice a post's (or a thread's) length: two URLs of the longest kind X
#: counts as 23 (4,096 UTF-16 units each). Text beyond the window cannot be in the post.
WINDOW_SLACK_CHARS = 2 * 4096
_WINDOW_SEARCH = 4096

_deadline: ContextVar[float | None] = ContextVar("syndicate_render_deadline", default=None)

_SENTENCE_FILL = 0.6
_SPACE_FILL = 0.4
_WORD_FILL = 0.4


@contextmanager
def cpu_budget(seconds: float) -> Iterator[None]:
    """Within this block, rendering that uses more than ``seconds`` of the calling thread's CPU
    time raises :class:`~syndicate.errors.ContentError` (text that cannot be rendered in time
    will not render in time on the next attempt either: it is a content error, not a fault)."""
    token = _deadline.set(time.thread_time() + seconds)
    try:
        yield
    finally:
        _deadline.reset(token)


def _budgeted(counter: Counter) -> Counter:
    """``counter``, checking the CPU budget of :func:`cpu_budget` before each measurement."""
    deadline = _deadline.get()
    if deadline is None:
        return counter

    def measure(text: str) -> int:
        if time.thread_time() > deadline:
            raise ContentError("the text could not be fitted to the channel within the CPU budget for rendering")
        return counter(text)

    return measure


def _window(text: str, units: int) -> tuple[str, bool]:
    """The start of ``text`` that may matter for ``units`` of post, and whether anything was left out."""
    cap = 2 * units + WINDOW_SLACK_CHARS
    if len(text) <= cap:
        return text, False
    space = max(text.rfind(c, cap - _WINDOW_SEARCH, cap) for c in " \n\t")
    return text[:space if space > 0 else cap], True


@dataclass(frozen=True)
class Fitted:
    """A text fitted to a budget.

    Attributes:
        text: the fitted text (with an ellipsis when cut mid-sentence).
        length: ``text`` measured by the counter.
        cut: whether anything was left out.
        end: offset in the input where the kept text ends (``len(input)`` when not cut).
    """

    text: str
    length: int
    cut: bool
    end: int = -1


def atomic_spans(text: str, extra: SpanFinder | None = None) -> list[tuple[int, int]]:
    """Spans that must never be cut, merged where they overlap: URLs, @mentions, #hashtags,
    placeholders, and whatever ``extra`` finds."""
    found: list[tuple[int, int]] = []
    for pat in (EXISTING_PLACEHOLDER, URL, MENTION, HASHTAG):
        found.extend(m.span() for m in pat.finditer(text))
    if extra is not None:
        found.extend(extra(text))
    merged: list[tuple[int, int]] = []
    for s, e in sorted(found):
        if e <= s:
            continue
        if merged and s < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(e, merged[-1][1]))
        else:
            merged.append((s, e))
    return merged


@dataclass(frozen=True)
class _Cut:
    end: int
    text: str
    length: int


class _Cuttable:
    """A text prepared for cutting: its grapheme boundaries, atomic spans and cut candidates."""

    def __init__(self, text: str, atomic: SpanFinder | None) -> None:
        self.text = text
        self.bounds = grapheme_boundaries(text)
        self._bset = set(self.bounds)
        self.spans = atomic_spans(text, atomic)
        self._span_starts = [s for s, _ in self.spans]
        self.sentence = self._valid([m.end() for m in _SENTENCE_END.finditer(text)]
                                    + [m.start() for m in _LINE_BREAK.finditer(text)])
        self._sentence_set = set(self.sentence)
        self.space = self._valid([m.start() for m in _SPACE.finditer(text)])
        self.word = self._valid(word_boundaries(text))
        self.graphemes = self._valid(self.bounds)

    def _inside(self, pos: int) -> bool:
        i = bisect.bisect_right(self._span_starts, pos) - 1
        return i >= 0 and self.spans[i][0] < pos < self.spans[i][1]

    def _overlaps(self, a: int, b: int) -> bool:
        i = bisect.bisect_left(self._span_starts, b) - 1
        return i >= 0 and self.spans[i][1] > a

    def _valid(self, cuts: Iterable[int]) -> list[int]:
        return sorted({c for c in cuts if c in self._bset and not self._inside(c)})

    def _prev(self, pos: int) -> int:
        return self.bounds[bisect.bisect_left(self.bounds, pos) - 1]

    def skip_space(self, pos: int) -> int:
        """``pos`` moved past whitespace clusters."""
        n = len(self.text)
        while pos < n:
            nxt = self.bounds[bisect.bisect_right(self.bounds, pos)]
            if not self.text[pos:nxt].isspace():
                break
            pos = nxt
        return pos

    def head(self, start: int, end: int, *, soft: bool) -> str:
        """``text[start:end]`` without trailing whitespace clusters (and, if ``soft``, trailing
        commas, colons and dashes that belong to no atomic span)."""
        while end > start:
            prev = self._prev(end)
            cluster = self.text[prev:end]
            if cluster.isspace() or (soft and cluster in _SOFT_TRAILING and not self._overlaps(prev, end)):
                end = prev
                continue
            break
        return self.text[start:end]

    def ends_sentence(self, cut: int) -> bool:
        return cut in self._sentence_set and self.text[:cut].rstrip("\"'”’»)]」』）").endswith(tuple(_TERMINAL))

    def best(self, start: int, budget: int, measure: Callable[[int], tuple[str, int]]) -> _Cut | None:
        """The preferred cut after ``start`` whose measured text fits ``budget``.

        Each kind of cut is searched by galloping from ``start`` and then bisecting, so that only
        texts about as long as the answer are measured. A candidate counts only once it has been
        measured to fit: weighted counters are not monotone (a URL completed by one more
        character can weigh less), so the search may miss a longer cut but never returns one
        that does not fit.
        """
        def search(cands: Sequence[int], upto: int | None = None) -> _Cut | None:
            lo = bisect.bisect_right(cands, start)
            hi = (len(cands) if upto is None else bisect.bisect_right(cands, upto)) - 1
            found: _Cut | None = None

            def attempt(i: int) -> _Cut | None:
                text, length = measure(cands[i])
                return _Cut(cands[i], text, length) if (length <= budget and text) else None

            step = 1
            while lo <= hi:
                probe = lo + step - 1
                if probe > hi:
                    break
                got = attempt(probe)
                if got is None:
                    hi = probe - 1
                    break
                found, lo, step = got, probe + 1, step * 2
            while lo <= hi:
                mid = (lo + hi) // 2
                got = attempt(mid)
                if got is not None:
                    found, lo = got, mid + 1
                else:
                    hi = mid - 1
            return found

        finest = search(self.graphemes)
        if finest is None:
            return None
        for cands, fill in ((self.sentence, _SENTENCE_FILL), (self.space, _SPACE_FILL), (self.word, _WORD_FILL)):
            found = search(cands, finest.end)
            if found is not None and found.length >= fill * finest.length:
                return found
        return finest


def _fit(src: _Cuttable, start: int, budget: int, counter: Counter, ellipsis: str) -> Fitted:
    """The best cut of ``src.text[start:]`` within ``budget``, with an ellipsis unless it ends a
    sentence; ``end`` is where the kept text ends."""

    def measure(cut: int) -> tuple[str, int]:
        if src.ends_sentence(cut):
            head = src.head(start, cut, soft=False)
            return head, counter(head) if head else 0
        head = src.head(start, cut, soft=True)
        if not head.strip():
            return "", 0
        out = head if head.endswith(ellipsis) else head + ellipsis
        return out, counter(out)

    found = src.best(start, budget, measure)
    if found is None:
        return Fitted("", 0, True, start)
    kept = src.head(start, found.end, soft=not src.ends_sentence(found.end))
    return Fitted(found.text, found.length, True, start + len(kept))


def fit_text(text: str, budget: int, counter: Counter, *, ellipsis: str = ELLIPSIS,
             atomic: SpanFinder | None = None) -> Fitted:
    """The longest start of ``text`` that, with ``ellipsis`` if cut, measures at most ``budget``.

    Cut points are tried in the order of the module docstring, never inside an atomic span (the
    built-in ones plus what ``atomic`` finds). Returns an empty text if nothing fits.
    """
    counter = _budgeted(counter)
    text, windowed = _window(text, budget)
    n = counter(text)
    if n <= budget and not windowed:
        return Fitted(text, n, False, len(text))
    if budget <= 0:
        return Fitted("", 0, True, 0)
    return _fit(_Cuttable(text, atomic), 0, budget, counter, ellipsis)


def hashtags(tags: Sequence[str], *, style: str = "camel") -> list[str]:
    """Hashtags from item tags: ``"marketing automation"`` → ``#MarketingAutomation`` (``camel``)
    or ``#marketingautomation`` (``lower``); ``none`` gives none. Tags that leave no letters, and
    repeats (hashtags are case-insensitive), are dropped."""
    if style == "none":
        return []
    out: list[str] = []
    seen: set[str] = set()
    for tag in tags:
        words = regex.findall(r"[\p{L}\p{M}\p{N}]+", tag)
        if not words:
            continue
        body = "".join(words).lower() if style == "lower" else "".join(w[:1].upper() + w[1:] for w in words)
        if body and not body.isdigit() and body.casefold() not in seen:
            seen.add(body.casefold())
            out.append("#" + body)
    return out


def _with_tail(body: str, tags: Sequence[str], budget: int, counter: Counter) -> tuple[str, tuple[str, ...]]:
    """``body`` plus as many of ``tags`` (on a new line) as fit; returns the text and the dropped tags."""
    for keep in range(len(tags), 0, -1):
        candidate = body + "\n" + " ".join(tags[:keep])
        if counter(candidate) <= budget:
            return candidate, tuple(tags[keep:])
    return body, tuple(tags)


def _single(lead: str, suffix: str, tags: Sequence[str], budget: int, counter: Counter, separator: str,
            atomic: SpanFinder | None, ellipsis: str) -> tuple[str, bool, tuple[str, ...], tuple[int, int]]:
    """One post: the text, whether the lead was cut, the dropped tags, and the slice of ``lead`` kept."""
    offset = len(lead) - len(lead.lstrip())
    lead, windowed = _window(lead, budget)
    lead = lead.strip()
    fixed = (separator + suffix) if (suffix and lead) else suffix
    whole = lead + fixed
    if counter(whole) <= budget:
        text, dropped = _with_tail(whole, tags, budget, counter)
        return text, windowed, dropped, (offset, offset + len(lead))
    if suffix and counter(suffix) > budget:
        raise ContentError(f"the link and call to action alone measure {counter(suffix)}, over the limit of {budget}")
    fixed = separator + suffix if suffix else ""
    room = budget - (counter(lead + fixed) - counter(lead))
    src = _Cuttable(lead, atomic)
    fitted = _fit(src, 0, room, counter, ellipsis)
    # The fixed part was measured in context; a weighted counter may still disagree on the join.
    while fitted.text and counter(fitted.text + fixed) > budget and room > 0:
        room -= max(1, counter(fitted.text + fixed) - budget)
        fitted = _fit(src, 0, room, counter, ellipsis)
    if not fitted.text:
        text, dropped = _with_tail(suffix, tags, budget, counter)
        return text, True, dropped, (offset, offset)
    text, dropped = _with_tail(fitted.text + fixed, tags, budget, counter)
    return text, True, dropped, (offset, offset + fitted.end)


def compose(
    *,
    text: str,
    suffix: str,
    budget: int,
    counter: Counter,
    separator: str = "\n\n",
    optional_tail: str = "",
    atomic: SpanFinder | None = None,
) -> tuple[str, bool]:
    """``text`` + ``separator`` + ``suffix`` (+ a line of ``optional_tail``) within ``budget``.

    ``suffix`` (the call to action and the link) is kept whole; the hashtags of ``optional_tail``
    are dropped, last first, when space runs out; then ``text`` is cut with :func:`fit_text`.

    Returns:
        The composed post and whether anything was cut or dropped.

    Raises:
        ContentError: ``suffix`` alone is over ``budget``.
    """
    tags = optional_tail.split()
    out, cut, dropped, _ = _single(text, suffix, tags, budget, _budgeted(counter), separator, atomic, ELLIPSIS)
    return out, cut or bool(dropped)


@dataclass(frozen=True)
class Post:
    """A rendered post: one part, or the numbered parts of a thread.

    Attributes:
        parts: the texts to send, in order.
        lengths: each part measured by the channel's counter.
        cut: lead text was shortened or left out.
        dropped_tags: hashtags left out for lack of room.
        link_part: index of the part that carries the link.
        slices: for each part, the ``(start, end)`` offsets of the lead text it holds; each part
            begins with exactly ``lead[start:end]`` (empty for a part that holds only the link).
    """

    parts: tuple[str, ...]
    lengths: tuple[int, ...]
    cut: bool
    dropped_tags: tuple[str, ...]
    link_part: int = 0
    slices: tuple[tuple[int, int], ...] = ()

    @property
    def text(self) -> str:
        """The parts, separated by blank lines (the whole post for a single part)."""
        return "\n\n".join(self.parts)

    @property
    def length(self) -> int:
        """The longest part's length."""
        return max(self.lengths)


def render_post(
    *,
    lead: str,
    link: str,
    limits: Limits,
    cta: str | None = None,
    tags: Sequence[str] = (),
    thread: bool = False,
    link_position: Literal["first", "last"] = "first",
    marker: str = " {i}/{n}",
    separator: str = "\n\n",
    atomic: SpanFinder | None = None,
    ellipsis: str = ELLIPSIS,
) -> Post:
    """Render a short-form post (lead text, call to action, link, hashtags) within ``limits``.

    With ``thread`` (and ``limits.max_parts > 1``), text that does not fit one post is split into
    numbered parts; ``marker`` (``{i}``: part number, ``{n}``: number of parts) is appended to each.
    Text beyond ``limits.max_parts`` parts is cut, with an ellipsis.

    Raises:
        ContentError: the link and call to action cannot fit, or no split fits the limit.
    """
    counter, limit = _budgeted(limits.counter), limits.max_length
    suffix = f"{cta.strip()} {link}" if cta and cta.strip() else link
    text, cut, dropped, kept = _single(lead, suffix, tags, limit, counter, separator, atomic, ellipsis)
    if not (thread and limits.max_parts > 1 and cut and lead.strip()):
        return Post((text,), (counter(text),), cut, dropped, 0, (kept,))
    offset = len(lead) - len(lead.lstrip())
    lead, windowed = _window(lead, limit * limits.max_parts)
    post = _thread(lead.strip(), suffix, tags, limits, link_position, marker, separator, atomic, ellipsis,
                   counter)
    return Post(post.parts, post.lengths, post.cut or windowed, post.dropped_tags, post.link_part,
                tuple((s + offset, e + offset) for s, e in post.slices))


def _thread(lead: str, suffix: str, tags: Sequence[str], limits: Limits, link_position: str, marker: str,
            separator: str, atomic: SpanFinder | None, ellipsis: str, counter: Counter) -> Post:
    limit, max_parts = limits.max_length, limits.max_parts
    src = _Cuttable(lead, atomic)
    fixed = separator + suffix
    fixed_cost = counter(fixed)

    def mark(i: int, n: int) -> str:
        return marker.format(i=i, n=n)

    def pack(n: int, slack: int) -> tuple[list[tuple[str, int, int]], bool]:
        """Greedy chunks ``(text, start, end)`` of ``lead`` for a thread of about ``n`` parts, and
        whether text was cut. Every chunk but the last is as long as its part allows (at the
        preferred kind of cut); the part that carries the link reserves its room."""
        chunks: list[tuple[str, int, int]] = []
        pos = src.skip_space(0)
        cut = False
        while pos < len(lead):
            i = len(chunks) + 1
            link_here = link_position == "first" and i == 1
            budget = limit - counter(mark(i, n)) - slack - (fixed_cost if link_here else 0)
            final_budget = budget - (fixed_cost if link_position == "last" else 0)
            rest = lead[pos:]
            if len(rest) <= 2 * final_budget + WINDOW_SLACK_CHARS and counter(rest) <= final_budget:
                chunks.append((rest, pos, len(lead)))
                break
            if i >= max_parts:
                tail = _fit(src, pos, final_budget, counter, ellipsis)
                if tail.text:
                    chunks.append((tail.text, pos, tail.end))
                cut = True
                break

            def measure(c: int, start: int = pos) -> tuple[str, int]:
                head = src.head(start, c, soft=False)
                return head, counter(head) if head else 0

            found = src.best(pos, budget, measure)
            if found is None:
                if link_here:
                    chunks.append(("", pos, pos))  # the first part holds the link alone
                    continue
                cut = True  # an atomic span longer than a part: the thread ends before it
                break
            chunks.append((found.text, pos, pos + len(found.text)))
            pos = src.skip_space(found.end)
        if not chunks:
            chunks = [("", 0, 0)]
        if link_position == "last":
            i = len(chunks)
            text, start, _ = chunks[-1]
            if counter(text + fixed) + counter(mark(i, n)) + slack > limit:
                if len(chunks) < max_parts:
                    chunks.append(("", len(lead), len(lead)))  # the link needs a part of its own
                else:
                    budget = limit - counter(mark(i, n)) - slack - fixed_cost
                    tail = _fit(src, start, budget, counter, ellipsis)
                    chunks[-1] = (tail.text, start, tail.end)
                    cut = True
        return chunks, cut

    slack = 0
    for _attempt in range(8):
        n = 2
        chunks, cut = pack(n, slack)
        for _ in range(6):
            if len(chunks) == n:
                break
            n = len(chunks)
            chunks, cut = pack(n, slack)
        n = len(chunks)
        link_part = 0 if link_position == "first" else n - 1
        bodies = [((text + fixed) if text else suffix) if idx == link_part else text
                  for idx, (text, _, _) in enumerate(chunks)]
        dropped: tuple[str, ...] = tuple(tags)
        if tags:
            bodies[-1], dropped = _with_tail(bodies[-1], tags, limit - counter(mark(n, n)), counter)
        parts = [body + mark(idx + 1, n) for idx, body in enumerate(bodies)]
        lengths = [counter(p) for p in parts]
        over = max(lengths) - limit
        if over <= 0 and all(b.strip() for b in bodies) and n <= max_parts:
            return Post(tuple(parts), tuple(lengths), cut, dropped, link_part,
                        tuple((start, end) for _, start, end in chunks))
        slack += max(over, 1)
    raise ContentError(f"cannot split the text into at most {max_parts} parts of {limit}")
