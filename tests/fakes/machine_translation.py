"""What the fake translation engines do to text, shared by the DeepL, Google, Microsoft,
LibreTranslate and MyMemory fakes.

A fake "translation" upper-cases the words and leaves markup alone, as a real engine leaves tags
when told to: XML/HTML tags (our ``<x id="N"/>`` placeholders among them) and entities pass
through unchanged. A test can then see which text was translated and that protected spans came
back byte for byte.

``mangle`` scripts the faults real engines show, one mode or several joined with ``+``
(``"drop+invent"``):

* ``drop`` loses the first placeholder of the first text that has one, ``duplicate`` repeats it
  (in any mode: an engine that damages tags even in its markup mode);
* ``markup`` translates inside tags too (what an engine does without tag handling);
* ``alter`` alters tags in text mode only, as a LibreTranslate instance was seen to do
  (``<x id="0"/>`` came back as ``<x íd="0"/>``); in the engine's markup mode tags are kept;
* ``invent`` adds a placeholder of its own to every answer in text mode, so even plain text
  pieces come back damaged (both strategies fail).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

__all__ = ["PLACEHOLDER", "fake_translate", "fake_translate_all", "mangle_all", "modes"]

_MARKUP = re.compile(r"(<[^<>]+>|&(?:[A-Za-z][A-Za-z0-9]*|#[0-9]+|#x[0-9A-Fa-f]+);)")
#: A placeholder as we send it, or as an HTML parser writes it back (``<x id="0"></x>``).
PLACEHOLDER = re.compile(r"<x\s+id=\"[^\"]+\"\s*(?:/>|>\s*</x>)")
_TAG = re.compile(r"<[^<>]+>")
INVENTED = '<x id="99"/>'


def modes(mangle: str | None) -> set[str]:
    """The fault modes in ``mangle`` (``"drop+invent"`` → ``{"drop", "invent"}``)."""
    return set(mangle.split("+")) if mangle else set()


def fake_translate(text: str, *, keep_markup: bool = True) -> str:
    """``text`` "translated": words upper-cased; tags and entities kept unless ``keep_markup`` is False."""
    if not keep_markup:
        return text.upper()
    return "".join(part if _MARKUP.fullmatch(part) else part.upper() for part in _MARKUP.split(text))


def mangle_all(out: list[str], mangle: str | None, *, text_mode: bool = False) -> list[str]:
    """Apply the scripted faults of ``mangle`` to translations ``out`` (``text_mode``: the engine
    was asked for plain text, not its markup mode)."""
    wanted = modes(mangle)
    if text_mode and "alter" in wanted:
        out = [_TAG.sub(lambda m: m.group(0).replace(" id=", " íd="), t) for t in out]
    if wanted & {"drop", "duplicate"}:
        for i, text in enumerate(out):
            m = PLACEHOLDER.search(text)
            if m is None:
                continue
            repl = "" if "drop" in wanted else m.group(0) + " " + m.group(0)
            out[i] = text[:m.start()] + repl + text[m.end():]
            break
    if text_mode and "invent" in wanted:
        out = [f"{t} {INVENTED}" for t in out]
    return out


def fake_translate_all(texts: Sequence[str], *, mangle: str | None = None, keep_markup: bool = True,
                       text_mode: bool = False) -> list[str]:
    """Translate each of ``texts``, applying the scripted ``mangle`` faults."""
    out = [fake_translate(t, keep_markup=keep_markup and "markup" not in modes(mangle)) for t in texts]
    return mangle_all(out, mangle, text_mode=text_mode)
