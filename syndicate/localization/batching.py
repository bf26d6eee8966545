"""Fitting segments into engine requests: one request per (item, locale) unless a limit forces more.

Every engine has a documented size limit per request (DeepL 128 KiB per request body, Google 5,000
characters, Microsoft 50,000 characters, MyMemory 500 bytes; LibreTranslate's is the instance's
``--char-limit``). :class:`BatchingTranslator` turns the segments of one localization (title,
summary, body, CTA, with placeholders) into as few requests as those limits allow:

1. whitespace around each segment is kept aside and put back afterwards (engines trim it), and a
   segment with no letters outside placeholders (a bare URL) is not sent at all;
2. a segment longer than the limit is split at paragraph breaks, else line breaks, else sentence
   ends, else spaces, and only as a last resort between two graphemes; never inside a placeholder;
3. the pieces are packed, in order, into requests: a list of texts for engines that take a list
   (DeepL, Microsoft, LibreTranslate), or, for engines that take one text (Google's web endpoint,
   MyMemory), one text joined with boundary markers ``<x id="bN"/>`` when the segments carry
   placeholders anyway. The markers must come back once each and in order, like placeholders;
   otherwise the answer is refused with :class:`~syndicate.errors.PlaceholderMismatch`. Plain
   text pieces (the ``split`` strategy, ``TranslateOptions.markup`` false) are never joined with
   markers: such an engine gets one request per piece;
4. a space the engine dropped next to a placeholder is put back where the text had one
   (:func:`~.strategies.restore_spacing`);
5. each request is sent with :func:`~.retrying.call_with_retries`: a transient fault is retried
   within seconds, at the engine's pace, before the error reaches the localize step.
"""

from __future__ import annotations

import bisect
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ..base.locales import engine_code
from ..base.metrics import observe_mt_call
from ..base.segments import graphemes
from ..errors import PlaceholderMismatch, TranslationRejected
from .masking import PLACEHOLDER, xml_escape, xml_unescape
from .options import TranslateOptions
from .retrying import DEFAULT_POLICY, RETRY_BUDGET, RetryPolicy, call_with_retries
from .strategies import restore_spacing

__all__ = ["JOINED", "BatchingTranslator", "join_segments", "pack", "split_joined", "split_text"]

#: The key of :attr:`PlaceholderMismatch.answers` for an answer that could not be split back
#: into its segments (one text joined with boundary markers).
JOINED = "*"

Measure = Callable[[str], int]

_LEVELS = (
    re.compile(r"\n[ \t]*\n\s*"),                 # paragraphs
    re.compile(r"\n\s*"),                         # lines
    re.compile(r"(?<=[.!?。！？])\s+|(?<=[。！？])"),  # sentences
    re.compile(r"\s+"),                           # words
)
#: Leading whitespace is taken only from where a whitespace run starts: a leading ``\s*`` tried
#: inside a long run reads the rest of the run from every position of it (quadratic). A boundary
#: right after another one (whose trailing whitespace that match took) still matches.
_BOUNDARY = re.compile(r"(?:(?<!\s)\s+)?<x\s+id=\"b(\d+)\"\s*/>\s*")
_BOUNDARY_SEP = "\n\n<x id=\"b{}\"/>\n\n"


def _placeholder_spans(text: str) -> list[tuple[int, int]]:
    return [m.span() for m in PLACEHOLDER.finditer(text)]


def _hard_cut(text: str, limit: int, measure: Measure) -> list[str]:
    """Cut between graphemes, outside placeholders, into pieces of at most ``limit``."""
    atoms: list[str] = []
    pos = 0
    for s, e in _placeholder_spans(text):
        atoms.extend(graphemes(text[pos:s]))
        atoms.append(text[s:e])
        pos = e
    atoms.extend(graphemes(text[pos:]))
    out: list[str] = []
    cur = ""
    for atom in atoms:
        if cur and measure(cur + atom) > limit:
            out.append(cur)
            cur = ""
        cur += atom
    if cur:
        out.append(cur)
    return out


