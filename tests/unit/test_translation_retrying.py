"""In-step retries of a translation request: which errors, how long to wait, and the budget.

The requests here are plain functions that fail as scripted; the waits are recorded by the
``sleep`` the retry loop is given, so no test sleeps or reads a clock.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from datetime import timedelta

import pytest

from syndicate.errors import (
    LocalizationError,
    PlaceholderMismatch,
    TranslationQuotaExceeded,
    TranslationRejected,
    TranslationThrottled,
    TranslationUnavailable,
)
from syndicate.localization.retrying import RetryPolicy, call_with_retries

POLICY = RetryPolicy(attempts=4, first_backoff=timedelta(milliseconds=500), max_backoff=timedelta(seconds=4))


def failing(*errors: LocalizationError) -> tuple[Callable[[], str], list[int]]:
    """A request that raises ``errors`` in turn, then answers "ok"; and its call count."""
    calls: list[int] = []

    def send() -> str:
        calls.append(1)
        if len(calls) <= len(errors):
            raise errors[len(calls) - 1]
        return "ok"

    return send, calls


def run(send: Callable[[], str], *, budget_s: float = 20.0, policy: RetryPolicy = POLICY) -> tuple[str, list[float]]:
    waits: list[float] = []
    out = call_with_retries(send, engine="unit", policy=policy, deadline=time.monotonic() + budget_s,
                            sleep=waits.append, rng=random.Random(7))
    return out, waits


def test_a_one_off_server_error_is_sent_again_after_a_short_backoff() -> None:
    # Given a request failing once with a 503 / When sent with retries / Then the second attempt answers
    send, calls = failing(TranslationUnavailable("engine: HTTP 503"))
    out, waits = run(send)
    assert out == "ok" and len(calls) == 2
    # the wait is half the first backoff plus jitter up to the other half
    assert len(waits) == 1 and 0.25 <= waits[0] <= 0.5


def test_backoff_doubles_up_to_its_ceiling_with_jitter() -> None:
    send, _calls = failing(*(TranslationUnavailable("down") for _ in range(3)))
    _out, waits = run(send, policy=RetryPolicy(attempts=4, first_backoff=timedelta(seconds=1),
                                               max_backoff=timedelta(seconds=2)))
    ceilings = [1.0, 2.0, 2.0]
    assert [c / 2 <= w <= c for w, c in zip(waits, ceilings, strict=True)] == [True, True, True]


def test_a_retry_after_sets_the_wait() -> None:
    # Given a 429 saying "come back in 3 s" / Then the retry waits exactly that, not the backoff
    send, calls = failing(TranslationThrottled("engine: HTTP 429", retry_after=timedelta(seconds=3)))
    out, waits = run(send)
    assert out == "ok" and waits == [3.0] and len(calls) == 2


def test_a_retry_after_beyond_the_budget_is_not_waited_for() -> None:
    # Given a 503 asking for 60 s and a 20 s budget / Then no retry: the ledger's later attempt takes over
    send, calls = failing(TranslationUnavailable("engine: HTTP 503", retry_after=timedelta(seconds=60)))
    with pytest.raises(TranslationUnavailable):
        run(send)
    assert len(calls) == 1


def test_retries_stop_after_the_allowed_attempts_with_the_last_error() -> None:
    send, calls = failing(*(TranslationUnavailable(f"down {i}") for i in range(9)))
    with pytest.raises(TranslationUnavailable, match="down 3"):
        run(send)
    assert len(calls) == 4


@pytest.mark.parametrize("error", [
    TranslationRejected("engine: HTTP 401: bad key"),
    TranslationRejected("engine: HTTP 403: forbidden"),
    TranslationQuotaExceeded("deepl: Quota for this billing period has been exceeded (456)"),
    PlaceholderMismatch("the translation of body lost ['@x']"),
])
def test_refusals_and_used_up_quotas_are_never_retried_in_the_step(error: LocalizationError) -> None:
    send, calls = failing(error)
    with pytest.raises(type(error)):
        run(send)
    assert len(calls) == 1


def test_one_attempt_means_no_retry() -> None:
    send, calls = failing(TranslationUnavailable("down"))
    with pytest.raises(TranslationUnavailable):
        run(send, policy=RetryPolicy(attempts=1))
    assert len(calls) == 1


def test_a_bug_is_not_retried() -> None:
    # Given a request that raises something that is not a localization error / Then it propagates at once
    calls: list[int] = []

    def send() -> str:
        calls.append(1)
        raise KeyError("bug")

    with pytest.raises(KeyError):
        run(send)
    assert len(calls) == 1
