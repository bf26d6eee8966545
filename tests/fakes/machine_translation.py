"""What the fake translation engines do to text, shared by the DeepL, Google, Microsoft,
LibreTranslate and MyMemory fakes.

A fake "translation" upper-cases the words and leaves markup alone, as a real engine leaves tags
when told to: XML/HTML tags (our ``<x id="N"/>`` placeholders among them) and entities pass
through unchanged. A test can then see which text was translated and that protected spans came
back byte for byte. ``mangle`` scripts the faults real engines show: ``drop`` loses the first
placeholder of the first text that has one, ``duplicate`` repeats it, ``markup`` translates inside
tags too (what an engine does without tag handling).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

__all__ = ["PLACEHOLDER", "fake_translate", "fake_translate_all"]

_MARKUP = re.compile(r"(<[^<>]+>|&(?:[A-Za-z][A-Za-z0-9]*|#[0-9]+|#x[0-9A-Fa-f]+);)")
PLACEHOLDER = re.compile(r"<x\s+id=\"[^\"]+\"\s*/>")


def fake_translate(text: str, *, keep_markup: bool = True) -> str:
    """``text`` "translated": words upper-cased; tags and entities kept unless ``keep_markup`` is False."""
    if not keep_markup:
        return text.upper()
    return "".join(part if _MARKUP.fullmatch(part) else part.upper() for part in _MARKUP.split(text))


def fake_translate_all(texts: Sequence[str], *, mangle: str | None = None, keep_markup: bool = True) -> list[str]:
    """Translate each of ``texts``, applying the scripted ``mangle`` fault once."""
    out = [fake_translate(t, keep_markup=keep_markup and mangle != "markup") for t in texts]
    if mangle in ("drop", "duplicate"):
        for i, text in enumerate(out):
            m = PLACEHOLDER.search(text)
            if m is None:
                continue
            repl = "" if mangle == "drop" else m.group(0) + " " + m.group(0)
            out[i] = text[:m.start()] + repl + text[m.end():]
            break
    return out
