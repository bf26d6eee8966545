"""BCP 47 locale tags: validation, and the one place that maps them to other systems' codes.

We accept tags of the form ``language[-Script][-REGION]`` (``en-US``, ``zh-Hant-TW``, ``es-419``)
whose every subtag is registered in CLDR (through babel's data). ``en_US`` is refused with a
hint, and so are unregistered or deprecated subtags (``xx-YY``, ``en-UK``, ``iw``), which babel
would otherwise quietly alias to something else.
"""

from __future__ import annotations

import contextlib
import re
from functools import lru_cache

from babel import Locale, UnknownLocaleError

__all__ = [
    "InvalidLocale",
    "babel_locale",
    "canonical",
    "is_rtl",
    "language",
]

_TAG = re.compile(
    r"(?P<language>[A-Za-z]{2,3})"
    r"(?:-(?P<script>[A-Za-z]{4}))?"
    r"(?:-(?P<region>[A-Za-z]{2}|[0-9]{3}))?"
)

#: Deprecated or commonly mistaken subtags, with what the user most likely meant.
_HINTS = {
    "iw": "he",
    "in": "id",
    "ji": "yi",
    "jw": "jv",
    "UK": "GB",
}

_RTL_LANGUAGES = frozenset({"ar", "arc", "ckb", "dv", "fa", "he", "ks", "ps", "sd", "ug", "ur", "yi"})


class InvalidLocale(ValueError):
    """A string is not a registered BCP 47 tag that syndicate supports."""


@lru_cache(maxsize=1)
def _registry() -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
    en = Locale("en")
    return frozenset(en.languages), frozenset(en.scripts), frozenset(en.territories)


@lru_cache(maxsize=4096)
def canonical(tag: str) -> str:
    """Validate ``tag`` and return it in canonical case (``zh-hant-tw`` → ``zh-Hant-TW``).

    Raises:
        InvalidLocale: with a message that says what is wrong and, where we can tell, what was meant.
    """
    if not isinstance(tag, str) or not tag:
        raise InvalidLocale("a locale must be a non-empty string such as 'en-US'")
    if "_" in tag:
        suggestion = tag.replace("_", "-")
        with contextlib.suppress(InvalidLocale):
            suggestion = canonical(suggestion)
        raise InvalidLocale(f"{tag!r} uses '_'; locales are BCP 47 tags with hyphens: did you mean {suggestion!r}?")
    m = _TAG.fullmatch(tag)
    if m is None:
        raise InvalidLocale(f"{tag!r} is not a BCP 47 tag of the form language[-Script][-REGION], e.g. 'en-US'")
    languages, scripts, regions = _registry()
    lang = m["language"].lower()
    script = m["script"].title() if m["script"] else None
    region = m["region"].upper() if m["region"] else None
    for sub in (lang, region):
        if sub and sub in _HINTS:
            raise InvalidLocale(f"{tag!r}: {sub!r} is deprecated or not a registered subtag; use {_HINTS[sub]!r}")
    if lang not in languages or lang == "und":
        raise InvalidLocale(f"{tag!r}: {lang!r} is not a registered language subtag")
    if script is not None and script not in scripts:
        raise InvalidLocale(f"{tag!r}: {script!r} is not a registered script subtag")
    if region is not None and region not in regions:
        raise InvalidLocale(f"{tag!r}: {region!r} is not a registered region subtag")
    out = "-".join(p for p in (lang, script, region) if p)
    try:
        Locale.parse(out, sep="-")
    except (UnknownLocaleError, ValueError):
        raise InvalidLocale(f"{tag!r} has no locale data (dates and numbers cannot be formatted for it)") from None
    return out


@lru_cache(maxsize=1024)
def babel_locale(tag: str) -> Locale:
    """The babel ``Locale`` for a canonical tag (``zh-TW`` gives ``zh_Hant_TW``)."""
    return Locale.parse(canonical(tag), sep="-")


def language(tag: str) -> str:
    """The language subtag of ``tag`` (``pt-BR`` → ``pt``)."""
    return canonical(tag).split("-", 1)[0]


def is_rtl(tag: str) -> bool:
    """Whether text in ``tag`` is written right to left (``dir="rtl"`` in HTML)."""
    parts = canonical(tag).split("-")
    if len(parts) > 1 and parts[1] in ("Arab", "Hebr", "Thaa", "Syrc", "Nkoo", "Adlm", "Rohg"):
        return True
    if len(parts) > 1 and len(parts[1]) == 4:
        return False  # an explicit non-RTL script, e.g. ks-Deva
    return parts[0] in _RTL_LANGUAGES
