"""Google, Microsoft, LibreTranslate and MyMemory through deep-translator, made safe to call.

What deep-translator (1.11) does, and what we do about it:

* **No timeouts.** It calls ``requests.get``/``requests.post`` at module level with no ``timeout``
  and no session to configure, so a stalled server blocks the caller for ever. We do not patch
  ``requests`` or deep-translator globally; each call runs in a daemon thread and we wait for it at
  most ``connect_timeout_s + read_timeout_s``. A call that overruns is abandoned (its thread ends
  when the server answers or the connection drops) and reported as ``TranslationUnavailable``. At
  most :data:`MAX_IN_FLIGHT` calls per engine may be running: when abandoned calls fill that
  budget, further calls fail at once instead of piling up threads.
* **Hard-coded URLs.** Each translator keeps its endpoint in the ``_base_url`` attribute; our
  subclasses set it from the engine profile's ``base_url`` (test fakes, self-hosted instances).
  ``MicrosoftTranslator.__init__`` also downloads the language list from a hard-coded host with no
  timeout: our subclass answers from :mod:`syndicate.locales` instead.
* **Keys in query strings.** deep-translator's LibreTranslate sends the API key, and the text, in
  the query string, where servers, proxies and ``requests`` error messages log them; LibreTranslate
  accepts them in a JSON body, so our subclass sends them there. Microsoft's key travels in a
  header (``Ocp-Apim-Subscription-Key``). Google and MyMemory take no key (MyMemory's ``de=``
  contact address goes in the query string: it has no other way).
* **Secrets and text in errors.** LibreTranslate puts the API key in ``AuthorizationException``;
  ``requests`` errors carry the URL, query string included; Microsoft's error bodies are echoed.
  Every message is passed through :func:`~syndicate.secrets.redact` (keys are registered with
  ``add_secret``) and the original exception is not chained.
* **Untyped errors.** We map them: network faults, 5xx, unparseable answers and timeouts →
  ``TranslationUnavailable``; HTTP 429, Microsoft 403001/429xxx, MyMemory's quota warning →
  ``TranslationQuotaExceeded``; bad key, unsupported language, other 4xx → ``TranslationRejected``.
* **One text per request.** None of these translators sends a list, so the batch of a localization
  is joined into one text with boundary markers (see :mod:`.batching`): still one request per
  (item, locale) while it fits the engine's limit.
* **DeepL support is broken** in deep-translator; DeepL goes through the official client.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from typing import Any, TypeVar

import requests
from deep_translator import GoogleTranslator, LibreTranslator, MicrosoftTranslator, MyMemoryTranslator
from deep_translator import exceptions as dt

from ..errors import LocalizationError, TranslationQuotaExceeded, TranslationRejected, TranslationUnavailable
from ..secrets import add_secret, redact
from .batching import BatchingTranslator
from .engines import GoogleOptions, LibreTranslateOptions, MicrosoftOptions, MyMemoryOptions

__all__ = ["MAX_IN_FLIGHT", "GoogleEngine", "LibreTranslateEngine", "MicrosoftEngine", "MyMemoryEngine",
           "call_with_deadline"]

T = TypeVar("T")

#: Calls one engine may have running at once, abandoned ones included.
MAX_IN_FLIGHT = 8

_slots: dict[str, threading.BoundedSemaphore] = {}
_slots_lock = threading.Lock()


def _slot(engine: str) -> threading.BoundedSemaphore:
    with _slots_lock:
        sem = _slots.get(engine)
        if sem is None:
            sem = _slots[engine] = threading.BoundedSemaphore(MAX_IN_FLIGHT)
        return sem


def call_with_deadline(fn: Callable[[], T], *, seconds: float, engine: str) -> T:
    """Run ``fn`` in a daemon thread; return its result, or raise what it raised.

    Raises:
        TranslationUnavailable: it did not finish within ``seconds``, or :data:`MAX_IN_FLIGHT`
            earlier calls of ``engine`` are still running.
    """
    sem = _slot(engine)
    if not sem.acquire(blocking=False):
        raise TranslationUnavailable(f"{engine}: {MAX_IN_FLIGHT} earlier calls are still waiting for an answer")
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["result"] = fn()
        except BaseException as exc:  # noqa: BLE001 - handed to the caller, who maps or re-raises it
            box["error"] = exc
        finally:
            sem.release()

    thread = threading.Thread(target=run, name=f"syndicate-mt-{engine}", daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        raise TranslationUnavailable(f"{engine}: no answer within {seconds:g} s")
    if "error" in box:
        raise box["error"]
    result: T = box["result"]
    return result


_MS_CODE = re.compile(r"'code':\s*(\d+)")
_LIBRE_STATUS = {name: code for code, name in dt.ServerException.errors.items()}


def _map_error(engine: str, exc: BaseException) -> LocalizationError:
    """Our error for an exception raised inside a deep-translator call, its message redacted."""
    text = f"{engine}: {type(exc).__name__}: {redact(str(exc))}"
    if isinstance(exc, dt.TooManyRequests):
        return TranslationQuotaExceeded(text)
    if isinstance(exc, dt.MicrosoftAPIerror):
        m = _MS_CODE.search(exc.api_message)
        code = int(m.group(1)) if m else 0
        if code // 1000 == 429 or code == 403001:
            return TranslationQuotaExceeded(text)
        if code >= 500_000:
            return TranslationUnavailable(text)
        return TranslationRejected(text)
    if isinstance(exc, dt.ServerException):
        status = _LIBRE_STATUS.get(str(exc.args[0]) if exc.args else "", 0)
        if status == 429:
            return TranslationQuotaExceeded(text)
        if status in (0, 500, 503):
            return TranslationUnavailable(text)
        return TranslationRejected(text)
    if isinstance(exc, dt.AuthorizationException | dt.ApiKeyException):
        return TranslationRejected(text)
    if isinstance(exc, dt.LanguageNotSupportedException | dt.InvalidSourceOrTargetLanguage | dt.NotValidPayload
                  | dt.NotValidLength | dt.TranslationNotFound | dt.ElementNotFoundInGetRequest):
        return TranslationRejected(text)
    if isinstance(exc, dt.RequestError | requests.RequestException | json.JSONDecodeError | OSError):
        return TranslationUnavailable(text)
    if isinstance(exc, AttributeError | KeyError | TypeError | IndexError | StopIteration):
        # deep-translator swallows some connection errors and then trips over the missing
        # response (Microsoft), or finds an answer without the fields it expects.
        return TranslationUnavailable(f"{engine}: no usable answer ({type(exc).__name__}: {redact(str(exc))})")
    return TranslationUnavailable(text)


class _DeepTranslatorEngine(BatchingTranslator):
    """Common part: build a deep-translator instance per call, run it under a deadline, map errors."""

    def __init__(self, connect_timeout_s: float, read_timeout_s: float) -> None:
        super().__init__()
        self._deadline_s = connect_timeout_s + read_timeout_s

    def _client(self, source: str, target: str) -> Any:
        raise NotImplementedError

    def _check(self, answer: Any) -> str:
        if not isinstance(answer, str):
            raise TranslationRejected(f"{self.name}: no translation in the answer")
        return answer

    def _send(self, texts: list[str], source: str, target: str) -> list[str]:
        [text] = texts

        def call() -> Any:
            return self._client(source, target).translate(text)

        try:
            answer = call_with_deadline(call, seconds=self._deadline_s, engine=self.name)
        except LocalizationError:
            raise
        except Exception as exc:  # noqa: BLE001 - deep-translator raises anything; _map_error types it
            raise _map_error(self.name, exc) from None
        return [self._check(answer)]


# -- Google ------------------------------------------------------------------------------------


class _Google(GoogleTranslator):  # type: ignore[misc]
    def __init__(self, base_url: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._base_url = base_url


class GoogleEngine(_DeepTranslatorEngine):
    """Google Translate's public web endpoint through deep-translator (``engine: google``)."""

    name = "google"

    def __init__(self, options: GoogleOptions) -> None:
        super().__init__(options.connect_timeout_s, options.read_timeout_s)
        self.options = options
        self.max_request = options.max_request_chars

    def _client(self, source: str, target: str) -> Any:
        return _Google(self.options.base_url, source=source, target=target)


