"""What engines share: the ``Translator`` protocol, the options of one translation call, each
engine's options model, and the two built-in translators (``none`` and ``pseudo``).

The engine implementations (:mod:`.deepl_engine`, :mod:`.http_engines`,
:mod:`.deep_translator_engines`) build on this module; the registry that picks one by name is
:mod:`.engines`.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, ClassVar, Literal, Protocol
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from ..base.fields import WebUrl
from ..base.secrets import SecretRef, parse_ref

__all__ = [
    "DeepLOptions",
    "EngineOptions",
    "GoogleOptions",
    "LibreTranslateOptions",
    "MicrosoftOptions",
    "MyMemoryOptions",
    "NoEngineOptions",
    "NoneTranslator",
    "PseudoTranslator",
    "TranslateOptions",
    "Translator",
    "encrypted_unless_loopback",
]

SecretField = Annotated[SecretRef, BeforeValidator(parse_ref)]


def _loopback(host: str | None) -> bool:
    if not host:
        return False
    if host.lower() == "localhost" or host.lower().endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def encrypted_unless_loopback(url: str) -> str:
    """``url`` unchanged if it is ``https://``, or ``http://`` to this machine; else ``ValueError``:
    plain http to another host would carry the text, and any key, in clear."""
    parts = urlsplit(url)
    if parts.scheme.lower() == "http" and not _loopback(parts.hostname):
        raise ValueError(f"plain http:// to {parts.hostname} would send the text and the key unencrypted: use "
                         "https://, or http:// only to this machine (127.0.0.1, ::1, localhost)")
    return url


#: An engine's endpoint: an absolute URL, https unless it is on this machine.
EngineUrl = Annotated[WebUrl, AfterValidator(encrypted_unless_loopback)]


@dataclass(frozen=True)
class TranslateOptions:
    """Options for one batch call.

    Attributes:
        engine_options: the engine profile's ``options`` (formality, server URL, ...).
        glossary: term → translation for the target language.
        glossary_version: a hash of the glossary, part of cache keys.
        markup: the segments carry ``<x id="N"/>`` placeholders that must come back: use the
            engine's markup mode where it has one (the ``placeholders`` strategy). False: the
            segments are plain text pieces cut out between protected spans (the ``split``
            strategy, see :mod:`.strategies`): send them as text, one list per request.
        retry_deadline: a :func:`time.monotonic` value after which no in-step retry starts (one
            budget for the whole localization, see :mod:`.retrying`); None: each call gets
            :data:`~.retrying.RETRY_BUDGET` of its own.
    """

    engine_options: Mapping[str, Any] = field(default_factory=dict)
    glossary: Mapping[str, str] = field(default_factory=dict)
    glossary_version: str = ""
    markup: bool = True
    retry_deadline: float | None = None


class Translator(Protocol):
    """A machine translation engine.

    ``translate`` takes one batch of segments for one (item revision, locale) and returns their
    translations in the same order. With ``options.markup`` (the default) segments contain
    ``<x id="N"/>`` placeholders that must come back unchanged; without it they are plain text.
    Errors are :class:`~syndicate.errors.LocalizationError` subclasses:
    ``TranslationUnavailable`` (network, 5xx, timeout), ``TranslationQuotaExceeded`` (quota or rate
    limit), ``TranslationRejected`` (bad key, unsupported language, other 4xx), all with secrets
    redacted from their messages.
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
            # The padding goes on the last line of text, never on a line of its own, where
            # Markdown would read "~~~" as a code fence.
            text = body.rstrip()
            out.append(f"[{text} {'~' * max(1, letters * 3 // 10)}]{body[len(text):]}")
        return out


# -- options -----------------------------------------------------------------------------------


class EngineOptions(BaseModel):
    """Options every network engine takes."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True, arbitrary_types_allowed=True)

    #: Option names that hold credentials: never part of cache keys, never logged.
    SECRETS: ClassVar[tuple[str, ...]] = ()

    connect_timeout_s: Annotated[float, Field(gt=0, le=60)] = 5.0
    read_timeout_s: Annotated[float, Field(gt=0, le=300)] = 30.0
    #: Requests in all for one batch after a transient fault (5xx, 429, timeout, refused
    #: connection), within the localize step; 1 sends once (see :mod:`.retrying`).
    retry_attempts: Annotated[int, Field(ge=1, le=6)] = 4


class NoEngineOptions(BaseModel):
    """``pseudo`` and ``none`` take no options."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)
    SECRETS: ClassVar[tuple[str, ...]] = ()


