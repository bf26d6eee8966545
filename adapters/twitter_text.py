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

import bisect
import json
import re
import unicodedata
from collections.abc import Iterator, Mapping
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


def _tld_group(names: list[str]) -> str:
    # Python's "$" also matches before a final newline; the reference means the end of input.
    return "(?:(?:" + "|".join(re.escape(n) for n in names) + r")(?=[^0-9a-zA-Z@+-]|\Z))"


_TLDS: dict[str, list[str]] = json.loads(_DATA.joinpath("tlds.json").read_text(encoding="utf-8"))
_GTLD = _tld_group(_TLDS["generic"])
_CCTLD = _tld_group(_TLDS["country"])
_PUNYCODE_TLD = r"(?:xn--[\-0-9a-z]+)"

_PATH_CHAR = f"[a-z{_CYRILLIC}0-9!\\*';:=\\+,\\.\\$/%#\\[\\]\\-\\u2013_~@\\|&{_LATIN_ACCENTS}]"
_BALANCED_PARENS = f"\\((?:{_PATH_CHAR}+|(?:{_PATH_CHAR}*\\({_PATH_CHAR}+\\){_PATH_CHAR}*))\\)"
_PATH_END = f"(?:[\\+\\-a-z{_CYRILLIC}0-9=_#/{_LATIN_ACCENTS}]|(?:{_BALANCED_PARENS}))"
_PATH = f"(?:(?:{_PATH_CHAR}*(?:{_BALANCED_PARENS}{_PATH_CHAR}*)*{_PATH_END})|(?:@{_PATH_CHAR}+/))"
_QUERY_CHAR = r"[a-z0-9!?\*'@\(\);:&=\+\$/%#\[\]\-_\.,~|]"
_QUERY_END = r"[a-z0-9\-_&=#/]"

#: The patterns the reference implementation applies in one regex, taken apart: a backtracking
#: engine walks ``_DOMAIN``'s nested label quantifiers once per start position and tries every
#: top-level domain after every dot on the way, which is quadratic in a run like ``a.a.a.`` (minutes
#: of CPU for a few thousand characters). :class:`_Hosts` finds the same hosts in linear time, and
#: the regexes below only ever meet a few characters, a run without a nested quantifier, or the
#: text after a host that matched (each character once).
_PRECEDING_CHAR = re.compile(f"[^A-Za-z0-9@＠$#＃{_INVALID_CHARS}]|[{_DIRECTIONAL}]", re.IGNORECASE)
_SCHEME = re.compile(r"https?://", re.IGNORECASE)
_TLD = re.compile(f"{_GTLD}|{_CCTLD}|{_PUNYCODE_TLD}", re.IGNORECASE)
_AFTER_HOST = re.compile(
    "(?::([0-9]+))?"                     # 1: port
    f"(/{_PATH}*)?"                      # 2: path
    f"(\\?{_QUERY_CHAR}*{_QUERY_END})?",  # 3: query
    re.IGNORECASE,
)
_URL_DOMAIN_CHAR = re.compile(_DOMAIN_CHAR, re.IGNORECASE)
_URL_SUBDOMAIN_RUNS = re.compile(f"(?:{_DOMAIN_CHAR}|[_-])+", re.IGNORECASE)
_URL_DOMAIN_NAME_RUNS = re.compile(f"(?:{_DOMAIN_CHAR}|-)+", re.IGNORECASE)
_ASCII_LABEL_RUNS = re.compile(f"[\\-a-z0-9{_LATIN_ACCENTS}]+", re.IGNORECASE)
_DOTS = re.compile(r"\.")
#: A host of ASCII labels only: as a whole, it is what the ASCII domain pattern finds in it (its last
#: label is the top-level domain the host ended with).
_ASCII_HOST = re.compile(r"[-a-z0-9]+(?:\.[-a-z0-9]+)+", re.IGNORECASE)
#: Longest top-level domain in the lists, plus the character its lookahead reads.
_TLD_WINDOW = 1 + max(len(n) for names in ("generic", "country") for n in json.loads(
    _DATA.joinpath("tlds.json").read_text(encoding="utf-8"))[names])
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
    if domain[:4] == "xn--" and next(_Hosts(domain, _ASCII_LABEL_RUNS).finditer(), None) is None:
        return False  # punycode that is not ASCII
    for label in domain.split("."):
        if len(label) > _MAX_LABEL_LENGTH:
            return False  # punycode never writes a label shorter than it is (and encoding it is slow)
        n = _punycode_label_length(label)
        if n is None or n < 1 or n > _MAX_LABEL_LENGTH:
            return False
    return True