# -- Microsoft ---------------------------------------------------------------------------------


class _Microsoft(MicrosoftTranslator):  # type: ignore[misc]
    def __init__(self, base_url: str, codes: tuple[str, ...], **kwargs: Any) -> None:
        self._codes = codes
        super().__init__(**kwargs)
        self._base_url = base_url

    def _get_supported_languages(self) -> dict[str, str]:
        # Instead of downloading the list from a hard-coded host, with no timeout, at construction.
        return {code: code for code in self._codes}


class MicrosoftEngine(_DeepTranslatorEngine):
    """Microsoft Translator v3 through deep-translator (``engine: microsoft``), ``textType=html``
    so that placeholders are kept as markup."""

    name = "microsoft"
    escape_markup = True

    def __init__(self, options: MicrosoftOptions, api_key: str) -> None:
        super().__init__(options.connect_timeout_s, options.read_timeout_s)
        add_secret(api_key)
        self.options = options
        self.max_request = options.max_request_chars
        self._key = api_key
        self._url = options.base_url.rstrip("/") + "/translate?api-version=3.0"

    def _client(self, source: str, target: str) -> Any:
        return _Microsoft(self._url, (source, target), source=source, target=target, api_key=self._key,
                          region=self.options.region, textType="html")


# -- LibreTranslate ----------------------------------------------------------------------------


