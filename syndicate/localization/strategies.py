"""The two ways a field goes through an engine, and when each is used.

``placeholders`` (first): the field goes whole, each protected span replaced by ``<x id="N"/>``,
in the engine's markup mode where it has one (DeepL ``tag_handling=xml`` with ``x`` ignored,
Microsoft ``textType=html``, LibreTranslate ``format=html``; Google's web endpoint and MyMemory
have none and get the placeholders as text). The engine sees whole sentences, so this is the
better translation, but only if every placeholder comes back exactly once. Spaces around a
placeholder that the engine dropped ("Lisez<x id="0"/>") are put back where the source had
them (:func:`restore_spacing`), except next to scripts written without spaces (Chinese,
Japanese, Thai...).

``split`` (when the engine damaged the placeholders of a field): the field is cut at its
protected spans and at its line breaks (:func:`split_pieces`); the pieces of text between them
are translated as plain text, all pieces of the localization in one list per request where the
engine takes a list (DeepL, Microsoft, LibreTranslate), one request per piece where it takes
one text (Google's web endpoint, MyMemory); pieces of only spaces, punctuation or digits are not
sent. The translations are joined around the untouched spans and line breaks, with the spacing
around each cut kept as it was. No placeholder travels, so none can be damaged; the price is
context: the engine translates "Read the guide at" and "or write to" without the sentence they
belong to, so word order and agreement across a span can suffer.

A field is held only when both fail (see :mod:`.localize`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import regex

from .masking import PLACEHOLDER

__all__ = ["PLACEHOLDERS", "SPLIT", "join_pieces", "restore_spacing", "split_pieces"]

#: The field went whole, spans as placeholders.
PLACEHOLDERS = "placeholders"
#: The field was cut at its spans and line breaks; the pieces went as plain text.
SPLIT = "split"

#: Where a field may be cut for the split strategy: placeholders, and runs of white space (only
#: those that hold a line break are cuts: paragraphs and list items keep their structure whatever
#: the engine does to newlines). Matching maximal runs keeps this linear in the text's length.
_CUTS = re.compile(r"<x\s+id=\"\d+\"\s*/>|\s+")

#: A letter or digit: an engine that glued one to a placeholder dropped a space.
_WORDLIKE = regex.compile(r"[\p{L}\p{N}]")
#: Scripts written without spaces between words: no space is ever inserted next to them.
_UNSPACED = regex.compile(r"[\p{Han}\p{Hiragana}\p{Katakana}\p{Thai}\p{Lao}\p{Khmer}\p{Myanmar}\p{Tibetan}]")


def split_pieces(masked_text: str) -> list[str]:
    """``masked_text`` cut at its placeholders and line breaks.

    Even indexes are the pieces of text to translate (possibly empty), odd indexes the cuts,
    kept as they are; ``"".join(split_pieces(t)) == t``.
    """
    parts: list[str] = []
    piece: list[str] = []
    pos = 0
    for m in _CUTS.finditer(masked_text):
        cut = m.group(0)
        if cut.startswith("<") or "\n" in cut:
            piece.append(masked_text[pos:m.start()])
            parts += ["".join(piece), cut]
            piece = []
        else:
            piece.append(masked_text[pos:m.end()])
        pos = m.end()
    piece.append(masked_text[pos:])
    parts.append("".join(piece))
    return parts


def join_pieces(parts: Sequence[str], translations: Sequence[str]) -> str:
    """``parts`` (from :func:`split_pieces`) with each text piece replaced by its translation.

    Raises:
        ValueError: ``translations`` does not have one entry per text piece.
    """
    texts = parts[0::2]
    if len(translations) != len(texts):
        raise ValueError(f"{len(translations)} translations for {len(texts)} pieces")
    out: list[str] = []
    for i, part in enumerate(parts):
        out.append(translations[i // 2] if i % 2 == 0 else part)
    return "".join(out)


def _glued(char: str) -> bool:
    return bool(char) and _WORDLIKE.match(char) is not None and _UNSPACED.match(char) is None


def restore_spacing(answer: str, masked_text: str) -> str:
    """Put back a space the engine dropped next to a placeholder.

    Where the source had white space right before (after) placeholder N and the answer has a
    letter or digit glued to it, or another placeholder right after it, one space is inserted.
    Nothing is removed, and nothing is inserted next to a script written without spaces.
    """
    before: set[str] = set()
    after: set[str] = set()
    for m in PLACEHOLDER.finditer(masked_text):
        if m.start() > 0 and masked_text[m.start() - 1].isspace():
            before.add(m.group(1))
        if m.end() < len(masked_text) and masked_text[m.end()].isspace():
            after.add(m.group(1))
    if not before and not after:
        return answer
    out: list[str] = []
    pos = 0
    for m in PLACEHOLDER.finditer(answer):
        out.append(answer[pos:m.start()])
        prev = answer[m.start() - 1] if m.start() > 0 else ""
        if m.group(1) in before and _glued(prev):
            out.append(" ")
        out.append(m.group(0))
        nxt = answer[m.end()] if m.end() < len(answer) else ""
        if m.group(1) in after and (_glued(nxt) or PLACEHOLDER.match(answer, m.end()) is not None):
            out.append(" ")
        pos = m.end()
    out.append(answer[pos:])
    return "".join(out)
