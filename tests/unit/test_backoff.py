"""The one backoff rule: doubling from a first wait, capped, jittered; shared by every retry."""

from __future__ import annotations

import random
from datetime import timedelta

from syndicate.base.backoff import PUBLISH_JITTER, backoff

S = timedelta(seconds=1)


def test_the_wait_doubles_per_failure_until_the_cap_within_the_jitter() -> None:
    rng = random.Random(3)
    for failures, doubled in [(1, 15), (2, 30), (3, 60), (4, 120), (5, 120), (9, 120)]:
        wait = backoff(failures, first=15 * S, cap=120 * S, rng=rng)
        assert doubled * 0.8 * S <= wait <= doubled * 1.2 * S, (failures, wait)


def test_half_jitter_waits_between_half_and_all_of_the_doubled_wait() -> None:
    waits = [backoff(3, first=S, cap=10 * S, jitter=(0.5, 1.0), rng=random.Random(seed)) for seed in range(200)]
    assert min(waits) >= 2 * S and max(waits) <= 4 * S
    assert max(waits) - min(waits) > S  # spread out, not one value


def test_without_jitter_the_wait_is_exact_and_zero_failures_count_as_one() -> None:
    assert backoff(0, first=5 * S, cap=S * 3600, jitter=(1.0, 1.0)) == 5 * S
    assert backoff(4, first=5 * S, cap=S * 3600, jitter=(1.0, 1.0)) == 40 * S


def test_a_thousand_failures_wait_the_cap_instead_of_overflowing() -> None:
    # Given a retry count far past any configured maximum (the doubled wait would not fit a timedelta)
    wait = backoff(1000, first=15 * S, cap=timedelta(hours=1), jitter=(1.0, 1.0))
    # Then the cap is waited, not an OverflowError raised
    assert wait == timedelta(hours=1)


def test_the_same_seed_gives_the_same_waits() -> None:
    a = [backoff(n, first=S, cap=60 * S, rng=random.Random(11)) for n in range(1, 6)]
    b = [backoff(n, first=S, cap=60 * S, rng=random.Random(11)) for n in range(1, 6)]
    assert a == b and PUBLISH_JITTER == (0.8, 1.2)
