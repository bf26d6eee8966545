"""DeepL through the official ``deepl`` client.

One ``translate_text`` call per request, with every segment of the batch in it (up to 50 texts and
the request body limit). For the ``placeholders`` strategy: ``tag_handling="xml"`` so the
``<x id="N"/>`` placeholders come back as they went, and ``x`` declared as a non-splitting, ignored
tag (developers.deepl.com, "Translating XML", ignored tags). For the ``split`` strategy (plain
text pieces): no tag handling, and ``preserve_formatting`` so DeepL does not capitalize or
punctuate a piece as if it were a sentence of its own.

The client retries 429 and 5xx itself, sleeping up to minutes, with a read timeout of at least
10 s (``deepl.http_client``'s module settings). A worker must not sleep for minutes, so each
:class:`DeepLTranslator` gives its ``deepl.Translator`` an HTTP client of its own that sends once
with our connect and read timeouts and remembers the answer's ``Retry-After``; the short retries
within the localize step are ours (:mod:`.retrying`). The change is per instance; the module
settings are left alone.

Glossaries are applied by masking (see :mod:`.masking`), not through DeepL's glossary API: the same
glossary file then works for every engine, and there is no glossary state on DeepL's side to
create, version and clean up.
"""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import deepl
import requests
from deepl.http_client import HttpClient

from ..base.secrets import add_secret, redact
from ..channels.http import answer_complete, bounded_session, retry_delay
from ..errors import (
    LocalizationError,
    TranslationQuotaExceeded,
    TranslationRejected,
    TranslationThrottled,
    TranslationUnavailable,
)
from .batching import BatchingTranslator
from .options import DeepLOptions
from .retrying import RetryPolicy

__all__ = ["DeepLTranslator", "map_deepl_error"]

#: DeepL's limit of texts per request.
MAX_TEXTS = 50


class _OneShotClient(HttpClient):
    """deepl's HTTP client, sending each request once with our (connect, read) timeouts and
    keeping the answer's ``Retry-After`` header (per thread) for :meth:`retry_after`."""

    def __init__(self, connect_timeout_s: float, read_timeout_s: float) -> None:
        super().__init__(proxy=None, send_platform_info=False, verify_ssl=None)
        self._timeouts = (connect_timeout_s, read_timeout_s)
        bounded_session(session=self._session)  # a total deadline per request, and a cap on the answer
        self._last = threading.local()

    def request_with_backoff(self, method: str, url: str, data: dict[str, Any] | None, json: dict[str, Any] | None,
                             headers: dict[str, str], stream: bool = False, **kwargs: Any) -> Any:
        self._last.retry_after = None
        request = self._prepare_request(method, url, data, json, headers, **kwargs)
        status, answer = self._internal_request(request, True, timeout=self._timeouts)  # type: ignore[arg-type]
        assert isinstance(answer, requests.Response)  # stream=True answers the response itself
        response = answer
        self._last.retry_after = response.headers.get("Retry-After")
        if not answer_complete(response):  # cut at the deadline or the cap: not an answer to parse
            response.close()
            raise deepl.ConnectionException("the answer did not arrive whole within the deadline", should_retry=False)
        if stream:
            return status, response
        try:
            response.encoding = "UTF-8"
            return status, response.text
        except requests.RequestException as exc:  # the body broke off: as the client maps a failed request
            raise deepl.ConnectionException(f"Connection failed: {exc}", should_retry=True) from exc
        finally:
            response.close()

    def retry_after(self) -> timedelta | None:
        """How long the last answer in this thread asked us to wait, if it said."""
        return retry_delay(getattr(self._last, "retry_after", None))


def map_deepl_error(exc: Exception, *, wait: timedelta | None = None) -> LocalizationError:
    """Our error for an exception of the ``deepl`` client, its message redacted. ``wait``: the
    answer's ``Retry-After``."""
    status = getattr(exc, "http_status_code", None)
    text = f"deepl: {redact(str(exc))}"
    if isinstance(exc, deepl.QuotaExceededException):
        return TranslationQuotaExceeded(text)
    if isinstance(exc, deepl.TooManyRequestsException):
        return TranslationThrottled(text, retry_after=wait)
    if isinstance(exc, deepl.AuthorizationException):
        return TranslationRejected(text)
    if isinstance(exc, deepl.ConnectionException):
        return TranslationUnavailable(text)
    if status is not None and (status >= 500 or status == 408):
        return TranslationUnavailable(text, retry_after=wait)
    if status is not None and 400 <= status < 500:
        return TranslationRejected(text)
    return TranslationUnavailable(text)


class DeepLTranslator(BatchingTranslator):
    """DeepL (``engine: deepl``): one request per localization, unless a limit forces more."""

    name = "deepl"
    max_items = MAX_TEXTS
    escape_markup = True

    def __init__(self, options: DeepLOptions, auth_key: str) -> None:
        super().__init__(RetryPolicy(attempts=options.retry_attempts))
        add_secret(auth_key)
        self.options = options
        self.max_request = options.max_request_bytes
        self._client = deepl.Translator(auth_key, server_url=options.server_url, send_platform_info=False)
        # Per instance: send once, with our timeouts (see the module docstring).
        self._client._client.close()  # type: ignore[no-untyped-call]
        self._http = _OneShotClient(options.connect_timeout_s, options.read_timeout_s)
        self._client._client = self._http

    def measure(self, text: str) -> int:
        """UTF-8 bytes, as the JSON body carries them (plus quoting)."""
        return len(text.encode("utf-8")) + 4

    def _send(self, texts: list[str], source: str, target: str, markup: bool) -> list[str]:
        formality = None if self.options.formality == "default" else self.options.formality
        how: dict[str, Any] = ({"tag_handling": "xml", "non_splitting_tags": ["x"], "ignore_tags": ["x"]} if markup
                               else {"preserve_formatting": True})
        try:
            results = self._client.translate_text(
                texts, source_lang=source, target_lang=target, formality=formality, **how)
        except deepl.DeepLException as exc:
            raise map_deepl_error(exc, wait=self._http.retry_after()) from None
        except (TypeError, ValueError) as exc:  # an answer without the fields the client expects
            raise TranslationUnavailable(f"deepl: unexpected answer: {redact(str(exc))}") from None
        if not isinstance(results, list):
            results = [results]
        return [r.text for r in results]

    def close(self) -> None:
        """Close the HTTP session."""
        self._client.close()  # type: ignore[no-untyped-call]
