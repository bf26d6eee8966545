"""Retrying one translation request within the localize step, at the engine's pace.

A translation request creates nothing, so sending it again is always safe; what a retry costs is
time in the localize actor and characters of the engine's quota. So a request that failed for a
passing reason is sent again a few times within seconds, and only then is the localization left
pending for the ledger's slower retry (the dispatcher requests it again after
``localize_stale_after``, two minutes by default):

* retried: :class:`~syndicate.errors.TranslationUnavailable` (connection refused or reset, a
  timeout, 5xx) and :class:`~syndicate.errors.TranslationThrottled` (HTTP 429);
* never retried here: a refusal (400, 401, 403: ``TranslationRejected``) or a used-up quota
  (DeepL 456, Microsoft 403001, Google Cloud's 403 limits, MyMemory's daily quota:
  ``TranslationQuotaExceeded``), which another attempt seconds later cannot fix. (deep-translator
  does not tell the status of a failed Google web or MyMemory request other than 429, so those
  count as unavailable; neither engine takes a key.)

The wait before attempt ``n + 1`` is the engine's ``Retry-After`` when it sent one (read with
:func:`syndicate.channels.http.retry_after`), otherwise the project's exponential backoff
(:func:`syndicate.base.backoff.backoff`) with half jitter: half of
``min(max_backoff, first_backoff * 2**(n-1))`` plus a random part of the other half, so workers
that failed together do not come back together.

Every retry of one localization must start before a shared deadline (:data:`RETRY_BUDGET` after
the localization began, see :class:`~syndicate.localization.engines.TranslateOptions`); a
``Retry-After`` that would end past it is not waited for. With the default engine timeouts
(5 s + 30 s) and two engines, a localization stays well inside the localize actor's five-minute
time limit.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TypeVar

import tenacity

from ..base.backoff import backoff
from ..base.logging import get_logger
from ..base.metrics import count_mt_error, count_mt_retry
from ..base.secrets import redact
from ..errors import LocalizationError, TranslationThrottled, TranslationUnavailable

__all__ = ["DEFAULT_POLICY", "RETRY_BUDGET", "RetryPolicy", "call_with_retries", "retryable"]

T = TypeVar("T")

log = get_logger("syndicate.localization.retrying")

#: How long after a localization starts its in-step retries may still begin. Seconds, not
#: minutes: a longer outage is the ledger's to wait out, not a worker thread's.
RETRY_BUDGET = timedelta(seconds=20)
#: The random factor of an in-step retry: half the doubled wait plus a random part of the other half.
HALF_JITTER = (0.5, 1.0)


@dataclass(frozen=True)
class RetryPolicy:
    """How one engine retries a failed request within the localize step.

    Attributes:
        attempts: requests in all, the first included (1: no retry).
        first_backoff: the backoff before the first retry (before jitter).
        max_backoff: the longest backoff (before jitter); a ``Retry-After`` may ask for more.
    """

    attempts: int = 4
    first_backoff: timedelta = timedelta(milliseconds=500)
    max_backoff: timedelta = timedelta(seconds=4)


#: The policy of every network engine unless its profile sets ``retry_attempts``.
DEFAULT_POLICY = RetryPolicy()


def retryable(exc: BaseException) -> bool:
    """Whether a failed translation request is worth sending again within the step."""
    return isinstance(exc, TranslationUnavailable | TranslationThrottled)


def _backoff_s(policy: RetryPolicy, attempt: int, exc: BaseException | None, rng: random.Random) -> float:
    """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
    asked = exc.retry_after if isinstance(exc, LocalizationError) else None
    if asked is not None:
        return max(0.0, asked.total_seconds())
    return backoff(attempt, first=policy.first_backoff, cap=policy.max_backoff, jitter=HALF_JITTER,
                   rng=rng).total_seconds()


def call_with_retries(send: Callable[[], T], *, engine: str, policy: RetryPolicy, deadline: float,
                      sleep: Callable[[float], None] = time.sleep, rng: random.Random | None = None) -> T:
    """``send()``, sent again after a transient failure as ``policy`` says, while the wait would
    end before ``deadline`` (a :func:`time.monotonic` value).

    Raises:
        LocalizationError: what the last attempt raised (anything else propagates at once).
    """
    chance = rng or random.Random()

    def attempt() -> T:
        try:
            return send()
        except LocalizationError as exc:
            count_mt_error(engine, type(exc).__name__)
            raise

    def wait(state: tenacity.RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome is not None else None
        return _backoff_s(policy, state.attempt_number, exc, chance)

    def past_deadline(state: tenacity.RetryCallState) -> bool:
        return time.monotonic() + state.upcoming_sleep >= deadline

    def before_sleep(state: tenacity.RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome is not None else None
        count_mt_retry(engine, type(exc).__name__)
        log.info("translation.retry", engine=engine, attempt=state.attempt_number,
                 wait_s=round(state.upcoming_sleep, 3), error=redact(str(exc)))

    retrying = tenacity.Retrying(
        stop=tenacity.stop_after_attempt(max(1, policy.attempts)) | _Stop(past_deadline),
        wait=wait, retry=tenacity.retry_if_exception(retryable), sleep=sleep, before_sleep=before_sleep,
        reraise=True)
    return retrying(attempt)


class _Stop(tenacity.stop.stop_base):
    """A tenacity stop condition from a function of the retry state."""

    def __init__(self, fn: Callable[[tenacity.RetryCallState], bool]) -> None:
        self._fn = fn

    def __call__(self, retry_state: tenacity.RetryCallState) -> bool:
        return self._fn(retry_state)
