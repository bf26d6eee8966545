"""X's weighted post length (twitter-text v3), implemented from the published rules.

X does not count characters: it normalizes the text to NFC, then adds a weight per code point
(``ranges`` in the configuration; 100 for most Latin, 200 for CJK and everything else, with a
``scale`` of 100), counts every URL as ``transformedURLLength`` (23) whatever its length, and
counts every emoji sequence (ZWJ families, flags, skin tones, keycaps) as one default weight (2).
A post is valid when its weighted length is between 1 and ``maxWeightedTweetLength`` (280) and it
contains none of U+FFFE, U+FEFF, U+FFFF.

The data in ``adapters/data/twitter-text/`` comes from the twitter-text project (Apache-2.0, its
LICENSE is next to it): ``v3.json`` (the weighting configuration), ``tlds.json`` (the top-level
domains that URL extraction knows, in the project's order) and ``emoji.regex`` (the emoji
sequences its Java implementation recognizes). URL extraction follows the project's reference
implementation, including URLs without a scheme (``example.com``), t.co links, and the rule that
a host label longer than 63 characters once punycode-encoded is not a URL.

Offsets: :func:`extract_urls` returns code-point offsets into the text it is given;
:class:`ParseResult` ranges are UTF-16 offsets, inclusive, as twitter-text reports them.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from importlib.resources import files
from typing import Any

__all__ = [
    "V3",
    "ParseResult",
    "TextConfig",
    "UrlEntity",
    "WeightedRange",
    "emoji_spans",
    "entity_spans",
    "extract_urls",
    "load_config",
    "parse_tweet",
    "weighted_length",
]

_DATA = files(__package__ or "adapters").joinpath("data", "twitter-text")


# -- configuration -------------------------------------------------------------------------------


@dataclass(frozen=True)
class WeightedRange:
    """Code points ``start``..``end`` (inclusive) weigh ``weight`` (in ``scale`` units)."""

    start: int
    end: int
    weight: int


@dataclass(frozen=True)
class TextConfig:
    """A twitter-text weighting configuration (``v3.json``); see its README for each field."""

    version: int
    max_weighted_length: int
    scale: int
    default_weight: int
    emoji_parsing_enabled: bool
    transformed_url_length: int
    ranges: tuple[WeightedRange, ...]

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> TextConfig:
        """Build from the JSON object of a configuration file."""
        return cls(
            version=int(data["version"]),
            max_weighted_length=int(data["maxWeightedTweetLength"]),
            scale=int(data["scale"]),
            default_weight=int(data["defaultWeight"]),
            emoji_parsing_enabled=bool(data.get("emojiParsingEnabled", False)),
            transformed_url_length=int(data.get("transformedURLLength", 23)),
            ranges=tuple(WeightedRange(int(r["start"]), int(r["end"]), int(r["weight"]))
                         for r in data.get("ranges", ())),
        )

    def weight_of(self, code_point: int) -> int:
        """The weight of one code point, in ``scale`` units."""
        for r in self.ranges:
            if r.start <= code_point <= r.end:
                return r.weight
        return self.default_weight


def load_config(name: str = "v3.json") -> TextConfig:
    """A configuration shipped in ``adapters/data/twitter-text/``."""
    return TextConfig.from_json(json.loads(_DATA.joinpath(name).read_text(encoding="utf-8")))


#: The configuration X uses today: 280 weighted units, URLs 23, emoji 2.
V3 = load_config()


# -- URL extraction (the reference implementation's rules) ---------------------------------------

_PUNCT = r"\!'#%&'\(\)*\+,\\\-\.\/:;<=>\?@\[\]\^_{|}~\$"
_SPACES = r"\x09-\x0D\x20\x85\xA0\u1680\u180E\u2000-\u200A\u2028\u2029\u202F\u205F\u3000"
_INVALID_CHARS = "\ufffe\ufeff\uffff"
_DIRECTIONAL = r"\u202A-\u202E\u061C\u200E\u200F\u2066\u2067\u2068\u2069"
_LATIN_ACCENTS = (r"\xC0-\xD6\xD8-\xF6\xF8-\xFF\u0100-\u024F\u0253\u0254\u0256\u0257\u0259\u025B\u0263\u0268"
                  r"\u026F\u0272\u0289\u028B\u02BB\u0300-\u036F\u1E00-\u1EFF")
_CYRILLIC = r"\u0400-\u04FF"

_INVALID_DOMAIN_CHARS = _PUNCT + _SPACES + _INVALID_CHARS + _DIRECTIONAL
_DOMAIN_CHAR = f"[^{_INVALID_DOMAIN_CHARS}]"
_SUBDOMAIN = f"(?:(?:{_DOMAIN_CHAR}(?:[_-]|{_DOMAIN_CHAR})*)?{_DOMAIN_CHAR}\\.)"
_DOMAIN_NAME = f"(?:(?:{_DOMAIN_CHAR}(?:-|{_DOMAIN_CHAR})*)?{_DOMAIN_CHAR}\\.)"


def _tld_group(names: list[str]) -> str:
    # Python's "$" also matches before a final newline; the reference means the end of input.
    return "(?:(?:" + "|".join(re.escape(n) for n in names) + r")(?=[^0-9a-zA-Z@+-]|\Z))"


_TLDS: dict[str, list[str]] = json.loads(_DATA.joinpath("tlds.json").read_text(encoding="utf-8"))
_GTLD = _tld_group(_TLDS["generic"])
_CCTLD = _tld_group(_TLDS["country"])
_PUNYCODE_TLD = r"(?:xn--[\-0-9a-z]+)"
_DOMAIN = f"(?:{_SUBDOMAIN}*{_DOMAIN_NAME}(?:{_GTLD}|{_CCTLD}|{_PUNYCODE_TLD}))"

_PATH_CHAR = f"[a-z{_CYRILLIC}0-9!\\*';:=\\+,\\.\\$/%#\\[\\]\\-\\u2013_~@\\|&{_LATIN_ACCENTS}]"
_BALANCED_PARENS = f"\\((?:{_PATH_CHAR}+|(?:{_PATH_CHAR}*\\({_PATH_CHAR}+\\){_PATH_CHAR}*))\\)"
_PATH_END = f"(?:[\\+\\-a-z{_CYRILLIC}0-9=_#/{_LATIN_ACCENTS}]|(?:{_BALANCED_PARENS}))"
_PATH = f"(?:(?:{_PATH_CHAR}*(?:{_BALANCED_PARENS}{_PATH_CHAR}*)*{_PATH_END})|(?:@{_PATH_CHAR}+/))"
_QUERY_CHAR = r"[a-z0-9!?\*'@\(\);:&=\+\$/%#\[\]\-_\.,~|]"
_QUERY_END = r"[a-z0-9\-_&=#/]"
_PRECEDING = f"(?:[^A-Za-z0-9@＠$#＃{_INVALID_CHARS}]|[{_DIRECTIONAL}]|^)"

_EXTRACT_URL = re.compile(
    f"(({_PRECEDING})"                   # 2: the character before the URL
    f"((https?://)?"                     # 3: the URL; 4: its scheme
    f"({_DOMAIN})"                       # 5: the host
    f"(?::([0-9]+))?"                    # 6: port
    f"(/{_PATH}*)?"                      # 7: path
    f"(\\?{_QUERY_CHAR}*{_QUERY_END})?"  # 8: query
    "))",
    re.IGNORECASE,
)
_VALID_ASCII_DOMAIN = re.compile(f"(?:(?:[\\-a-z0-9{_LATIN_ACCENTS}]+)\\.)+(?:{_GTLD}|{_CCTLD}|{_PUNYCODE_TLD})",
                                 re.IGNORECASE)
_INVALID_BEFORE_SCHEMELESS = re.compile(r"[-_./]\Z")
_TCO = re.compile(f"^https?://t\\.co/([a-z0-9]+)(?:\\?{_QUERY_CHAR}*{_QUERY_END})?", re.IGNORECASE)
_IDNA_SEPARATORS = re.compile("[\u002e\u3002\uff0e\uff61]")

_MAX_URL_LENGTH = 4096
_MAX_TCO_SLUG_LENGTH = 40
_MAX_LABEL_LENGTH = 63
_DEFAULT_SCHEME = "https://"

# Characters that can appear in a host before its first dot (domain characters, '-' and '_').
_INVALID_DOMAIN_SET = frozenset(
    [*"!'#%&()*+,\\-./:;<=>?@[]^_{|}~$", *map(chr, range(0x09, 0x0E)), " ", "\x85", "\xa0", "\u1680",
     "\u180e", *map(chr, range(0x2000, 0x200B)), "\u2028", "\u2029", "\u202f", "\u205f", "\u3000",
     *_INVALID_CHARS, *map(chr, range(0x202A, 0x202F)), "\u061c", "\u200e", "\u200f",
     "\u2066", "\u2067", "\u2068", "\u2069"])


# Characters a URL may not directly follow (the complement of the preceding-character class).
_NOT_PRECEDING = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789@＠$#＃" + _INVALID_CHARS)


@dataclass(frozen=True)
class UrlEntity:
    """A URL found in a text: the URL and its code-point offsets ``[start, end)``."""

    url: str
    start: int
    end: int


def _utf16_len(text: str) -> int:
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def _punycode_label_length(label: str) -> int | None:
    """Length of ``label`` as punycode's ``toASCII`` writes it, or None if it cannot be encoded."""
    total = 0
    pieces = _IDNA_SEPARATORS.sub(".", label).split(".")
    for piece in pieces:
        if piece.isascii():
            total += len(piece)
        else:
            try:
                total += 4 + len(piece.encode("punycode"))
            except UnicodeError:
                return None
    return total + len(pieces) - 1


