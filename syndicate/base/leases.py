"""Leases: one holder at a time, for the dispatcher's leadership and short critical sections.

One small interface, :class:`Lease`, with two implementations and a null one:

* :class:`RedisLease`, across processes and machines, is redis-py's :class:`redis.lock.Lock`: the
  key is set with ``SET key token NX PX lease``; whoever set it holds the lease until it expires,
  unless the holder renews it (``reacquire``: the expiry is reset only while the key still holds
  the holder's token, checked in the lock's Lua script) or releases it (``DEL`` under the same
  check). A holder that dies stops renewing, so the key expires and a standby takes over within
  one lease. Our token is :func:`holder_identity`, so ``GET key`` says which process holds it.
* :class:`ProcessLease`, the embedded-mode stand-in: a lock shared by the threads of this process
  under the same key. It does not expire (a thread that holds it is alive).
* :class:`LocalLease` is always held: in embedded mode the dispatcher is a thread of the one process.

:func:`lease_for` picks the first or the second from whether there is a Redis client.

A lease is not a fence: a holder paused past its lease may still act once before it notices.
What is done under a lease is safe to do twice anyway (conditional ledger updates,
``FOR UPDATE SKIP LOCKED``, compare-and-set state); the lease only keeps the work in one place.
"""

from __future__ import annotations

import os
import socket
import threading
import uuid
from datetime import timedelta
from typing import Any, ClassVar, Protocol

__all__ = ["DEFAULT_LEASE", "Lease", "LocalLease", "ProcessLease", "RedisLease", "holder_identity", "lease_for"]

#: Default length of the dispatcher's leader lease; a standby takes over within this long.
DEFAULT_LEASE = timedelta(seconds=10)
#: How often a waiting :meth:`Lease.acquire` tries again.
POLL = timedelta(milliseconds=50)


