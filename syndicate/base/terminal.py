"""Text bound for a terminal: control characters shown, never obeyed.

Machine translations, platform error texts and anything else stored from the outside may hold
characters that a terminal acts on instead of showing: C0 controls (ESC starts the escape
sequences that move the cursor, rewrite the title or clear the screen; BEL rings), C1 controls
(U+009B is a one-character CSI on some terminals), bidirectional controls (U+202E turns the rest
of the line around, "Trojan Source"), and lone surrogates (which cannot even be encoded for
output). :func:`printable` shows each of them as ``<U+XXXX>``, so a reviewer sees that they are
there; :func:`printable_json` escapes them as JSON ``\\uXXXX``, which keeps the JSON's meaning.
"""

from __future__ import annotations

import re

__all__ = ["UNSAFE", "printable", "printable_json"]

#: What a terminal may act on: C0 controls but LF, DEL, C1 controls, bidi marks, embeddings,
#: overrides and isolates, the line and paragraph separators, and lone surrogates.
UNSAFE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029"
                    "\ud800-\udfff]")


def printable(text: str) -> str:
    """``text`` safe to print: CRLF becomes LF, a tab four spaces, and every other character of
    :data:`UNSAFE` its visible code, ``<U+202E>``. Line feeds are kept."""
    text = text.replace("\r\n", "\n").replace("\t", "    ")
    return UNSAFE.sub(lambda m: f"<U+{ord(m.group()):04X}>", text)


def printable_json(text: str) -> str:
    """JSON text (as ``json.dumps(..., ensure_ascii=False)`` writes it) with every character of
    :data:`UNSAFE` escaped as ``\\uXXXX``: the same JSON value, safe on a terminal."""
    return UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