def _host_is_valid(domain: str) -> bool:
    if domain[:4] == "xn--" and not _VALID_ASCII_DOMAIN.search(domain):
        return False  # punycode that is not ASCII
    for label in domain.split("."):
        n = _punycode_label_length(label)
        if n is None or n < 1 or n > _MAX_LABEL_LENGTH:
            return False
    return True


def _url_is_valid(url: str, scheme: str, domain: str) -> bool:
    return _host_is_valid(domain) and _utf16_len(scheme) + _utf16_len(url) <= _MAX_URL_LENGTH


def _start_candidates(text: str) -> list[int]:
    """Positions where a URL match may begin (a superset), so the full pattern is tried only there.

    A host starts with a domain character and reaches a '.' through domain characters, '-' and
    '_' only; a match begins one character before its URL (or at 0), and a URL is its host, or
    ``http(s)://`` and its host.
    """
    n = len(text)
    reaches_dot = [False] * (n + 1)
    for i in range(n - 1, -1, -1):
        ch = text[i]
        if ch in _INVALID_DOMAIN_SET and ch not in "-_":
            continue
        domain_char = ch not in _INVALID_DOMAIN_SET
        reaches_dot[i] = (domain_char and i + 1 < n and text[i + 1] == ".") or reaches_dot[i + 1]

    def host_at(i: int) -> bool:
        return i < n and text[i] not in _INVALID_DOMAIN_SET and reaches_dot[i]

    out: list[int] = []
    for q in range(n):
        if q and text[q - 1] in _NOT_PRECEDING:
            continue  # a URL follows a character that is not a letter or digit (or starts the text)
        ok = host_at(q)
        if not ok and text[q] in "hH":
            head = text[q:q + 8].lower()
            ok = (head.startswith("http://") and host_at(q + 7)) or (head.startswith("https://") and host_at(q + 8))
        if ok:
            if q == 0:
                out.append(0)
            elif not out or out[-1] != q - 1:
                out.append(q - 1)
    return out