class _Hosts:
    """Where a host starting at a given offset of ``text`` ends, in the reference pattern's terms.

    A host is labels, each followed by a dot, then a top-level domain (``tlds.json``, generic names
    first, in order, then ``xn--`` punycode). The reference regex takes as many labels as it can,
    then gives them back one at a time until a top-level domain follows: the host ends at the
    *last* dot of the unbroken run of labels after which a top-level domain starts. Labels lie
    between dots, so that run and the dots where a domain starts are the same for every start
    inside it: they are computed once per text (one pass, right to left, over the dots), and each
    start then costs a lookup, not a walk to the end of the run.

    Args:
        text: the text.
        label_runs: maximal runs of characters a label (but the last) may hold.
        last_label_runs: the same for the label right before the top-level domain; default as above.
        edge: a character a label must start and end with, when the pattern asks for one.
    """

    def __init__(self, text: str, label_runs: re.Pattern[str], last_label_runs: re.Pattern[str] | None = None,
                 edge: re.Pattern[str] | None = None) -> None:
        self.text = text
        self._edge = edge
        self._runs = self._spans(label_runs)
        self._last_runs = self._spans(last_label_runs) if last_label_runs is not None else self._runs
        self.dots = [m.start() for m in _DOTS.finditer(text)]
        self._tlds: dict[str, int | None] = {}
        # best[k]: the last dot after dot k that the labels after dot k reach and where a
        # top-level domain starts, or -1.
        self._best: list[int] | None = None

    def _spans(self, pattern: re.Pattern[str]) -> tuple[list[int], list[int]]:
        starts: list[int] = []
        ends: list[int] = []
        for m in pattern.finditer(self.text):
            starts.append(m.start())
            ends.append(m.end())
        return starts, ends

    @staticmethod
    def _covered(runs: tuple[list[int], list[int]], a: int, b: int) -> bool:
        i = bisect.bisect_right(runs[0], a) - 1
        return i >= 0 and runs[1][i] >= b

    def _label(self, a: int, b: int, *, last: bool) -> bool:
        """Whether ``text[a:b]`` is a label (``last``: the one right before the top-level domain)."""
        if b <= a or not self._covered(self._last_runs if last else self._runs, a, b):
            return False
        edge = self._edge
        return edge is None or (edge.match(self.text, a) is not None and edge.match(self.text, b - 1) is not None)

    def tld_end(self, k: int) -> int | None:
        """Where the top-level domain right after dot ``k`` ends, or None."""
        text, at = self.text, self.dots[k] + 1
        key = text[at:at + _TLD_WINDOW]
        if key[:4].lower() == "xn--":  # punycode has no length limit: never from the memo
            m = _TLD.match(text, at)
            return m.end() if m else None
        if key not in self._tlds:
            m = _TLD.match(text, at)
            self._tlds[key] = m.end() - at if m else None
        found = self._tlds[key]
        return None if found is None else at + found

    def _table(self) -> list[int]:
        if self._best is None:
            dots = self.dots
            best = [-1] * len(dots)
            for k in range(len(dots) - 2, -1, -1):
                a, b = dots[k] + 1, dots[k + 1]
                if self._label(a, b, last=False) and best[k + 1] >= 0:
                    best[k] = best[k + 1]
                elif self._label(a, b, last=True) and self.tld_end(k + 1) is not None:
                    best[k] = k + 1
            self._best = best
        return self._best

    def end(self, start: int) -> int | None:
        """Where the host that starts at ``start`` ends, or None if none starts there."""
        k = bisect.bisect_left(self.dots, start)
        if k == len(self.dots):
            return None
        first = (start, self.dots[k])
        if self._label(*first, last=False):
            later = self._table()[k]
            if later >= 0:
                return self.tld_end(later)
        if self._label(*first, last=True):
            return self.tld_end(k)
        return None

    def finditer(self) -> Iterator[tuple[int, int]]:
        """Non-overlapping hosts from left to right, as ``re.finditer`` would find them."""
        pos, n = 0, len(self.text)
        while pos < n:
            end = self.end(pos)
            if end is None:
                pos += 1
                continue
            yield pos, end
            pos = end


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


