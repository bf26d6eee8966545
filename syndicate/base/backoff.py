"""Exponential backoff with jitter: the one rule every retry in syndicate waits by.

A publication put back to ``retrying``, a reconciliation that could not ask the platform, a
lifecycle webhook the receiver refused and a translation request sent again within the localize
step all wait ``first * 2**(n-1)`` after failure ``n``, capped, times a random factor so that
work that failed together does not come back together. Only the numbers differ: each caller
passes its own first wait, cap and jitter. A ``Retry-After`` from the other side is the caller's
to honour (it knows whether it may wait that long).
"""

from __future__ import annotations

import random
from datetime import timedelta

__all__ = ["PUBLISH_JITTER", "backoff"]

#: The random factor of the worker's retries: ±20 % around the doubled wait.
PUBLISH_JITTER = (0.8, 1.2)
#: Exponents above this add nothing (any cap is reached long before) and would overflow a timedelta.
_MAX_EXPONENT = 48


def backoff(failures: int, *, first: timedelta, cap: timedelta, jitter: tuple[float, float] = PUBLISH_JITTER,
            rng: random.Random | None = None) -> timedelta:
    """How long to wait after failure number ``failures`` (1-based; 0 counts as 1).

    Args:
        failures: failures so far, this one included.
        first: the wait after the first failure, before jitter.
        cap: the longest wait before jitter (the doubling stops there).
        jitter: the wait is multiplied by a random factor between these two (``(0.5, 1.0)``: half
            the doubled wait plus a random part of the other half).
        rng: the source of randomness (tests pass a seeded one); default the ``random`` module.
    """
    exponent = min(max(0, failures - 1), _MAX_EXPONENT)
    doubled_s = min(cap.total_seconds(), first.total_seconds() * 2.0 ** exponent)
    low, high = jitter
    factor = (rng or random).uniform(low, high)
    return timedelta(seconds=doubled_s * factor)
