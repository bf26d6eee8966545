"""CPU-time measurements for tests that feed pathological text (never wall-clock).

:func:`cpu_ratio` compares the CPU time a function takes on a text with the CPU time of a plain
linear scan of the same text (a trivial ``re`` scan that visits every character), measured in the
same run: the ratio does not depend on how fast or busy the machine is. :func:`cpu_limit` stops a
runaway function once the process has spent a given CPU time, so a super-linear pattern makes its
test fail in seconds instead of hanging it.
"""

from __future__ import annotations

import gc
import re
import signal
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

__all__ = ["CpuLimitExceeded", "cpu_limit", "cpu_ratio", "cpu_seconds", "linear_scan_seconds"]

_SCAN = re.compile(".", re.DOTALL)


class CpuLimitExceeded(Exception):
    """The block used more CPU time than :func:`cpu_limit` allowed."""


@contextmanager
def cpu_limit(seconds: float) -> Iterator[None]:
    """Raise :class:`CpuLimitExceeded` in the block once this process has used ``seconds`` of CPU
    time (SIGPROF; main thread only; ``re`` checks for signals while it matches)."""
    def expired(signum: int, frame: Any) -> None:
        raise CpuLimitExceeded(f"used more than {seconds:g} s of CPU time")

    previous = signal.signal(signal.SIGPROF, expired)
    signal.setitimer(signal.ITIMER_PROF, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.signal(signal.SIGPROF, previous)


def cpu_seconds(fn: Callable[[], object], *, repeat: int = 3) -> float:
    """The least process CPU time ``fn()`` took over ``repeat`` runs, with the garbage collector
    off during each run: a function that makes a million small objects otherwise pays for full
    collections that grow with everything else the test process holds, and a linear function
    looks super-linear on a busy machine."""
    best = float("inf")
    for _ in range(repeat):
        gc.collect()
        gc.disable()
        try:
            start = time.process_time()
            fn()
            best = min(best, time.process_time() - start)
        finally:
            gc.enable()
    return best


def _scan_seconds(text: str) -> float:
    """CPU time of a linear scan of ``text``: one trivial regex match per character (best of 5)."""
    return cpu_seconds(lambda: sum(1 for _ in _SCAN.finditer(text)), repeat=5)


@lru_cache(maxsize=64)
def linear_scan_seconds(text: str) -> float:
    """:func:`_scan_seconds`, measured once per text in a process."""
    return _scan_seconds(text)


#: A ratio above this is checked again against a scan measured right then, beside the function.
RECHECK_RATIO = 20.0


def cpu_ratio(fn: Callable[[str], object], text: str, *, limit_s: float = 20.0) -> float:
    """The least CPU time of two runs of ``fn(text)`` divided by that of a linear scan of ``text``;
    a function that runs past ``limit_s`` of CPU time fails with :class:`CpuLimitExceeded`.

    The scan is measured once per text; a ratio above :data:`RECHECK_RATIO` is taken again against
    a scan measured just after the function, so that a scan from a quiet moment does not make a
    linear function look slower than it is on a busy machine."""
    with cpu_limit(limit_s):
        spent = cpu_seconds(lambda: fn(text), repeat=2)
    ratio = spent / max(linear_scan_seconds(text), 1e-6)
    if ratio > RECHECK_RATIO:
        ratio = spent / max(_scan_seconds(text), 1e-6)
    return ratio
