"""Grapheme and word boundaries (Unicode UAX #29, through ``regex``), in linear time.

``regex`` finds the boundaries inside a run of regional indicators (flag halves) by counting the
run back to its start from every position: quadratic in the run's length (a 16,000-indicator run
costs half a second, 100 kB minutes). So a long run is read in pieces of :data:`RI_PIECE`
indicators, cut between two indicators an even count from the start of the run: a boundary under
the Unicode rules whatever surrounds the run. Graphemes count a run of indicators alone; words
also read through the Extend, Format and ZWJ characters between them (WB4).
"""

from __future__ import annotations

import itertools

import regex

__all__ = ["RI_PIECE", "grapheme_boundaries", "graphemes", "word_boundaries"]

_GRAPHEME = regex.compile(r"\X")
_WORD_BOUNDARY = regex.compile(r"\b", flags=regex.WORD | regex.V1)
_RI_RUNS = regex.compile(r"\p{Regional_Indicator}+")
_RI_WORD_RUNS = regex.compile(r"(?:\p{Regional_Indicator}[\p{WB=Extend}\p{WB=Format}\p{WB=ZWJ}]*)+")
#: Regional indicators read at once; the cost of a piece grows with its square.
RI_PIECE = 128


def _is_ri(ch: str) -> bool:
    return "\U0001F1E6" <= ch <= "\U0001F1FF"


def _pieces(text: str, runs: regex.Pattern[str]) -> list[tuple[int, int]]:
    """``text`` as ``(start, end)`` pieces that segment as they do inside ``text``."""
    cuts = [0]
    for m in runs.finditer(text):
        if m.end() - m.start() <= RI_PIECE:
            continue
        count = 0
        for i in range(m.start(), m.end()):
            if _is_ri(text[i]):
                if count and count % RI_PIECE == 0 and _is_ri(text[i - 1]):
                    cuts.append(i)
                count += 1
    cuts.append(len(text))
    return list(itertools.pairwise(cuts))


def grapheme_boundaries(text: str) -> list[int]:
    """Offsets between grapheme clusters, 0 and ``len(text)`` included."""
    out = [0]
    for a, b in _pieces(text, _RI_RUNS):
        out.extend(a + m.end() for m in _GRAPHEME.finditer(text[a:b]))
    return out


def graphemes(text: str) -> list[str]:
    """The grapheme clusters of ``text``, in order."""
    bounds = grapheme_boundaries(text)
    return [text[a:b] for a, b in itertools.pairwise(bounds)]


def word_boundaries(text: str) -> list[int]:
    """Offsets of Unicode default word boundaries in ``text`` (0 and ``len(text)`` when they are)."""
    out: set[int] = set()
    for a, b in _pieces(text, _RI_WORD_RUNS):
        out.update(a + m.start() for m in _WORD_BOUNDARY.finditer(text[a:b]))
    return sorted(out)
