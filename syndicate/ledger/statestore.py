"""A small durable store that adapters share across workers (OAuth tokens, feed state).

Values live in the ledger (``state_kv``), versioned for compare-and-set; :meth:`StateStore.lock`
serializes work across processes with the lease the runtime gives (Redis, else the ledger's
``leases`` table when a broker runs without Redis), or without one with a Redis lease, or within
the process in embedded mode (:func:`syndicate.base.leases.lease_for`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Protocol

from ..base.leases import Lease, lease_for

if TYPE_CHECKING:
    from .store import Ledger

__all__ = ["LeaseFactory", "StateStore"]


class LeaseFactory(Protocol):
    """Makes a lease on a key, shared by every process of the deployment (``Runtime.lease``)."""

    def __call__(self, key: str, *, length: timedelta) -> Lease: ...


class StateStore:
    """Key-value state scoped to one account.

    Args:
        ledger: where the values live.
        redis: returns the Redis client that locks are taken in (None: embedded mode, locks
            within this process).
        namespace: the prefix of the lock keys in Redis.
        scope: the account id; keys of different accounts never collide.
        leases: makes the locks' leases (the runtime's choice of Redis, ledger or process); when
            None, ``redis`` decides.
    """

    def __init__(self, ledger: Ledger, redis: Callable[[], Any], namespace: str, scope: str, *,
                 leases: LeaseFactory | None = None) -> None:
        self._ledger = ledger
        self._leases = leases
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
        key = f"{self._namespace}:lock:{self._scope}:{name}"
        lease = (self._leases(key, length=ttl) if self._leases is not None
                 else lease_for(self._redis(), key, lease=ttl))
        if not lease.acquire(wait):
            raise TimeoutError(f"lock {name!r} of account {self._scope!r} not acquired in {wait}")
        try:
            yield
        finally:
            if not lease.release():
                # It expired while held: the work inside took longer than ttl. Say so; there is
                # nothing left to release.
                from ..base.logging import get_logger

                get_logger(__name__).warning("lock.expired", lock=name, account=self._scope)