@lru_cache(maxsize=4096)
def _extract_urls(text: str) -> tuple[UrlEntity, ...]:
    if not text or "." not in text:
        return ()
    found: list[list[Any]] = []
    resume = 0
    for p in _start_candidates(text):
        if p < resume:
            continue
        m = _EXTRACT_URL.match(text, p)
        if m is None:
            continue
        resume = m.end()
        before, url, scheme, domain, path = m.group(2), m.group(3), m.group(4), m.group(5), m.group(7)
        start, end = m.start(3), m.end(3)
        if not _url_is_valid(url, scheme or _DEFAULT_SCHEME, domain):
            continue
        if not scheme:
            if _INVALID_BEFORE_SCHEMELESS.search(before):
                continue
            last: list[Any] | None = None
            ascii_end = 0
            for am in _VALID_ASCII_DOMAIN.finditer(domain):
                ascii_domain = am.group(0)
                ascii_start = domain.find(ascii_domain, ascii_end)
                ascii_end = ascii_start + len(ascii_domain)
                last = [ascii_domain, start + ascii_start, start + ascii_end]
                found.append(last)
            if last is None:
                continue
            if path:
                last[0] = url.replace(domain, last[0], 1)
                last[2] = end
        else:
            tco = _TCO.match(url)
            if tco is not None:
                slug = tco.group(1)
                if slug and len(slug) > _MAX_TCO_SLUG_LENGTH:
                    continue
                url = tco.group(0)
                end = start + len(url)
            found.append([url, start, end])
    return tuple(UrlEntity(u, s, e) for u, s, e in found)


