"""Translation engines: the ``Translator`` protocol, the built-in ``pseudo`` and ``none`` engines,
and the registry that finds an engine by name."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

__all__ = ["ENGINES", "NoneTranslator", "PseudoTranslator", "TranslateOptions", "Translator", "build_translator"]


@dataclass(frozen=True)
class TranslateOptions:
    """Options for one batch call.

    Attributes:
        engine_options: the route's ``translation.options`` (formality, server URL, ...).
        glossary: term → translation for the target language.
        glossary_version: a hash of the glossary, part of cache keys.
    """

    engine_options: Mapping[str, Any] = field(default_factory=dict)
    glossary: Mapping[str, str] = field(default_factory=dict)
    glossary_version: str = ""


class Translator(Protocol):
    """A machine translation engine.

    ``translate`` takes one batch of segments for one (item revision, locale) and returns their
    translations in the same order. Segments contain ``<x id="N"/>`` placeholders that must come
    back unchanged. Errors are :class:`~syndicate.errors.LocalizationError` subclasses.
    """

    name: str

    def translate(self, segments: Sequence[str], source: str, target: str, options: TranslateOptions) -> list[str]:
        """Translate ``segments`` from BCP 47 ``source`` to ``target``."""
        ...


class NoneTranslator:
    """Publishes the source text unchanged: only for routes that say so (``engine: none``)."""

    name = "none"

    def translate(self, segments: Sequence[str], source: str, target: str, options: TranslateOptions) -> list[str]:
        """Return ``segments`` as they are."""
        return list(segments)


_PSEUDO = str.maketrans(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
    "àƀçđéƒĝĥíĵķĺɱñóþǫŕšŧúṽŵẋýžÀƁÇĐÉƑĜĤÍĴĶĹṀÑÓÞǪŔŠŦÚṼŴẊÝŽ",
)
_TAG = re.compile(r"(<[^>]*>)")


class PseudoTranslator:
    """Pseudo-localization for demos and layout QA: accents every letter, adds ~30 % length, and
    brackets each segment, so untranslated strings and truncation stand out."""

    name = "pseudo"

    def translate(self, segments: Sequence[str], source: str, target: str, options: TranslateOptions) -> list[str]:
        """Pseudo-localize ``segments``; placeholders and markup are left untouched."""
        out = []
        for seg in segments:
            if not seg.strip():
                out.append(seg)
                continue
            pieces = _TAG.split(seg)
            body = "".join(p if _TAG.fullmatch(p) else p.translate(_PSEUDO) for p in pieces)
            letters = sum(c.isalpha() for c in seg)
            out.append(f"[{body} {'~' * max(1, letters * 3 // 10)}]")
        return out


#: Engine name → factory taking the route's engine options.
ENGINES: dict[str, Callable[[Mapping[str, Any]], Translator]] = {
    "none": lambda _opts: NoneTranslator(),
    "pseudo": lambda _opts: PseudoTranslator(),
}


def build_translator(name: str, options: Mapping[str, Any]) -> Translator:
    """The engine called ``name``, configured with ``options``."""
    try:
        factory = ENGINES[name]
    except KeyError:
        raise ValueError(f"unknown translation engine {name!r}; known: {', '.join(sorted(ENGINES))}") from None
    return factory(options)