class _Libre(LibreTranslator):  # type: ignore[misc]
    def __init__(self, base_url: str, api_key: str | None, timeouts: tuple[float, float], **kwargs: Any) -> None:
        # deep-translator insists on a key; an instance without keys gets none sent.
        super().__init__(api_key=api_key or "-", custom_url=base_url, **kwargs)
        self.api_key = api_key
        self._timeouts = timeouts

    def translate(self, text: str, **kwargs: Any) -> str:
        """As deep-translator's, but the text and the key go in a JSON body (LibreTranslate's
        ``/translate`` reads either), never in the query string, and with our timeouts."""
        if self._same_source_target() or not text:
            return text
        body = {"q": text, "source": self._source, "target": self._target, "format": "text"}
        if self.api_key:
            body["api_key"] = self.api_key
        response = requests.post(self._base_url + "translate", json=body, timeout=self._timeouts)
        if response.status_code == 403:
            said = response.text.strip()[:300]
            raise dt.AuthorizationException(f"(not shown); the server said: {said}" if said else "(not shown)")
        if not 200 <= response.status_code < 300:
            raise dt.ServerException(response.status_code)
        answer = response.json()
        if not answer:
            raise dt.TranslationNotFound(text)
        return answer["translatedText"]  # type: ignore[no-any-return]


class LibreTranslateEngine(_DeepTranslatorEngine):
    """LibreTranslate through deep-translator (``engine: libretranslate``)."""

    name = "libretranslate"

    def __init__(self, options: LibreTranslateOptions, api_key: str | None) -> None:
        super().__init__(options.connect_timeout_s, options.read_timeout_s)
        if api_key:
            add_secret(api_key)
        self.options = options
        self.max_request = options.max_request_chars
        self._key = api_key
        self._url = options.base_url.rstrip("/") + "/"

    def _client(self, source: str, target: str) -> Any:
        return _Libre(self._url, self._key, (self.options.connect_timeout_s, self.options.read_timeout_s),
                      source=source, target=target)


# -- MyMemory ----------------------------------------------------------------------------------

_MYMEMORY_QUOTA = re.compile(r"MYMEMORY WARNING|YOU USED ALL AVAILABLE FREE TRANSLATIONS", re.IGNORECASE)
_MYMEMORY_REFUSAL = re.compile(r"^(?:QUERY LENGTH LIMIT EXCEEDED|INVALID LANGUAGE PAIR|'?AUTO'? IS AN INVALID)",
                               re.IGNORECASE)


class _MyMemory(MyMemoryTranslator):  # type: ignore[misc]
    def __init__(self, base_url: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._base_url = base_url


class MyMemoryEngine(_DeepTranslatorEngine):
    """MyMemory through deep-translator (``engine: mymemory``): 500 bytes per request."""

    name = "mymemory"

    def __init__(self, options: MyMemoryOptions) -> None:
        super().__init__(options.connect_timeout_s, options.read_timeout_s)
        self.options = options
        self.max_request = options.max_request_bytes

    def measure(self, text: str) -> int:
        """UTF-8 bytes: MyMemory's limit is 500 bytes."""
        return len(text.encode("utf-8"))

    def _client(self, source: str, target: str) -> Any:
        kwargs: dict[str, Any] = {"source": source, "target": target}
        if self.options.email:
            kwargs["email"] = self.options.email
        return _MyMemory(self.options.base_url, **kwargs)

    def _check(self, answer: Any) -> str:
        # MyMemory answers quota and length problems with HTTP 200 and the warning as the "translation".
        text = super()._check(answer)
        if _MYMEMORY_QUOTA.search(text):
            raise TranslationQuotaExceeded(f"mymemory: {redact(text[:300])}")
        if _MYMEMORY_REFUSAL.search(text):
            raise TranslationRejected(f"mymemory: {redact(text[:300])}")
        return text
