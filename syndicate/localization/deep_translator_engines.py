"""Google and MyMemory through deep-translator, made safe to call.

(LibreTranslate and Microsoft are called directly, with lists of texts and their markup modes:
see :mod:`.http_engines`.)

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
* **No key, text in the query string.** Google's web endpoint and MyMemory take no key and read
  the text from the query string of a GET (MyMemory's ``de=`` contact address too: it has no
  other way).
* **Text in errors.** ``requests`` errors carry the URL, query string included. Every message is
  passed through :func:`~syndicate.base.secrets.redact` and the original exception is not chained.
* **Untyped errors.** We map them: network faults, 5xx, unparseable answers and timeouts →
  ``TranslationUnavailable``; Google's HTTP 429 → ``TranslationThrottled`` (retried within the
  step); MyMemory's quota warning → ``TranslationQuotaExceeded``; other refusals →
  ``TranslationRejected``.
* **One text per request, no markup mode.** Neither sends a list, so for the ``placeholders``
  strategy the batch of a localization is joined into one text with boundary markers (see
  :mod:`.batching`): still one request per (item, locale) while it fits the engine's limit. For
  the ``split`` strategy each piece is a request of its own.
* **DeepL support is broken** in deep-translator; DeepL goes through the official client.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from typing import Any, TypeVar

import requests
from deep_translator import GoogleTranslator, MyMemoryTranslator
from deep_translator import exceptions as dt

from ..base.secrets import redact
from ..errors import (
    LocalizationError,
    TranslationQuotaExceeded,
    TranslationRejected,
    TranslationThrottled,
    TranslationUnavailable,
)
from .batching import BatchingTranslator
from .options import GoogleOptions, MyMemoryOptions
from .retrying import RetryPolicy

__all__ = ["MAX_IN_FLIGHT", "GoogleEngine", "MyMemoryEngine", "call_with_deadline"]

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


def _map_error(engine: str, exc: BaseException) -> LocalizationError:
    """Our error for an exception raised inside a deep-translator call, its message redacted."""
    text = f"{engine}: {type(exc).__name__}: {redact(str(exc))}"
    if isinstance(exc, dt.TooManyRequests):
        return TranslationThrottled(text)
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

    def __init__(self, connect_timeout_s: float, read_timeout_s: float, retry_attempts: int) -> None:
        super().__init__(RetryPolicy(attempts=retry_attempts))
        self._deadline_s = connect_timeout_s + read_timeout_s

    def _client(self, source: str, target: str) -> Any:
        raise NotImplementedError

    def _check(self, answer: Any) -> str:
        if not isinstance(answer, str):
            raise TranslationRejected(f"{self.name}: no translation in the answer")
        return answer

    def _send(self, texts: list[str], source: str, target: str, markup: bool) -> list[str]:
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
        super().__init__(options.connect_timeout_s, options.read_timeout_s, options.retry_attempts)
        self.options = options
        self.max_request = options.max_request_chars

    def _client(self, source: str, target: str) -> Any:
        return _Google(self.options.base_url, source=source, target=target)


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
        super().__init__(options.connect_timeout_s, options.read_timeout_s, options.retry_attempts)
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