class DeepLOptions(EngineOptions):
    """DeepL (``engine: deepl``).

    Attributes:
        auth_key: ``${DEEPL_AUTH_KEY}``; keys ending in ``:fx`` use the free API's host.
        server_url: another server (a proxy, a test fake); default from the key.
        formality: ``default``, ``more``, ``less``, ``prefer_more`` or ``prefer_less``. ``more``
            and ``less`` fail for languages without formality; ``prefer_*`` fall back quietly,
            so use them on routes that mix languages.
        max_request_bytes: the request body limit (DeepL: 128 KiB; we keep a margin).
    """

    SECRETS: ClassVar[tuple[str, ...]] = ("auth_key",)

    auth_key: SecretField
    server_url: EngineUrl | None = None
    formality: Literal["default", "more", "less", "prefer_more", "prefer_less"] = "default"
    max_request_bytes: Annotated[int, Field(ge=1_000, le=128 * 1024)] = 120_000


class GoogleOptions(EngineOptions):
    """Google Translate (``engine: google``).

    Attributes:
        api: ``web`` (the default): the public web endpoint through deep-translator: no key, one
            text per request, no markup mode, HTTP 429 when it throttles. ``cloud``: the Cloud
            Translation API, Basic edition (v2): an API key, up to 128 texts per request and an
            HTML mode that keeps placeholders.
        api_key: ``${GOOGLE_TRANSLATE_API_KEY}``, for ``api: cloud`` only.
        base_url: the web endpoint (``api: web``).
        cloud_url: the Cloud Translation v2 endpoint (``api: cloud``).
        max_request_chars: characters per request (the web endpoint's limit is 5,000; Google
            recommends at most 5,000 for the Cloud API too).
    """

    SECRETS: ClassVar[tuple[str, ...]] = ("api_key",)

    api: Literal["web", "cloud"] = "web"
    api_key: SecretField | None = None
    base_url: EngineUrl = "https://translate.google.com/m"
    cloud_url: EngineUrl = "https://translation.googleapis.com/language/translate/v2"
    max_request_chars: Annotated[int, Field(ge=100, le=4_999)] = 4_999

    @model_validator(mode="after")
    def _key_for_cloud(self) -> GoogleOptions:
        if self.api == "cloud" and self.api_key is None:
            raise ValueError("api: cloud needs api_key (a ${VAR} reference to the Cloud Translation API key)")
        if self.api == "web" and self.api_key is not None:
            raise ValueError("api_key is only sent with api: cloud (the web endpoint takes no key)")
        return self


class MicrosoftOptions(EngineOptions):
    """Microsoft Translator v3 (``engine: microsoft``).

    Attributes:
        api_key: ``${MS_TRANSLATOR_KEY}``.
        region: the resource's Azure region, for regional and multi-service resources.
        base_url: the API host (the translate path and ``api-version=3.0`` are added).
        max_request_chars: 50,000 characters per request (Microsoft's limit).
    """

    SECRETS: ClassVar[tuple[str, ...]] = ("api_key",)

    api_key: SecretField
    region: Annotated[str, Field(pattern=r"^[a-z0-9]{2,32}$")] | None = None
    base_url: EngineUrl = "https://api.cognitive.microsofttranslator.com"
    max_request_chars: Annotated[int, Field(ge=100, le=50_000)] = 50_000


class LibreTranslateOptions(EngineOptions):
    """LibreTranslate (``engine: libretranslate``).

    Attributes:
        api_key: ``${LIBRETRANSLATE_API_KEY}``; leave out for an instance without keys.
        base_url: the instance, e.g. ``https://translate.example.internal``.
        max_request_chars: the instance's ``--char-limit`` (unlimited by default on a
            self-hosted instance; we send at most this many characters per request, all texts
            of the request together, as the instance counts them).
        max_texts: the instance's ``--batch-limit``: texts per request (unlimited by default).
    """

    SECRETS: ClassVar[tuple[str, ...]] = ("api_key",)

    api_key: SecretField | None = None
    base_url: EngineUrl = "https://libretranslate.com"
    max_request_chars: Annotated[int, Field(ge=100, le=100_000)] = 5_000
    max_texts: Annotated[int, Field(ge=2, le=1_000)] = 50


class MyMemoryOptions(EngineOptions):
    """MyMemory (``engine: mymemory``): free, 500 bytes per request, a daily quota per IP or
    e-mail address.

    Attributes:
        email: a contact address (``de=``), which raises the free daily quota.
    """

    email: Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+$", max_length=200)] | None = None
    base_url: EngineUrl = "https://api.mymemory.translated.net/get"
    max_request_bytes: Annotated[int, Field(ge=50, le=500)] = 500


# -- registry ----------------------------------------------------------------------------------
