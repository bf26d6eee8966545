"""Field types shared by the item model and the configuration: strict, and with readable errors."""

from __future__ import annotations

import functools
import ipaddress
import re
import unicodedata
from datetime import datetime, timedelta
from typing import Annotated
from urllib.parse import urlsplit

import idna
from pydantic import AfterValidator, BeforeValidator, ValidationInfo

from ..base.addresses import check_media_url
from . import locales

__all__ = [
    "AwareDatetime",
    "Duration",
    "HostName",
    "LocaleTag",
    "MediaUrl",
    "PlainText",
    "SingleLineText",
    "WebUrl",
    "at_intake",
    "check_not_blank",
    "check_single_line",
    "check_text",
    "host_key",
    "parse_aware_datetime",
    "parse_duration",
    "validate_url",
]

#: Longest URL we accept, in characters.
MAX_URL_CHARS = 2048

_DATETIME_WITH_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")
_DURATION = re.compile(r"(?P<n>[0-9]+)\s*(?P<unit>s|m|h|d|w)")
_ISO_DURATION = re.compile(
    r"P(?:(?P<w>[0-9]+)W)?(?:(?P<d>[0-9]+)D)?(?:T(?:(?P<h>[0-9]+)H)?(?:(?P<m>[0-9]+)M)?(?:(?P<s>[0-9]+)S)?)?"
)
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029]")
#: Bidirectional embeddings and overrides (closed by U+202C) and isolates (closed by U+2069).
_BIDI_EMBEDDINGS = frozenset("\u202a\u202b\u202d\u202e")
_BIDI_ISOLATES = frozenset("\u2066\u2067\u2068")
#: Unpaired UTF-16 halves: not characters; they cannot be encoded, stored or sent.
_SURROGATE = re.compile("[\ud800-\udfff]")
#: Where the 66 noncharacters can be: U+FDD0..U+FDEF and the last two code points of every plane
#: (one wide class is fast; the few astral candidates it finds are checked one by one).
_NONCHARACTER_CANDIDATE = re.compile("[\ufdd0-\ufdef\ufffe\uffff\U0001fffe-\U0010ffff]")
_BIDI = re.compile("[\u202a\u202b\u202d\u202e\u2066\u2067\u2068]")
#: What a single-line field (title, CTA text, tag, alt text, approver) may not contain.
_LINE_BREAKS = {"\r": "carriage return (U+000D)", "\n": "line feed (U+000A)", "\t": "tab (U+0009)"}
#: Validation context key set when a stored item is read back (see :func:`at_intake`).
STORED = "stored"


def parse_aware_datetime(value: object) -> datetime:
    """An ISO 8601 date-time with an offset (``Z`` counts). Naive, date-only and epoch values are refused."""
    if isinstance(value, datetime):
        dt = value
    elif isinstance(value, str):
        if not _DATETIME_WITH_TIME.match(value.strip()):
            raise ValueError(f"{value!r} is not an ISO 8601 date-time with a time and an offset, "
                             "e.g. '2026-11-23T09:00:00+01:00'")
        try:
            dt = datetime.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(f"{value!r} is not a valid ISO 8601 date-time") from None
    else:
        raise ValueError(f"expected an ISO 8601 date-time string with an offset, got {type(value).__name__}")
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise ValueError(f"{value!s} has no UTC offset; add one, e.g. 'Z' or '+02:00'")
    return dt


def parse_duration(value: object) -> timedelta:
    """A positive duration: ISO 8601 (``P7D``, ``PT90M``) or ``90s``/``30m``/``12h``/``7d``/``2w``."""
    if isinstance(value, timedelta):
        td = value
    elif isinstance(value, str):
        text = value.strip()
        m = _DURATION.fullmatch(text)
        iso = _ISO_DURATION.fullmatch(text) if text not in ("P", "PT") else None
        if m:
            td = timedelta(seconds=int(m["n"]) * _UNIT_SECONDS[m["unit"]])
        elif iso and any(iso.groupdict().values()):
            g = {k: int(v) if v else 0 for k, v in iso.groupdict().items()}
            td = timedelta(weeks=g["w"], days=g["d"], hours=g["h"], minutes=g["m"], seconds=g["s"])
        else:
            raise ValueError(f"{value!r} is not a duration; write e.g. '30m', '12h', '7d' or 'P7D'")
    else:
        raise ValueError(f"expected a duration string such as '30m' or 'P7D', got {type(value).__name__}")
    if td <= timedelta(0):
        raise ValueError("a duration must be positive")
    return td


