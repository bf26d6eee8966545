"""LibreTranslate, Microsoft Translator and Google's Cloud Translation API, called directly with ``requests``.

deep-translator sends one text per request and always in text mode (its LibreTranslate sends
``format=text``, and the key in the query string), so neither a list of texts nor a markup mode
is reachable through it. Both engines are plain JSON APIs; we call them ourselves:

* **LibreTranslate** (its OpenAPI description in ``libretranslate/app.py``, ``POST /translate``):
  ``q`` a list of texts (the answer's ``translatedText`` is then a list in the same order),
  ``source``, ``target``, ``format`` (``html`` for the ``placeholders`` strategy, ``text`` for the
  ``split`` strategy) and ``api_key``, all in a JSON body. The instance's ``--char-limit`` counts
  the characters of all texts of a request together and its ``--batch-limit`` counts texts
  (``max_request_chars``, ``max_texts``). HTML mode runs argos' translate-html: the text is
  minified (``' '.join(html.split())``: every run of white space becomes one space), parsed with
  Beautiful Soup's ``html.parser`` (which writes ``<x id="0"/>`` back as ``<x id="0"></x>``), each
  text node is translated on its own (the spaces at its ends dropped), and recent versions
  unescape the whole result. So, before sending, every run of white space other than one space,
  and every ``&``, ``<`` and ``>`` outside placeholders, with the white space around it, becomes a
  void element ``<br id="vN"/>`` restored byte for byte afterwards; ``<x id="N"></x>`` is read as
  ``<x id="N"/>``; dropped spaces next to placeholders are put back by the localize step
  (:func:`~.strategies.restore_spacing`).
* **Microsoft Translator v3** (learn.microsoft.com, "Translator 3.0: Translate"): ``POST
  /translate?api-version=3.0&from=..&to=..&textType=html|plain``, the key in
  ``Ocp-Apim-Subscription-Key`` (and ``Ocp-Apim-Subscription-Region``), a JSON array of up to
  1,000 ``{"Text": ...}`` objects, 50,000 characters in all; errors carry a six-digit code whose
  first three digits are the HTTP status (403001: the free quota is used up; 429xxx: too many
  requests).

* **Google Cloud Translation, Basic (v2)** (cloud.google.com/translate/docs/reference/rest/v2/translate,
  and "Quotas and limits"): ``POST .../language/translate/v2`` with a JSON body: ``q`` a list of
  at most 128 texts, ``source``, ``target``, ``format`` (``html``, its default, for the
  ``placeholders`` strategy, ``text`` for ``split``); the API key in the ``X-Goog-Api-Key``
  header, not in the ``key`` query parameter; answers ``{"data": {"translations":
  [{"translatedText"}]}}``, HTML-escaped in HTML mode. A used-up quota is a 403 (``Daily Limit
  Exceeded``, or ``User Rate Limit Exceeded`` per minute): never retried within the step.

Every request has connect and read timeouts and a total deadline (their sum) for the whole
answer, which is read up to :data:`MAX_ANSWER_BYTES`; the answer's ``Retry-After`` rides on the
error for :mod:`.retrying`. Keys are registered for redaction and never enter a URL or a message.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import requests

from ..base.secrets import add_secret, redact
from ..channels.http import answer_complete, bounded_session, retry_delay
from ..errors import (
    LocalizationError,
    PlaceholderMismatch,
    TranslationQuotaExceeded,
    TranslationRejected,
    TranslationThrottled,
    TranslationUnavailable,
)
from .batching import JOINED, BatchingTranslator
from .masking import PLACEHOLDER
from .options import EngineOptions, GoogleOptions, LibreTranslateOptions, MicrosoftOptions
from .retrying import RetryPolicy

__all__ = ["MAX_ANSWER_BYTES", "GoogleCloudEngine", "LibreTranslateEngine", "MicrosoftEngine"]

#: The largest answer read from an engine; a translation of at most 128 KiB is far smaller.
MAX_ANSWER_BYTES = 8 * 1024 * 1024


class _HttpEngine(BatchingTranslator):
    """Common part: one session, timeouts and a total deadline, status → error mapping."""

    def __init__(self, options: EngineOptions) -> None:
        super().__init__(RetryPolicy(attempts=options.retry_attempts))
        self._timeouts = (options.connect_timeout_s, options.read_timeout_s)
        # A total deadline (connect + read timeout) for each exchange, and a cap on the answer.
        self._session = bounded_session(max_answer_bytes=MAX_ANSWER_BYTES)

    def _post(self, url: str, *, body: Any, params: Mapping[str, str] | None = None,
              headers: Mapping[str, str] | None = None) -> tuple[int, timedelta | None, bytes]:
        """POST ``body`` as JSON; the status, the answer's ``Retry-After`` and the body.

        Raises:
            TranslationUnavailable: no complete answer (refused, reset, timeout, too large).
        """
        try:
            resp = self._session.post(url, json=body, params=params, headers=dict(headers or {}),
                                      timeout=self._timeouts)
        except requests.RequestException as exc:
            raise TranslationUnavailable(f"{self.name}: {type(exc).__name__}: {redact(str(exc))}") from None
        with resp:
            if not answer_complete(resp):
                raise TranslationUnavailable(f"{self.name}: no complete answer within {sum(self._timeouts):g} s "
                                             f"and {MAX_ANSWER_BYTES:,} bytes")
            return resp.status_code, retry_delay(resp.headers.get("Retry-After")), resp.content

    def _parse(self, data: bytes) -> Any:
        try:
            return json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise TranslationUnavailable(f"{self.name}: an answer that is not JSON") from None

    def _said(self, data: bytes) -> str:
        """The error message in an error answer, redacted and cut short."""
        try:
            parsed = json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            # Redact before cutting short: a key cut in two would escape redaction.
            return redact(data[:4096].decode("utf-8", "replace"))[:300].strip()
        err = parsed.get("error") if isinstance(parsed, dict) else None
        if isinstance(err, dict):
            err = err.get("message")
        return redact(str(err if err is not None else parsed))[:300]

    def _error(self, status: int, wait: timedelta | None, data: bytes) -> LocalizationError:
        text = f"{self.name}: HTTP {status}: {self._said(data)}"
        if status == 429:
            return TranslationThrottled(text, retry_after=wait)
        if status >= 500 or status == 408:
            return TranslationUnavailable(text, retry_after=wait)
        return TranslationRejected(text)

    def _texts(self, answer: Any, count: int) -> list[str]:
        if not isinstance(answer, list) or not all(isinstance(a, str) for a in answer):
            raise TranslationUnavailable(f"{self.name}: no translations in the answer")
        if len(answer) != count:
            raise TranslationRejected(f"{self.name} returned {len(answer)} translations for {count} texts")
        return list(answer)

    def close(self) -> None:
        """Close the HTTP session."""
        self._session.close()


# -- LibreTranslate ----------------------------------------------------------------------------

#: Runs of white space and ``&<>``; outside placeholders, every such run but a single plain space
#: is something LibreTranslate's HTML mode would not give back as it was. (Maximal runs of one
#: character class: linear in the text's length.)
_SPECIAL_RUN = re.compile(r"[\s&<>]+")
_TOKEN = re.compile(r"<br\s+id=\"v(\d+)\"\s*/?>(?:</br>)?")
_OPEN_CLOSE_X = re.compile(r"<x\s+id=\"(\d+)\"\s*>\s*</x>")


def _verbatim(part: str) -> list[re.Match[str]]:
    """The runs of ``part`` (text between placeholders) that travel as ``<br id="vN"/>``."""
    return [m for m in _SPECIAL_RUN.finditer(part) if m.group(0) != " "]


def _verbatim_runs(text: str) -> list[str]:
    """The runs of ``text`` (outside placeholders) that travel as ``<br id="vN"/>``, in order."""
    runs: list[str] = []
    for i, part in enumerate(PLACEHOLDER.split(text)):
        if i % 2 == 0:  # PLACEHOLDER has one group: odd indexes are the ids
            runs.extend(m.group(0) for m in _verbatim(part))
    return runs


class LibreTranslateEngine(_HttpEngine):
    """LibreTranslate (``engine: libretranslate``): lists of texts, ``format=html`` for placeholders."""

    name = "libretranslate"

    def __init__(self, options: LibreTranslateOptions, api_key: str | None) -> None:
        super().__init__(options)
        if api_key:
            add_secret(api_key)
        self.options = options
        self.max_request = options.max_request_chars
        self.max_items = options.max_texts
        self._key = api_key
        self._url = options.base_url.rstrip("/") + "/translate"

    def _encode(self, text: str) -> str:
        out: list[str] = []
        n = 0
        for i, part in enumerate(PLACEHOLDER.split(text)):
            if i % 2 == 1:
                out.append(f'<x id="{part}"/>')
                continue
            pos = 0
            for m in _verbatim(part):
                out.append(part[pos:m.start()])
                out.append(f'<br id="v{n}"/>')
                n += 1
                pos = m.end()
            out.append(part[pos:])
        return "".join(out)

    def _decode(self, answer: str, text: str) -> str:
        runs = _verbatim_runs(text)
        text = _OPEN_CLOSE_X.sub(lambda m: f'<x id="{m.group(1)}"/>', answer)
        found = [int(m.group(1)) for m in _TOKEN.finditer(text)]
        if sorted(found) != list(range(len(runs))):
            raise PlaceholderMismatch(f"{self.name} lost, repeated or invented line breaks or special characters "
                                      f"(expected {len(runs)}, found {sorted(found)})", answers={JOINED: answer})
        text = html.unescape(text)  # older versions leave Beautiful Soup's escaping in the answer
        return _TOKEN.sub(lambda m: runs[int(m.group(1))], text)

    def _send(self, texts: list[str], source: str, target: str, markup: bool) -> list[str]:
        body: dict[str, Any] = {"q": texts, "source": source, "target": target, "format": "html" if markup else "text"}
        if self._key:
            body["api_key"] = self._key
        status, wait, data = self._post(self._url, body=body)
        if not 200 <= status < 300:
            raise self._error(status, wait, data)
        answer = self._parse(data)
        out = answer.get("translatedText") if isinstance(answer, dict) else None
        if isinstance(out, str) and len(texts) == 1:
            out = [out]
        return self._texts(out, len(texts))


# -- Microsoft ---------------------------------------------------------------------------------


class MicrosoftEngine(_HttpEngine):
    """Microsoft Translator v3 (``engine: microsoft``): arrays of texts, ``textType=html`` for placeholders."""

    name = "microsoft"
    escape_markup = True
    #: Array elements per request (Microsoft's limit).
    max_items = 1_000

    def __init__(self, options: MicrosoftOptions, api_key: str) -> None:
        super().__init__(options)
        add_secret(api_key)
        self.options = options
        self.max_request = options.max_request_chars
        self._headers = {"Ocp-Apim-Subscription-Key": api_key}
        if options.region:
            self._headers["Ocp-Apim-Subscription-Region"] = options.region
        self._url = options.base_url.rstrip("/") + "/translate"

    def _error(self, status: int, wait: timedelta | None, data: bytes) -> LocalizationError:
        code = 0
        try:
            parsed = json.loads(data.decode("utf-8"))
            code = int(parsed["error"]["code"])
        except (UnicodeDecodeError, ValueError, KeyError, TypeError):
            pass
        if code == 403001:
            return TranslationQuotaExceeded(f"{self.name}: HTTP {status} ({code}): {self._said(data)}")
        return super()._error(status, wait, data)

    def _send(self, texts: list[str], source: str, target: str, markup: bool) -> list[str]:
        params = {"api-version": "3.0", "from": source, "to": target, "textType": "html" if markup else "plain"}
        status, wait, data = self._post(self._url, body=[{"Text": t} for t in texts], params=params,
                                        headers=self._headers)
        if not 200 <= status < 300:
            raise self._error(status, wait, data)
        answer = self._parse(data)
        out: list[Any] = []
        if isinstance(answer, list):
            for entry in answer:
                translations = entry.get("translations") if isinstance(entry, dict) else None
                first = translations[0] if isinstance(translations, list) and translations else None
                out.append(first.get("text") if isinstance(first, dict) else None)
        return self._texts(out if isinstance(answer, list) else None, len(texts))


# -- Google Cloud Translation ------------------------------------------------------------------

#: Reasons of a Cloud Translation 403 that mean a quota, not a refusal.
_GOOGLE_QUOTA = re.compile(r"rate ?limit|limit exceeded|quota", re.IGNORECASE)


class GoogleCloudEngine(_HttpEngine):
    """Google's Cloud Translation API v2 (``engine: google``, ``api: cloud``): lists, ``format=html``."""

    name = "google"
    escape_markup = True
    #: Texts per request (the API's limit).
    max_items = 128

    def __init__(self, options: GoogleOptions, api_key: str) -> None:
        super().__init__(options)
        add_secret(api_key)
        self.options = options
        self.max_request = options.max_request_chars
        self._headers = {"X-Goog-Api-Key": api_key}
        self._url = options.cloud_url

    def _error(self, status: int, wait: timedelta | None, data: bytes) -> LocalizationError:
        if status == 403 and _GOOGLE_QUOTA.search(data.decode("utf-8", "replace")):
            return TranslationQuotaExceeded(f"{self.name}: HTTP {status}: {self._said(data)}")
        return super()._error(status, wait, data)

    def _send(self, texts: list[str], source: str, target: str, markup: bool) -> list[str]:
        body = {"q": texts, "source": source, "target": target, "format": "html" if markup else "text"}
        status, wait, data = self._post(self._url, body=body, headers=self._headers)
        if not 200 <= status < 300:
            raise self._error(status, wait, data)
        answer = self._parse(data)
        data_part = answer.get("data") if isinstance(answer, dict) else None
        translations = data_part.get("translations") if isinstance(data_part, dict) else None
        out = ([t.get("translatedText") if isinstance(t, dict) else None for t in translations]
               if isinstance(translations, list) else None)
        return self._texts(out, len(texts))
