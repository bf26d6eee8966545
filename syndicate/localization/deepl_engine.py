"""DeepL through the official ``deepl`` client.

One ``translate_text`` call per request, with every segment of the batch in it (up to 50 texts and
the request body limit), ``tag_handling="xml"`` so the ``<x id="N"/>`` placeholders come back as
they went, and ``x`` declared as a non-splitting, ignored tag.

The client retries 429 and 5xx itself, sleeping up to minutes, with a read timeout of at least
10 s (``deepl.http_client``'s module settings). A worker must not sleep, and retries belong to the
ledger, so each :class:`DeepLTranslator` gives its ``deepl.Translator`` an HTTP client of its own
that sends once with our connect and read timeouts. The change is per instance; the module
settings are left alone.

Glossaries are applied by masking (see :mod:`.masking`), not through DeepL's glossary API: the same
glossary file then works for every engine, and there is no glossary state on DeepL's side to
create, version and clean up.
"""

from __future__ import annotations

from typing import Any

import deepl
import requests
from deepl.http_client import HttpClient

from ..errors import LocalizationError, TranslationQuotaExceeded, TranslationRejected, TranslationUnavailable
from ..secrets import add_secret, redact
from ..transport import answer_complete, bounded_session
from .batching import BatchingTranslator
from .engines import DeepLOptions

__all__ = ["DeepLTranslator", "map_deepl_error"]

#: DeepL's limit of texts per request.
MAX_TEXTS = 50


class _OneShotClient(HttpClient):
    """deepl's HTTP client, sending each request once with our (connect, read) timeouts."""

    def __init__(self, connect_timeout_s: float, read_timeout_s: float) -> None:
        super().__init__(proxy=None, send_platform_info=False, verify_ssl=None)
        self._timeouts = (connect_timeout_s, read_timeout_s)
        bounded_session(session=self._session)  # a total deadline per request, and a cap on the answer

    def request_with_backoff(self, method: str, url: str, data: dict[str, Any] | None, json: dict[str, Any] | None,
                             headers: dict[str, str], stream: bool = False, **kwargs: Any) -> Any:
        request = self._prepare_request(method, url, data, json, headers, **kwargs)
        status, response = self._internal_request(request, True, timeout=self._timeouts)  # type: ignore[arg-type]
        assert isinstance(response, requests.Response)  # what a streamed request returns
        if not answer_complete(response):  # cut at the deadline or the cap: not an answer to parse
            response.close()
            raise deepl.ConnectionException("the answer did not arrive whole within the deadline", should_retry=False)
        if stream:
            return status, response
        with response:
            response.encoding = "UTF-8"
            return status, response.text


def map_deepl_error(exc: Exception) -> LocalizationError:
    """Our error for an exception of the ``deepl`` client, its message redacted."""
    status = getattr(exc, "http_status_code", None)
    text = f"deepl: {redact(str(exc))}"
    if isinstance(exc, deepl.QuotaExceededException):
        return TranslationQuotaExceeded(text)
    if isinstance(exc, deepl.TooManyRequestsException):
        return TranslationQuotaExceeded(text)
    if isinstance(exc, deepl.AuthorizationException):
        return TranslationRejected(text)
    if isinstance(exc, deepl.ConnectionException):
        return TranslationUnavailable(text)
    if status is not None and (status >= 500 or status == 408):
        return TranslationUnavailable(text)
    if status is not None and 400 <= status < 500:
        return TranslationRejected(text)
    return TranslationUnavailable(text)


class DeepLTranslator(BatchingTranslator):
    """DeepL (``engine: deepl``): one request per localization, unless a limit forces more."""

    name = "deepl"
    max_items = MAX_TEXTS
    escape_markup = True

    def __init__(self, options: DeepLOptions, auth_key: str) -> None:
        super().__init__()
        add_secret(auth_key)
        self.options = options
        self.max_request = options.max_request_bytes
        self._client = deepl.Translator(auth_key, server_url=options.server_url, send_platform_info=False)
        # Per instance: send once, with our timeouts (see the module docstring).
        self._client._client.close()  # type: ignore[no-untyped-call]
        self._client._client = _OneShotClient(options.connect_timeout_s, options.read_timeout_s)

    def measure(self, text: str) -> int:
        """UTF-8 bytes, as the JSON body carries them (plus quoting)."""
        return len(text.encode("utf-8")) + 4

    def _send(self, texts: list[str], source: str, target: str) -> list[str]:
        formality = None if self.options.formality == "default" else self.options.formality
        try:
            results = self._client.translate_text(
                texts, source_lang=source, target_lang=target, formality=formality, tag_handling="xml",
                non_splitting_tags=["x"], ignore_tags=["x"])
        except deepl.DeepLException as exc:
            raise map_deepl_error(exc) from None
        except (TypeError, ValueError) as exc:  # an answer without the fields the client expects
            raise TranslationUnavailable(f"deepl: unexpected answer: {redact(str(exc))}") from None
        if not isinstance(results, list):
            results = [results]
        return [r.text for r in results]

    def close(self) -> None:
        """Close the HTTP session."""
        self._client.close()  # type: ignore[no-untyped-call]
