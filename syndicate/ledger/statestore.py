"""A small durable store that adapters share across workers (OAuth tokens, feed state).

Values live in the ledger (``state_kv``), versioned for compare-and-set; :meth:`StateStore.lock`
serializes work across processes with a Redis lock, or within the process in embedded mode.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .store import Ledger

__all__ = ["StateStore"]

_process_locks: dict[str, threading.Lock] = {}
_process_locks_guard = threading.Lock()


class StateStore:
    """Key-value state scoped to one account.

    Args:
        ledger: where the values live.
        redis: returns the Redis client that locks are taken in (None: embedded mode, locks
            within this process).
        namespace: the prefix of the lock keys in Redis.
        scope: the account id; keys of different accounts never collide.
    """

    def __init__(self, ledger: Ledger, redis: Callable[[], Any], namespace: str, scope: str) -> None:
        self._ledger = ledger
        self._redis = redis
        self._namespace = namespace
        self._scope = scope

    def get(self, key: str) -> tuple[Any, int] | None:
        """``(value, version)``, or None when unset."""
        return self._ledger.kv_get(f"acct:{self._scope}", key)

    def put(self, key: str, value: Any, *, expect_version: int | None) -> bool:
        """Compare-and-set: write when the stored version is ``expect_version`` (None: absent)."""
        return self._ledger.kv_put(f"acct:{self._scope}", key, value, expect_version=expect_version)

    @contextmanager
    def lock(self, name: str, *, ttl: timedelta = timedelta(seconds=30),
             wait: timedelta = timedelta(seconds=30)) -> Iterator[None]:
        """Hold a lock named ``name`` for this account across every worker.

        Raises:
            TimeoutError: the lock could not be taken within ``wait``.
        """
        full = f"{self._namespace}:lock:{self._scope}:{name}"
        client = self._redis()
        if client is None:
            with _process_locks_guard:
                lk = _process_locks.setdefault(full, threading.Lock())
            if not lk.acquire(timeout=wait.total_seconds()):
                raise TimeoutError(f"lock {name!r} of account {self._scope!r} not acquired in {wait}")
            try:
                yield
            finally:
                lk.release()
            return
        rlock = client.lock(full, timeout=ttl.total_seconds(), blocking_timeout=wait.total_seconds())
        if not rlock.acquire():
            raise TimeoutError(f"lock {name!r} of account {self._scope!r} not acquired in {wait}")
        try:
            yield
        finally:
            from redis.exceptions import LockError

            try:
                rlock.release()
            except LockError:
                # It expired while held: the work inside took longer than ttl. Say so; there is
                # nothing left to release.
                from ..base.logging import get_logger

                get_logger(__name__).warning("lock.expired", lock=name, account=self._scope)