def holder_identity() -> str:
    """``host:pid:random``: unique to this process and this lease object."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Lease(Protocol):
    """Something held by one party at a time."""

    lease: timedelta

    @property
    def held(self) -> bool:
        """Whether this party held the lease at its last :meth:`step` or :meth:`acquire`."""
        ...

    def step(self) -> bool:
        """Renew the lease if held, else try to take it; return whether it is held now."""
        ...

    def acquire(self, wait: timedelta) -> bool:
        """Wait up to ``wait`` for the lease (for short critical sections); True once held."""
        ...

    def wait_hint(self) -> timedelta:
        """How long a standby may wait before its next :meth:`step` without missing a free lease."""
        ...

    def release(self) -> bool:
        """Give the lease up at once (a clean shutdown hands over without waiting for expiry).

        Returns False when it had run out meanwhile (someone else may hold it now): the work done
        under it took longer than the lease.
        """
        ...


class LocalLease:
    """Always held: embedded mode has one dispatcher thread."""

    def __init__(self, lease: timedelta = DEFAULT_LEASE) -> None:
        self.lease = lease
        self.identity = holder_identity()

    @property
    def held(self) -> bool:
        """Always True."""
        return True

    def step(self) -> bool:
        """Always True."""
        return True

    def acquire(self, wait: timedelta) -> bool:
        """Always True."""
        return True

    def wait_hint(self) -> timedelta:
        """Nothing to wait for."""
        return timedelta(0)

    def release(self) -> bool:
        """Nothing to release."""
        return True


class RedisLease:
    """A lease on one Redis key: redis-py's ``Lock`` with our identity as its token.

    Args:
        client: a ``redis.Redis`` client.
        key: the key (namespaced by the caller).
        lease: how long the lease lasts without renewal.
        identity: the token stored in the key (default :func:`holder_identity`).
    """

    def __init__(self, client: Any, key: str, *, lease: timedelta = DEFAULT_LEASE, identity: str | None = None
                 ) -> None:
        if lease < timedelta(milliseconds=100):
            raise ValueError("a lease must last at least 100 ms")
        self.client = client
        self.key = key
        self.lease = lease
        self.identity = identity or holder_identity()
        self._held = False
        # One holder per object, whichever thread steps or releases it: the token is not thread-local.
        self._lock = client.lock(key, timeout=lease.total_seconds(), sleep=POLL.total_seconds(), thread_local=False)

    @property
    def held(self) -> bool:
        """Whether the lease was held at the last :meth:`step` or :meth:`acquire`."""
        return self._held

    def try_acquire(self) -> bool:
        """Take the lease if nobody holds it."""
        self._held = bool(self._lock.acquire(blocking=False, token=self.identity))
        return self._held

    def renew(self) -> bool:
        """Extend the lease to its full length if this party still holds it."""
        from redis.exceptions import LockError

        try:
            self._held = bool(self._lock.reacquire())
        except LockError:  # released, or expired and maybe taken by another party
            self._held = False
        return self._held

    def step(self) -> bool:
        """Renew if held, else try to take it. A Redis error counts as not holding it."""
        import redis

        try:
            if self._held and self.renew():
                return True
            return self.try_acquire()
        except redis.RedisError:
            self._held = False
            raise

    def acquire(self, wait: timedelta) -> bool:
        """Wait up to ``wait`` for the lease, trying every :data:`POLL`; True once held."""
        self._held = bool(self._lock.acquire(blocking=True, blocking_timeout=wait.total_seconds(),
                                             token=self.identity))
        return self._held

    def holder(self) -> str | None:
        """The identity of the current holder, or None."""
        value = self.client.get(self.key)
        return value.decode() if isinstance(value, bytes) else value

    def wait_hint(self) -> timedelta:
        """Until the current holder's lease runs out (at most one lease; zero if Redis cannot say)."""
        import redis

        try:
            ms = self.client.pttl(self.key)
        except redis.RedisError:
            return timedelta(0)
        if ms is None or ms < 0:
            return timedelta(0)
        return min(timedelta(milliseconds=ms), self.lease)

    def release(self) -> bool:
        """Delete the key if this party holds it; False when the lease had run out meanwhile.

        A Redis error is swallowed (the key expires by itself) and counts as released.
        """
        import redis
        from redis.exceptions import LockError

        released = True
        try:
            self._lock.release()
        except LockError:
            released = False
        except redis.RedisError:
            pass
        self._held = False
        return released


class ProcessLease:
    """The embedded-mode stand-in for a :class:`RedisLease`: a lock shared by the threads of this
    process under the same key. It never runs out; ``lease`` is kept for the interface."""

    _locks: ClassVar[dict[str, threading.Lock]] = {}
    _guard: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, key: str, *, lease: timedelta = DEFAULT_LEASE) -> None:
        self.key = key
        self.lease = lease
        self.identity = holder_identity()
        self._held = False
        with self._guard:
            self._lock = self._locks.setdefault(key, threading.Lock())

    @property
    def held(self) -> bool:
        """Whether this object holds the lock."""
        return self._held

    def step(self) -> bool:
        """Keep the lock if held, else take it if it is free."""
        if not self._held:
            self._held = self._lock.acquire(blocking=False)
        return self._held

    def acquire(self, wait: timedelta) -> bool:
        """Wait up to ``wait``; True once held."""
        if not self._held:
            self._held = self._lock.acquire(timeout=max(0.0, wait.total_seconds()))
        return self._held

    def wait_hint(self) -> timedelta:
        """A holder in this process gives no expiry: try again after one poll."""
        return POLL

    def release(self) -> bool:
        """Release the lock if held (always in time: it does not expire)."""
        if self._held:
            self._held = False
            self._lock.release()
        return True


def lease_for(client: Any | None, key: str, *, lease: timedelta) -> RedisLease | ProcessLease:
    """A :class:`RedisLease` on ``key`` with a Redis client, else (embedded mode) a :class:`ProcessLease`."""
    if client is not None:
        return RedisLease(client, key, lease=lease)
    return ProcessLease(key, lease=lease)
