"""BCP 47 locale tags: validation, and the one place that maps them to other systems' codes.

We accept tags of the form ``language[-Script][-REGION]`` (``en-US``, ``zh-Hant-TW``, ``es-419``)
whose every subtag is registered in CLDR (through babel's data). ``en_US`` is refused with a
hint, and so are unregistered or deprecated subtags (``xx-YY``, ``en-UK``, ``iw``), which babel
would otherwise quietly alias to something else.

Every other system spells locales its own way; this module is the one place that knows how:

=============== ================== ===========================================================
system          ``zh-TW`` becomes  notes
=============== ================== ===========================================================
DeepL target    ``ZH-HANT``        ``EN-US``/``EN-GB``, ``PT-BR``/``PT-PT``, ``ES-419``, ``NB``
DeepL source    ``ZH``             language only, upper case
Google          ``zh-TW``          ``iw`` (Hebrew), ``jw`` (Javanese), ``tl`` (Filipino)
Microsoft       ``zh-Hant``        ``pt``/``pt-PT``, ``fr-CA``, ``sr-Latn``, ``prs`` (Dari)
LibreTranslate  (refused)          the 17 languages deep-translator knows; ``zh`` is simplified
MyMemory        ``zh-TW``          language-REGION, region filled in from CLDR likely subtags
LinkedIn        ``zh_TW``          language_COUNTRY
WordPress/HTML  ``zh-TW``          BCP 47 with a region
=============== ================== ===========================================================

:func:`engine_code` and :func:`platform_code` raise :class:`UnsupportedLocale` (a
:class:`InvalidLocale`) with a clear message when a system has no code for a locale.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Mapping
from functools import lru_cache
from html import escape
from typing import Literal

from babel import Locale, UnknownLocaleError
from babel.core import get_global

__all__ = [
    "ENGINE_NAMES",
    "PLATFORM_NAMES",
    "InvalidLocale",
    "UnsupportedLocale",
    "babel_locale",
    "canonical",
    "engine_code",
    "html_attributes",
    "html_dir",
    "is_rtl",
    "language",
    "maximize",
    "platform_code",
    "supports",
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
_RTL_SCRIPTS = frozenset({"Arab", "Hebr", "Thaa", "Syrc", "Nkoo", "Adlm", "Rohg", "Mand", "Samr"})


class InvalidLocale(ValueError):
    """A string is not a registered BCP 47 tag that syndicate supports."""


class UnsupportedLocale(InvalidLocale):
    """A valid tag for which an engine or a platform has no code."""


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
    """Whether text in ``tag`` is written right to left (``dir="rtl"`` in HTML).

    An explicit script decides (``ks-Deva`` is left to right, ``pa-Arab`` right to left); without
    one, the language's likely script does (``ur`` → Arab).
    """
    lang, script, _region = maximize(tag)
    if script is not None:
        return script in _RTL_SCRIPTS
    return lang in _RTL_LANGUAGES


@lru_cache(maxsize=2048)
def maximize(tag: str) -> tuple[str, str | None, str | None]:
    """``(language, script, region)`` of ``tag``, missing parts filled from CLDR likely subtags.

    ``zh-TW`` → ``("zh", "Hant", "TW")``, ``pt`` → ``("pt", "Latn", "BR")``, ``sr-ME`` →
    ``("sr", "Latn", "ME")``. Parts CLDR cannot guess stay None.
    """
    parts = canonical(tag).split("-")
    lang = parts[0]
    script = next((p for p in parts[1:] if len(p) == 4), None)
    region = next((p for p in parts[1:] if len(p) in (2, 3) and p != lang), None)
    likely: Mapping[str, str] = get_global("likely_subtags")
    keys = [k for k in (f"{lang}_{script}_{region}" if script and region else None,
                        f"{lang}_{region}" if region else None,
                        f"{lang}_{script}" if script else None,
                        lang) if k]
    for key in keys:
        found = likely.get(key)
        if found:
            got = found.split("_")
            got_script = next((p for p in got[1:] if len(p) == 4), None)
            got_region = next((p for p in got[1:] if len(p) in (2, 3)), None)
            return lang, script or got_script, region or got_region
    return lang, script, region


# -- engine codes ------------------------------------------------------------------------------

def _codes(text: str) -> frozenset[str]:
    return frozenset(text.split())


#: Engines :func:`engine_code` knows (``pseudo`` and ``none`` take any valid tag).
ENGINE_NAMES = ("deepl", "google", "microsoft", "libretranslate", "mymemory", "pseudo", "none")

#: Languages DeepL translates (deepl-python 1.32 ``deepl.Language``), as language subtags.
_DEEPL = _codes(
    "ace af an ar as ay az ba be bg bho bn br bs ca ceb ckb cs cy da de el en eo es et eu fa fi fr ga "
    "gl gn gom gu ha he hi hr ht hu hy id ig is it ja jv ka kk kmr ko ky la lb lmo ln lt lv mai mg mi "
    "mk ml mn mr ms mt my nb ne nl oc om pa pag pam pl prs ps pt qu ro ru sa scn sk sl sq sr st su sv "
    "sw ta te tg th tk tl tn tr ts tt uk ur uz vi wo xh yi yue zh zu")
#: English-speaking regions that DeepL should write American English for (others get EN-GB).
_EN_US_REGIONS = frozenset({"US", "CA", "PR", "PH", "UM", "VI", "AS", "GU", "MP", "MH", "FM", "PW", "LR"})
#: Regions of Latin American Spanish (DeepL ``ES-419``); others get ``ES``.
_LATAM_REGIONS = frozenset({"419", "AR", "BO", "CL", "CO", "CR", "CU", "DO", "EC", "GT", "HN", "MX", "NI",
                            "PA", "PE", "PR", "PY", "SV", "US", "UY", "VE"})

#: Google codes as deep-translator's ``GoogleTranslator`` accepts them (deep-translator 1.11).
_GOOGLE = _codes(
    "af ak am ar as ay az be bg bho bm bn bs ca ceb ckb co cs cy da de doi dv ee el en eo es et eu fa fi "
    "fr fy ga gd gl gn gom gu ha haw hi hmn hr ht hu hy id ig ilo is it iw ja jw ka kk km kn ko kri ku ky "
    "la lb lg ln lo lt lus lv mai mg mi mk ml mn mni-Mtei mr ms mt my ne nl no nso ny om or pa pl ps pt qu "
    "ro ru rw sa sd si sk sl sm sn so sq sr st su sv sw ta te tg th ti tk tl tr ts tt ug uk ur uz vi xh yi "
    "yo zh-CN zh-TW zu")
#: BCP 47 language → Google's legacy code.
_GOOGLE_ALIASES = {"he": "iw", "jv": "jw", "fil": "tl", "nb": "no", "mni": "mni-Mtei"}

#: Microsoft Translator v3 translation languages (``/languages?scope=translation``).
_MICROSOFT = _codes(
    "af am ar as az ba bg bho bn bo brx bs ca cs cy da de doi dsb dv el en es et eu fa fi fil fj fo fr "
    "fr-CA ga gl gom gu ha he hi hne hr hsb ht hu hy id ig ikt is it iu iu-Latn ja ka kk km kmr kn ko ks "
    "ku ky ln lo lt lug lv lzh mai mg mi mk ml mn-Cyrl mn-Mong mni mr ms mt mww my nb ne nl nso nya or "
    "otq pa pl prs ps pt pt-PT ro ru run rw sd si sk sl sm sn so sq sr-Cyrl sr-Latn st sv sw ta te th "
    "ti tk tlh-Latn tn to tr tt ty ug uk ur uz vi xh yo yua yue zh-Hans zh-Hant zu")

#: LibreTranslate codes as deep-translator's ``LibreTranslator`` accepts them (``zh``: simplified).
_LIBRE = _codes("ar de en es fr ga hi id it ja ko pl pt ru tr vi zh")

#: MyMemory codes as deep-translator's ``MyMemoryTranslator`` accepts them (language-REGION).
_MYMEMORY_EXTRA = {"zh-Hans": "zh-CN", "zh-Hant": "zh-TW", "sr-Cyrl": "sr-Cyrl-RS", "sr-Latn": "sr-Latn-RS"}


def _deepl(tag: str, role: str) -> str | None:
    lang, script, region = maximize(tag)
    lang = {"no": "nb", "fil": "tl"}.get(lang, lang)
    if lang not in _DEEPL:
        return None
    if role == "source":
        return lang.upper()
    if lang == "en":
        return "EN-US" if region in _EN_US_REGIONS or region is None else "EN-GB"
    if lang == "pt":
        return "PT-BR" if region in (None, "BR") else "PT-PT"
    if lang == "zh":
        return "ZH-HANT" if script == "Hant" else "ZH-HANS"
    if lang == "es" and region in _LATAM_REGIONS:
        return "ES-419"
    return lang.upper()


def _google(tag: str) -> str | None:
    lang, script, _region = maximize(tag)
    if lang == "zh":
        return "zh-TW" if script == "Hant" else "zh-CN"
    code = _GOOGLE_ALIASES.get(lang, lang)
    return code if code in _GOOGLE else None


def _microsoft(tag: str) -> str | None:
    lang, script, region = maximize(tag)
    if lang == "zh":
        return "zh-Hant" if script == "Hant" else "zh-Hans"
    if lang == "pt":
        return "pt" if region in (None, "BR") else "pt-PT"
    if lang == "fr":
        return "fr-CA" if region == "CA" else "fr"
    if lang == "sr":
        return "sr-Latn" if script == "Latn" else "sr-Cyrl"
    if lang == "mn":
        return "mn-Mong" if script == "Mong" else "mn-Cyrl"
    if lang == "iu":
        return "iu-Latn" if script == "Latn" else "iu"
    if lang == "fa" and region == "AF":
        return "prs"
    if lang in ("no", "nb"):
        return "nb"
    if lang == "ckb":
        return "ku"  # Microsoft's "ku" is Central Kurdish (Arabic script)
    if lang == "ku":
        return "kmr"  # Northern Kurdish (Latin script)
    return lang if lang in _MICROSOFT else None


def _libre(tag: str) -> str | None:
    lang, script, _region = maximize(tag)
    if lang == "zh" and script == "Hant":
        return None  # deep-translator knows only "zh", which LibreTranslate serves as simplified
    return lang if lang in _LIBRE else None


@lru_cache(maxsize=1)
def _mymemory_codes() -> frozenset[str]:
    from deep_translator.constants import MY_MEMORY_LANGUAGES_TO_CODES

    return frozenset(MY_MEMORY_LANGUAGES_TO_CODES.values())


def _mymemory(tag: str) -> str | None:
    codes = _mymemory_codes()
    lang, script, region = maximize(tag)
    lang = "nb" if lang == "no" else lang
    candidates = [canonical(tag)]
    if script and region:
        candidates.append(f"{lang}-{script}-{region}")
    if region:
        candidates.append(f"{lang}-{region}")
    if script:
        candidates.append(_MYMEMORY_EXTRA.get(f"{lang}-{script}", ""))
    for code in candidates:
        if code in codes:
            return code
    same = sorted(c for c in codes if c.split("-")[0] == lang)
    return same[0] if len(same) == 1 else None


_ENGINES = {"google": _google, "microsoft": _microsoft, "libretranslate": _libre, "mymemory": _mymemory}


def engine_code(engine: str, tag: str, *, role: Literal["source", "target"] = "target") -> str:
    """The code translation engine ``engine`` uses for BCP 47 ``tag``.

    Args:
        engine: one of :data:`ENGINE_NAMES`.
        tag: a BCP 47 tag (validated).
        role: ``source`` or ``target``: DeepL spells them differently (``EN`` vs ``EN-US``).

    Raises:
        InvalidLocale: ``tag`` is not a valid tag.
        UnsupportedLocale: the engine cannot translate from or into ``tag``.
        ValueError: an unknown engine.
    """
    tag = canonical(tag)
    if engine in ("pseudo", "none"):
        return tag
    if engine == "deepl":
        code = _deepl(tag, role)
    elif engine in _ENGINES:
        code = _ENGINES[engine](tag)
    else:
        raise ValueError(f"unknown engine {engine!r}; known: {', '.join(ENGINE_NAMES)}")
    if code is None:
        direction = "from" if role == "source" else "into"
        raise UnsupportedLocale(f"the {engine} engine cannot translate {direction} {tag}; "
                                "choose another engine for this route, or give human translations")
    return code


def supports(engine: str, tag: str, *, role: Literal["source", "target"] = "target") -> bool:
    """Whether ``engine`` can translate from (``source``) or into (``target``) ``tag``."""
    try:
        engine_code(engine, tag, role=role)
    except UnsupportedLocale:
        return False
    return True


# -- platform codes ----------------------------------------------------------------------------

#: Platforms :func:`platform_code` knows.
PLATFORM_NAMES = ("linkedin", "wordpress", "html")


def platform_code(platform: str, tag: str) -> str:
    """The locale code ``platform`` wants for ``tag``.

    ``linkedin``: ``language_COUNTRY`` (``de-AT`` → ``de_AT``, ``zh-Hant-TW`` → ``zh_TW``, ``ja`` →
    ``ja_JP``); ``wordpress``: BCP 47 with a region (``ja`` → ``ja-JP``); ``html``: the canonical tag
    (for ``lang=""``).

    Raises:
        UnsupportedLocale: no region can be inferred for a platform that needs one.
        ValueError: an unknown platform.
    """
    tag = canonical(tag)
    if platform == "html":
        return tag
    if platform not in PLATFORM_NAMES:
        raise ValueError(f"unknown platform {platform!r}; known: {', '.join(PLATFORM_NAMES)}")
    lang, _script, region = maximize(tag)
    if region is None or not region.isalpha():
        raise UnsupportedLocale(f"{platform} needs a country for {tag}; use a tag with a region, e.g. '{lang}-XX'")
    return f"{lang}_{region}" if platform == "linkedin" else f"{lang}-{region}"


# -- HTML direction ----------------------------------------------------------------------------


def html_dir(tag: str) -> Literal["rtl", "ltr"]:
    """``rtl`` or ``ltr``: the value of HTML's ``dir`` attribute for ``tag``."""
    return "rtl" if is_rtl(tag) else "ltr"


def html_attributes(tag: str) -> str:
    """``lang="ar-EG" dir="rtl"`` (``dir`` only for right-to-left locales), for an HTML element."""
    attrs = f'lang="{escape(canonical(tag))}"'
    return f'{attrs} dir="rtl"' if is_rtl(tag) else attrs