def split_text(text: str, limit: int, measure: Measure = len, *, _level: int = 0) -> list[str]:
    """Split ``text`` into consecutive pieces of at most ``limit`` (by ``measure``).

    ``"".join(pieces) == text``; each separator stays at the end of the piece before it. Pieces are
    as large as the limit allows, cut at the coarsest boundary that works.
    """
    if measure(text) <= limit:
        return [text]
    if _level == len(_LEVELS):
        return _hard_cut(text, limit, measure)
    inside = _placeholder_spans(text)
    starts = [s for s, _e in inside]
    units: list[str] = []
    pos = 0
    for m in _LEVELS[_level].finditer(text):
        i = bisect.bisect_right(starts, m.start())
        overlaps = (i > 0 and inside[i - 1][1] > m.start()) or (i < len(inside) and inside[i][0] < m.end())
        if m.end() == 0 or overlaps:
            continue
        if m.end() > pos:
            units.append(text[pos:m.end()])
            pos = m.end()
    if pos < len(text):
        units.append(text[pos:])
    if len(units) <= 1:
        return split_text(text, limit, measure, _level=_level + 1)
    chunks: list[str] = []
    cur = ""
    for unit in units:
        if measure(unit) > limit:
            if cur:
                chunks.append(cur)
                cur = ""
            chunks.extend(split_text(unit, limit, measure, _level=_level + 1))
        elif measure(cur + unit) <= limit:
            cur += unit
        else:
            chunks.append(cur)
            cur = unit
    if cur:
        chunks.append(cur)
    return chunks


def pack(sizes: Sequence[int], limit: int, max_items: int) -> list[list[int]]:
    """Group consecutive indexes so each group's total size is at most ``limit`` and it has at most
    ``max_items`` members (a single oversized member gets a group of its own)."""
    groups: list[list[int]] = []
    cur: list[int] = []
    total = 0
    for i, size in enumerate(sizes):
        if cur and (total + size > limit or len(cur) >= max_items):
            groups.append(cur)
            cur, total = [], 0
        cur.append(i)
        total += size
    if cur:
        groups.append(cur)
    return groups


def join_segments(texts: Sequence[str]) -> str:
    """One text from several, separated by boundary markers ``<x id="bN"/>``."""
    return "".join(t if i == 0 else _BOUNDARY_SEP.format(i) + t for i, t in enumerate(texts))


def split_joined(text: str, count: int, *, engine: str = "engine") -> list[str]:
    """Undo :func:`join_segments` on a translation.

    Raises:
        PlaceholderMismatch: a boundary marker is missing, repeated or out of order.
    """
    found = [int(m.group(1)) for m in _BOUNDARY.finditer(text)]
    if found != list(range(1, count)):
        raise PlaceholderMismatch(f"{engine} moved, lost or repeated segment boundaries "
                                  f"(expected {count - 1}, found {found})", answers={JOINED: text})
    return [part.strip() for part in _BOUNDARY.split(text)[::2]]


def _has_words(text: str) -> bool:
    return any(c.isalpha() for c in PLACEHOLDER.sub("", text))


@dataclass
class _Piece:
    segment: int
    lead: str
    core: str
    trail: str