def validate_url(value: str) -> str:
    """An absolute http(s) URL without credentials, whitespace or invisible characters, at most 2,048 characters."""
    if len(value) > MAX_URL_CHARS:
        raise ValueError(f"URL is {len(value):,} characters, more than {MAX_URL_CHARS:,}")
    if any(c.isspace() for c in value) or _CONTROL.search(value):
        raise ValueError("URL contains whitespace or control characters")
    hidden = next((c for c in value if unicodedata.category(c) == "Cf"), None)
    if hidden is not None:  # bidi overrides and zero-width characters make a URL look like another
        raise ValueError(f"URL contains the invisible character U+{ord(hidden):04X} ({unicodedata.name(hidden, '?')})")
    try:
        parts = urlsplit(value)
        port = parts.port  # raises on a bad port
    except ValueError as exc:
        raise ValueError(f"URL is malformed: {exc}") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise ValueError(f"URL scheme must be http or https, not {parts.scheme or 'missing'!r}")
    if not parts.hostname:
        raise ValueError("URL must be absolute, with a host")
    if parts.username is not None or parts.password is not None:
        raise ValueError("URL must not carry credentials (user:password@)")
    del port
    return value


def _locale(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError(f"expected a locale tag such as 'en-US', got {type(value).__name__}")
    try:
        return locales.canonical(value)
    except locales.InvalidLocale as exc:
        raise ValueError(str(exc)) from None


def at_intake(info: ValidationInfo) -> bool:
    """Whether this validation is a producer's submission, not a stored item read back.

    Rules added or limits changed after an item was accepted must not make it unreadable, so
    intake-only rules (sizes, blank fields, single-line fields) are skipped when the validation
    context holds ``{"stored": True}``.
    """
    ctx = info.context
    return not (isinstance(ctx, dict) and ctx.get(STORED))


def check_text(value: str) -> str:
    """``value`` unchanged, or ``ValueError`` for control characters, lone surrogates, noncharacters
    and for a bidirectional embedding, override or isolate left open (it would reorder the text after
    the field, the post's link included: "Trojan Source"). Balanced pairs, and stray closers (which
    do nothing), are kept."""
    m = _CONTROL.search(value)
    if m:
        raise ValueError(f"contains the control character U+{ord(m.group()):04X}")
    if value.isascii():
        return value
    m = _SURROGATE.search(value)
    if m:
        raise ValueError(f"contains the lone surrogate U+{ord(m.group()):04X}, which is not a character")
    for m in _NONCHARACTER_CANDIDATE.finditer(value):
        code = ord(m.group())
        if code <= 0xFFFF or code & 0xFFFE == 0xFFFE:
            raise ValueError(f"contains the noncharacter U+{code:04X}")
    if not _BIDI.search(value):
        return value
    open_: list[str] = []
    for c in value:
        if c in _BIDI_EMBEDDINGS or c in _BIDI_ISOLATES:
            open_.append(c)
        elif c == "\u202c" and open_ and open_[-1] in _BIDI_EMBEDDINGS:
            open_.pop()
        elif c == "\u2069" and open_:
            while open_ and open_.pop() not in _BIDI_ISOLATES:  # a PDI also closes embeddings inside it
                pass
    if open_:
        c = open_[0]
        closer = "U+202C" if c in _BIDI_EMBEDDINGS else "U+2069"
        raise ValueError(f"contains the bidirectional control U+{ord(c):04X} ({unicodedata.name(c)}) without its "
                         f"closing {closer}: it would reorder the text after it")
    return value


def check_single_line(value: str) -> str:
    """``value`` unchanged, or ``ValueError`` if it holds a CR, LF or TAB (titles, CTA texts, tags...)."""
    for c in value:
        if c in _LINE_BREAKS:
            raise ValueError(f"contains a {_LINE_BREAKS[c]}: this field is a single line, without line breaks "
                             "or tabs")
    return value


def check_not_blank(value: str) -> str:
    """``value`` unchanged, or ``ValueError`` if it is empty or holds only whitespace and invisible
    characters (zero-width spaces, joiners, byte-order marks)."""
    if not value:
        raise ValueError("is empty")
    if all(c.isspace() or unicodedata.category(c) == "Cf" for c in value):
        raise ValueError("is blank: it holds only whitespace or invisible characters")
    return value


def _plain_text(value: str) -> str:
    return unicodedata.normalize("NFC", check_text(value))


def _single_line_text(value: str, info: ValidationInfo) -> str:
    if at_intake(info):
        check_single_line(value)
    return _plain_text(value)


#: An aware datetime, parsed from ISO 8601 with an offset.
AwareDatetime = Annotated[datetime, BeforeValidator(parse_aware_datetime)]
#: A positive duration.
Duration = Annotated[timedelta, BeforeValidator(parse_duration)]
#: A canonical BCP 47 tag.
LocaleTag = Annotated[str, BeforeValidator(_locale)]
#: An absolute http(s) URL.
WebUrl = Annotated[str, AfterValidator(validate_url)]
#: Text without control characters, normalized to NFC.
PlainText = Annotated[str, AfterValidator(_plain_text)]
#: Plain text on one line: no CR, LF or TAB either (checked at intake, not on stored items).
SingleLineText = Annotated[str, AfterValidator(_single_line_text)]


# -- hosts ------------------------------------------------------------------------------------

_HOST_CHARS = re.compile(r"[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?")


def host_key(host: str | None) -> str:
    """``host`` in the form hosts are compared in: lower case, IDN labels as punycode (UTS 46,
    as browsers map them), no trailing dot. ``""`` for no host.

    Kept per host up to DNS's 253 characters (a pure function; a post compares a few hosts, the
    same ones every time, and the UTS 46 mapping costs tens of microseconds each).
    """
    if host is not None and len(host) > _CACHED_HOST_CHARS:
        return _host_key(host)
    return _host_key_cached(host)


_CACHED_HOST_CHARS = 253


def _host_key(host: str | None) -> str:
    text = (host or "").strip().rstrip(".")
    if not text:
        return ""
    try:
        return idna.encode(text, uts46=True).decode("ascii")
    except idna.IDNAError:
        return text.lower()  # not a DNS name (an IPv6 literal, an underscore): compared as written


_host_key_cached = functools.lru_cache(maxsize=4096)(_host_key)


def _never_tag_host(value: str) -> str:
    """A never-tag entry: a bare host name or IP address, stored as its :func:`host_key`."""
    text = value.strip()
    if not text:
        raise ValueError("an empty host name")
    if "://" in text or "/" in text:
        raise ValueError(f"{value!r} is not a host name: write the host alone, e.g. 'partner.example'")
    if "*" in text:
        raise ValueError(f"{value!r}: write the host without '*': 'partner.example' covers its subdomains too")
    try:
        return str(ipaddress.ip_address(text.strip("[]")))
    except ValueError:
        pass
    if ":" in text or "@" in text:
        raise ValueError(f"{value!r} is not a host name: leave out the port and any user")
    try:
        key = idna.encode(text.rstrip("."), uts46=True).decode("ascii")
    except idna.IDNAError as exc:
        raise ValueError(f"{value!r} is not a valid host name: {exc}") from None
    if not _HOST_CHARS.fullmatch(key):
        raise ValueError(f"{value!r} is not a valid host name")
    return key


#: A host whose links are never tagged (a partner's site); its subdomains are covered too.
HostName = Annotated[str, AfterValidator(_never_tag_host)]


#: A media URL: an absolute http(s) URL (:func:`validate_url`) whose host is not a literal
#: private, loopback or link-local address nor ``localhost`` (checked again, resolved, on every fetch).
MediaUrl = Annotated[str, AfterValidator(validate_url), AfterValidator(check_media_url)]
