"""Protect what must not be translated: URLs, mentions, hashtags, code, e-mail addresses, terms.

:func:`mask` replaces each protected span with a placeholder ``<x id="N"/>`` (XML, so engines with
tag handling keep it); :func:`unmask` puts the spans back and checks that every placeholder came
back exactly once, raising :class:`~syndicate.errors.PlaceholderMismatch` otherwise.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from ..errors import PlaceholderMismatch

__all__ = ["Masked", "mask", "protected_spans", "unmask"]

URL = re.compile(r"\bhttps?://[^\s<>\"'`]+[^\s<>\"'`.,;:!?)\]}]")
EMAIL = re.compile(r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b")
MENTION = re.compile(r"(?<![\w@])@[A-Za-z0-9_]{1,50}(?:/[A-Za-z0-9_-]{1,50})?")
HASHTAG = re.compile(r"(?<![\w#&])#[^\W_][\w]*", re.UNICODE)
CODE_FENCE = re.compile(r"```.*?```|~~~.*?~~~", re.DOTALL)
CODE_SPAN = re.compile(r"`[^`\n]+`")
EXISTING_PLACEHOLDER = re.compile(r"<x\s+id=\"\d+\"\s*/>")
PLACEHOLDER = re.compile(r"<x\s+id=\"(\d+)\"\s*/>")


@dataclass(frozen=True)
class Masked:
    """Masked text and the spans its placeholders stand for (index = placeholder id)."""

    text: str
    spans: tuple[str, ...]


def _term_pattern(terms: Sequence[str]) -> re.Pattern[str] | None:
    cleaned = sorted({t for t in terms if t.strip()}, key=len, reverse=True)
    if not cleaned:
        return None
    return re.compile(r"(?<!\w)(?:" + "|".join(re.escape(t) for t in cleaned) + r")(?!\w)")


def protected_spans(text: str, terms: Sequence[str] = ()) -> list[tuple[int, int]]:
    """Non-overlapping ``(start, end)`` spans to protect, in order; earlier patterns win overlaps."""
    patterns: list[re.Pattern[str]] = [EXISTING_PLACEHOLDER, CODE_FENCE, CODE_SPAN, URL, EMAIL, MENTION, HASHTAG]
    tp = _term_pattern(terms)
    if tp is not None:
        patterns.append(tp)
    taken: list[tuple[int, int]] = []
    for pat in patterns:
        for m in pat.finditer(text):
            s, e = m.span()
            if s == e or any(s < te and ts < e for ts, te in taken):
                continue
            taken.append((s, e))
    return sorted(taken)


def mask(text: str, terms: Sequence[str] = (), *, start: int = 0) -> Masked:
    """Replace protected spans with ``<x id="N"/>`` placeholders numbered from ``start``."""
    out: list[str] = []
    spans: list[str] = []
    pos = 0
    for s, e in protected_spans(text, terms):
        out.append(text[pos:s])
        out.append(f'<x id="{start + len(spans)}"/>')
        spans.append(text[s:e])
        pos = e
    out.append(text[pos:])
    return Masked("".join(out), tuple(spans))


def unmask(translated: str, masked: Masked, *, start: int = 0, field: str = "text") -> str:
    """Restore the spans of ``masked`` into ``translated``.

    Raises:
        PlaceholderMismatch: a placeholder is missing, repeated or unknown.
    """
    ids = [int(m) for m in PLACEHOLDER.findall(translated)]
    counts = Counter(ids)
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
    return PLACEHOLDER.sub(lambda m: masked.spans[int(m.group(1)) - start], translated)
