"""Leases: one holder at a time, for the dispatcher's leadership and short critical sections.

A :class:`RedisLease` is a Redis key set with ``SET key token NX PX lease``: whoever set it holds
the lease until it expires, unless the holder renews it (``PEXPIRE`` only while the key still
holds the holder's token, checked and done atomically in a Lua script) or releases it (``DEL``
under the same check). A holder that dies stops renewing, so the key expires and a standby takes
over within one lease. A :class:`LocalLease` is always held: in embedded mode the dispatcher is a
thread of the one process.

A lease is not a fence: a holder paused past its lease may still act once before it notices.
What the dispatcher does under the lease is safe to do twice anyway (conditional ledger updates,
``FOR UPDATE SKIP LOCKED``); the lease only keeps the work in one place.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
import uuid
from datetime import timedelta
from typing import Any, ClassVar, Protocol

__all__ = ["DEFAULT_LEASE", "Lease", "LocalLease", "RedisLease", "holder_identity"]

#: Default length of the dispatcher's leader lease; a standby takes over within this long.
DEFAULT_LEASE = timedelta(seconds=10)

_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""

_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


def holder_identity() -> str:
    """``host:pid:random``: unique to this process and this lease object."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Lease(Protocol):
    """Something held by one party at a time."""

    lease: timedelta

    @property
    def held(self) -> bool:
        """Whether this party held the lease at its last :meth:`step`."""
        ...

    def step(self) -> bool:
        """Renew the lease if held, else try to take it; return whether it is held now."""
        ...

    def wait_hint(self) -> timedelta:
        """How long a standby may wait before its next :meth:`step` without missing a free lease."""
        ...

    def release(self) -> None:
        """Give the lease up at once (a clean shutdown hands over without waiting for expiry)."""
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

    def wait_hint(self) -> timedelta:
        """Nothing to wait for."""
        return timedelta(0)

    def release(self) -> None:
        """Nothing to release."""


class RedisLease:
    """A lease on one Redis key.

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
        self._renew = client.register_script(_RENEW)
        self._release = client.register_script(_RELEASE)

    @property
    def _lease_ms(self) -> int:
        return int(self.lease.total_seconds() * 1000)

    @property
    def held(self) -> bool:
        """Whether the lease was held at the last :meth:`step`."""
        return self._held

    def try_acquire(self) -> bool:
        """Take the lease if nobody holds it."""
        self._held = bool(self.client.set(self.key, self.identity, nx=True, px=self._lease_ms))
        return self._held

    def renew(self) -> bool:
        """Extend the lease if this party still holds it."""
        self._held = bool(self._renew(keys=[self.key], args=[self.identity, self._lease_ms]))
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
        return timedelta(milliseconds=min(ms, self._lease_ms))

    def release(self) -> None:
        """Delete the key if this party holds it."""
        import redis

        with contextlib.suppress(redis.RedisError):  # else it expires by itself
            self._release(keys=[self.key], args=[self.identity])
        self._held = False

    def acquire(self, timeout: timedelta, *, poll: timedelta = timedelta(milliseconds=50)) -> bool:
        """Wait up to ``timeout`` for the lease (for short critical sections); True once held."""
        deadline = time.monotonic() + timeout.total_seconds()
        while True:
            if self.try_acquire():
                return True
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            time.sleep(min(poll.total_seconds(), left))


class ProcessLock:
    """The embedded stand-in for a short :class:`RedisLease`: a lock shared by this process."""

    _locks: ClassVar[dict[str, threading.Lock]] = {}
    _guard: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, key: str) -> None:
        with self._guard:
            self._lock = self._locks.setdefault(key, threading.Lock())

    def acquire(self, timeout: timedelta) -> bool:
        """Wait up to ``timeout``; True once held."""
        return self._lock.acquire(timeout=timeout.total_seconds())

    def release(self) -> None:
        """Release the lock."""
        self._lock.release()
