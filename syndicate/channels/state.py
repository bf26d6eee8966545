"""The account state an adapter keeps between calls and shares with every worker.

:class:`AccountState` is what ``AccountContext.state`` offers: a small key-value store with a
version per key for compare-and-set, and a named lock across processes. The runtime gives each
account one backed by the ledger (``syndicate.ledger.statestore.StateStore``); :class:`MemoryState`
is the same within one process, for adapters built without a runtime (rendering tests, previews).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import timedelta
from typing import Any, Protocol

__all__ = ["AccountState", "MemoryState"]


class AccountState(Protocol):
    """Durable state of one account, shared by every worker (tokens that rotate, feed entries, cursors)."""

    def get(self, key: str) -> tuple[Any, int] | None:
        """``(value, version)`` of ``key``, or None when it is unset."""
        ...

    def put(self, key: str, value: Any, *, expect_version: int | None) -> bool:
        """Write ``value`` if the stored version is ``expect_version`` (None: unset); False if it moved."""
        ...

    def lock(self, name: str, *, ttl: timedelta = ..., wait: timedelta = ...) -> AbstractContextManager[Any]:
        """Hold the lock ``name`` of this account across every worker for at most ``ttl``.

        Raises:
            TimeoutError: the lock could not be taken within ``wait``.
        """
        ...


class MemoryState:
    """An :class:`AccountState` that lives in this process only."""

    def __init__(self) -> None:
        self._data: dict[str, tuple[Any, int]] = {}
        self._mutex = threading.Lock()
        self._locks: dict[str, threading.Lock] = {}

    def get(self, key: str) -> tuple[Any, int] | None:
        """``(value, version)`` of ``key``, or None when it is unset."""
        with self._mutex:
            return self._data.get(key)

    def put(self, key: str, value: Any, *, expect_version: int | None) -> bool:
        """Write ``value`` if the stored version is ``expect_version`` (None: unset); False if it moved."""
        with self._mutex:
            current = self._data.get(key)
            if (current[1] if current else None) != expect_version:
                return False
            self._data[key] = (value, (expect_version or 0) + 1)
            return True

    @contextmanager
    def lock(self, name: str, *, ttl: timedelta = timedelta(seconds=30),
             wait: timedelta = timedelta(seconds=30)) -> Iterator[None]:
        """Hold the lock ``name`` within this process (``ttl`` is not enforced here).

        Raises:
            TimeoutError: the lock could not be taken within ``wait``.
        """
        with self._mutex:
            lk = self._locks.setdefault(name, threading.Lock())
        if not lk.acquire(timeout=wait.total_seconds()):
            raise TimeoutError(f"lock {name!r} not acquired in {wait}")
        try:
            yield
        finally:
            lk.release()