def _match_at(text: str, p: int, hosts: _Hosts) -> tuple[int, int, int, int, re.Match[str]] | None:
    """The reference pattern's match at ``p``: (url start, scheme end, host end, match end, the
    match of what follows the host); the URL starts after the preceding character, or at 0."""
    starts = []
    if _PRECEDING_CHAR.match(text, p):
        starts.append(p + 1)
    if p == 0:
        starts.append(0)
    for u in starts:
        scheme = _SCHEME.match(text, u)
        for h in ((scheme.end(), u) if scheme else (u,)):
            host_end = hosts.end(h)
            if host_end is not None:
                rest = _AFTER_HOST.match(text, host_end)
                assert rest is not None  # every part after the host is optional
                return u, h, host_end, rest.end(), rest
    return None


#: Texts up to this many characters have their URLs and length cached (rendering measures the same
#: candidates again and again); longer ones are measured afresh, so the caches stay small.
_CACHED_CHARS = 4096


def _extract_urls(text: str) -> tuple[UrlEntity, ...]:
    return _extract_urls_cached(text) if len(text) <= _CACHED_CHARS else _find_urls(text)


@lru_cache(maxsize=4096)
def _extract_urls_cached(text: str) -> tuple[UrlEntity, ...]:
    return _find_urls(text)


def _find_urls(text: str) -> tuple[UrlEntity, ...]:
    if not text or "." not in text:
        return ()
    hosts = _Hosts(text, _URL_SUBDOMAIN_RUNS, _URL_DOMAIN_NAME_RUNS, edge=_URL_DOMAIN_CHAR)
    found: list[list[Any]] = []
    resume = 0
    for p in _start_candidates(text):
        if p < resume:
            continue
        m = _match_at(text, p, hosts)
        if m is None:
            continue
        start, host_start, host_end, end, rest = m
        resume = end
        before, url, domain, path = text[p:start], text[start:end], text[host_start:host_end], rest.group(2)
        scheme = text[start:host_start] or None
        if not _url_is_valid(url, scheme or _DEFAULT_SCHEME, domain):
            continue
        if not scheme:
            if _INVALID_BEFORE_SCHEMELESS.search(before):
                continue
            last: list[Any] | None = None
            ascii_end = 0
            ascii_hosts = ([(0, len(domain))] if domain.isascii() and _ASCII_HOST.fullmatch(domain)
                           else _Hosts(domain, _ASCII_LABEL_RUNS).finditer())
            for a, b in ascii_hosts:
                ascii_domain = domain[a:b]
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


@lru_cache(maxsize=65536)
def _weight(config: TextConfig, code_point: int) -> int:
    return config.weight_of(code_point)


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
            cp = ord(normalized[i])
            weighted += _weight(config, cp)
            u16 += 2 if cp > 0xFFFF else 1
            if valid:
                valid = normalized[i] not in _INVALID_CHARS
            if valid and weighted <= limit_scaled:
                valid_display = u16 - 1
            i = end
            continue
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


def weighted_length(text: str) -> int:
    """The weighted length of ``text`` under the v3 configuration (X's post length)."""
    return _weighted_length_cached(text) if len(text) <= _CACHED_CHARS else parse_tweet(text, V3).weighted_length


@lru_cache(maxsize=16384)
def _weighted_length_cached(text: str) -> int:
    return parse_tweet(text, V3).weighted_length