def extract_urls(text: str) -> list[UrlEntity]:
    """URLs in ``text`` as X recognizes them (with or without a scheme), in order.

    Offsets are code points into ``text`` itself (not its NFC form).
    """
    return list(_extract_urls(text))


# -- emoji ---------------------------------------------------------------------------------------

_EMOJI = re.compile(_DATA.joinpath("emoji.regex").read_text(encoding="ascii").strip())


def emoji_spans(text: str) -> list[tuple[int, int]]:
    """Code-point spans of the emoji sequences in ``text`` that count as one emoji."""
    if text.isascii():
        return []  # every emoji sequence has a character outside ASCII
    return [m.span() for m in _EMOJI.finditer(text)]


def entity_spans(text: str) -> list[tuple[int, int]]:
    """Spans X counts as one unit (URLs and emoji sequences): text must never be cut inside them."""
    return sorted({(u.start, u.end) for u in _extract_urls(text)} | set(emoji_spans(text)))


# -- counting ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ParseResult:
    """What twitter-text's ``parseTweet`` reports for a text.

    Attributes:
        weighted_length: the length X counts (280 is the limit under v3).
        valid: 1 to ``max_weighted_length`` units and no invalid character.
        permillage: weighted length per mille of the limit.
        valid_range: UTF-16 offsets (inclusive) of the part of the text within the limit.
        display_range: UTF-16 offsets (inclusive) of the whole text.
    """

    weighted_length: int
    valid: bool
    permillage: int
    valid_range: tuple[int, int]
    display_range: tuple[int, int]


def parse_tweet(text: str, config: TextConfig = V3) -> ParseResult:
    """Measure ``text`` as X does (twitter-text ``parseTweet``)."""
    normalized = unicodedata.normalize("NFC", text)
    urls = {u.start: u.end for u in _extract_urls(normalized)}
    emoji = {s: e for s, e in emoji_spans(normalized)} if config.emoji_parsing_enabled else {}
    limit_scaled = config.max_weighted_length * config.scale
    weighted = 0
    valid = True
    valid_display = 0
    i = 0
    u16 = 0
    n = len(normalized)
    while i < n:
        if i in urls:
            end = urls[i]
            weighted += config.transformed_url_length * config.scale
        elif i in emoji:
            end = emoji[i]
            weighted += config.default_weight
        else:
            end = i + 1
            weighted += config.weight_of(ord(normalized[i]))
        u16 += _utf16_len(normalized[i:end])
        if valid:
            valid = normalized[end - 1] not in _INVALID_CHARS
        if valid and weighted <= limit_scaled:
            valid_display = u16 - 1
        i = end
    length = Fraction(weighted, config.scale)
    valid = valid and 0 < length <= config.max_weighted_length
    permillage = int(length * 1000 / config.max_weighted_length)
    text_u16 = _utf16_len(text)
    offset = text_u16 - u16
    return ParseResult(
        weighted_length=int(length), valid=valid, permillage=permillage,
        valid_range=(0, valid_display + offset), display_range=(0, text_u16 - 1 if text else 0))


@lru_cache(maxsize=16384)
def weighted_length(text: str) -> int:
    """The weighted length of ``text`` under the v3 configuration (X's post length)."""
    return parse_tweet(text, V3).weighted_length