class BatchingTranslator:
    """Base of engines with request limits: subclasses set the limits and implement :meth:`_send`.

    Attributes:
        name: the engine's name.
        max_request: the size limit of one request, in :meth:`measure` units.
        max_items: texts per request; 1 means the engine takes one text and segments are joined.
        escape_markup: in markup mode the engine parses XML/HTML: escape ``&<>`` outside placeholders.
        retry_policy: how a request that failed for a passing reason is retried (see :mod:`.retrying`).
        requests: how many requests this instance has sent, retries included (for metrics and tests).
    """

    name = "engine"
    max_request = 5_000
    max_items = 1
    escape_markup = False

    def __init__(self, retry_policy: RetryPolicy = DEFAULT_POLICY) -> None:
        self.requests = 0
        self.retry_policy = retry_policy

    def measure(self, text: str) -> int:
        """The size of ``text`` as the engine's limit counts it (characters by default)."""
        return len(text)

    def codes(self, source: str, target: str) -> tuple[str, str]:
        """The engine's codes for BCP 47 ``source`` and ``target``.

        Raises:
            TranslationRejected: the engine cannot translate between them.
        """
        try:
            return engine_code(self.name, source, role="source"), engine_code(self.name, target)
        except ValueError as exc:
            raise TranslationRejected(str(exc)) from None

    def _send(self, texts: list[str], source: str, target: str, markup: bool) -> list[str]:
        """Send one request translating ``texts`` (engine codes); return the translations in order.

        ``markup``: the texts carry placeholders (encoded by :meth:`_encode`): use the engine's
        markup mode. Otherwise they are plain text.
        """
        raise NotImplementedError

    def _encode(self, text: str) -> str:
        """``text`` (with placeholders) as the engine's markup mode takes it."""
        return xml_escape(text) if self.escape_markup else text

    def _decode(self, answer: str, text: str) -> str:
        """Undo :meth:`_encode` on the engine's ``answer`` to ``text`` (as it was before encoding).

        Raises:
            PlaceholderMismatch: the answer cannot be decoded (what the encoding added is damaged).
        """
        return xml_unescape(answer) if self.escape_markup else answer

    def _size(self, text: str, markup: bool) -> int:
        return self.measure(self._encode(text) if markup else text)

    def _request(self, texts: list[str], source: str, target: str, markup: bool, deadline: float) -> list[str]:
        """:meth:`_send`, retried after a transient fault until ``deadline``."""

        def once() -> list[str]:
            self.requests += 1
            started = time.monotonic()
            try:
                return self._send(texts, source, target, markup)
            finally:
                observe_mt_call(self.name, time.monotonic() - started)

        return call_with_retries(once, engine=self.name, policy=self.retry_policy, deadline=deadline)

    def translate(self, segments: Sequence[str], source: str, target: str, options: object = None) -> list[str]:
        """Translate ``segments`` in as few requests as the engine's limits allow.

        ``options``: a :class:`~.engines.TranslateOptions` (its ``markup`` and ``retry_deadline``
        are read here), or None for the defaults.
        """
        opts = options if isinstance(options, TranslateOptions) else TranslateOptions()
        markup = opts.markup
        deadline = (opts.retry_deadline if opts.retry_deadline is not None
                    else time.monotonic() + RETRY_BUDGET.total_seconds())
        src, tgt = self.codes(source, target)
        joined = self.max_items == 1 and markup
        overhead = self.measure(_BOUNDARY_SEP.format(999)) if joined else 0
        limit = max(1, self.max_request - overhead)

        def size(text: str) -> int:
            return self._size(text, markup)

        pieces: list[_Piece] = []
        for i, seg in enumerate(segments):
            for chunk in split_text(seg, limit, size):
                core = chunk.strip()
                lead = chunk[:len(chunk) - len(chunk.lstrip())]
                trail = chunk[len(lead) + len(core):]
                pieces.append(_Piece(i, lead, core, trail))
        todo = [p for p in pieces if _has_words(p.core)]
        outputs: dict[int, str] = {}
        per_request = self.max_items if self.max_items > 1 else 10_000 if joined else 1
        groups = pack([size(p.core) + overhead for p in todo], self.max_request, per_request)
        for group in groups:
            texts = [todo[i].core for i in group]
            sent = [self._encode(t) for t in texts] if markup else texts
            if joined:
                [answer] = self._request([join_segments(sent)], src, tgt, markup, deadline)
                answers = split_joined(answer, len(sent), engine=self.name)
            else:
                answers = self._request(sent, src, tgt, markup, deadline)
                if len(answers) != len(sent):
                    raise TranslationRejected(
                        f"{self.name} returned {len(answers)} translations for {len(sent)} texts")
            if markup:
                answers = [restore_spacing(self._decode(a, t), t) for a, t in zip(answers, texts, strict=True)]
            for i, answer in zip(group, answers, strict=True):
                outputs[id(todo[i])] = answer.strip()
        out = ["" for _ in segments]
        for p in pieces:
            out[p.segment] += p.lead + outputs.get(id(p), p.core) + p.trail
        return out
