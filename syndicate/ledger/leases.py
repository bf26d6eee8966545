"""Leases kept in the ledger: the dispatcher's leadership and short locks when there is no Redis.

With a RabbitMQ broker and no Redis, :class:`LedgerLease` gives the same guarantees as
:class:`~syndicate.base.leases.RedisLease`, on one row of ``leases`` per key:

* **take**: one conditional ``UPDATE`` (the row's lease ran out, or it is ours already), else an
  ``INSERT`` that the primary key lets only one party win;
* **renew**: ``UPDATE ... WHERE holder = me AND expires_ms > now``: a holder whose lease ran out
  (and may have been taken over) learns it and stops;
* **release**: ``DELETE ... WHERE holder = me``, so a clean shutdown hands over at once.

Expiry is measured on the **database server's clock** (``clock_timestamp()`` on PostgreSQL,
``julianday('now')`` on SQLite), never on the hosts' clocks, so hosts whose clocks drift apart
still agree on when a lease ran out, as they do with Redis's ``PX``.

A lease row rather than a PostgreSQL advisory lock (``pg_try_advisory_lock``): an advisory lock
belongs to a session, so it needs a connection held open for as long as the lease (outside the
pool), it is dropped without notice when that connection breaks (a server restart, a failover,
an idle timeout on the way), it never expires while a paused holder's connection stays open, and
it does not survive a transaction-pooling proxy (PgBouncer). A row has an expiry, is renewed and
checked by ordinary pooled statements, names its holder, survives a restart of the server, and
works on SQLite as well.

A lease is not a fence: a holder paused past its lease may still act once before it notices
(what is done under one is safe to do twice: see :mod:`syndicate.base.leases`).
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

from sqlalchemy import BigInteger, and_, cast, delete, func, insert, literal_column, select, update
from sqlalchemy.exc import IntegrityError

from ..base.leases import DEFAULT_LEASE, POLL, holder_identity
from .database import LedgerError
from .schema import leases

__all__ = ["LedgerLease"]


def _server_now_ms(dialect: str) -> Any:
    """The database server's clock, in ms since the epoch, as a SQL expression."""
    if dialect == "postgresql":
        return cast(func.extract("epoch", func.clock_timestamp()) * 1000, BigInteger)
    return cast((func.julianday("now") - literal_column("2440587.5")) * 86400000, BigInteger)


class LedgerLease:
    """A lease on one row of the ledger's ``leases`` table (see the module docstring).

    Args:
        ledger: the ledger (a :class:`~syndicate.ledger.Ledger`).
        key: the lease's name (namespaced by the caller).
        lease: how long the lease lasts without renewal.
        identity: the holder written in the row (default :func:`holder_identity`).
    """

    def __init__(self, ledger: Any, key: str, *, lease: timedelta = DEFAULT_LEASE, identity: str | None = None
                 ) -> None:
        if lease < timedelta(milliseconds=100):
            raise ValueError("a lease must last at least 100 ms")
        self.ledger = ledger
        self.key = key
        self.lease = lease
        self.identity = identity or holder_identity()
        self._held = False
        self._now = _server_now_ms(ledger.dialect)
        self._ms = max(1, int(lease.total_seconds() * 1000))

    @property
    def held(self) -> bool:
        """Whether the lease was held at the last :meth:`step` or :meth:`acquire`."""
        return self._held

    def _mine(self) -> Any:
        return and_(leases.c.key == self.key, leases.c.holder == self.identity)

    def try_acquire(self) -> bool:
        """Take the lease if nobody holds it (or it ran out); True when held now."""
        with self.ledger.begin() as conn:
            taken = conn.execute(update(leases).where(and_(
                leases.c.key == self.key,
                (leases.c.expires_ms <= self._now) | (leases.c.holder == self.identity)))
                .values(holder=self.identity, expires_ms=self._now + self._ms)).rowcount == 1
            if not taken:
                try:
                    with conn.begin_nested():
                        conn.execute(insert(leases).values(key=self.key, holder=self.identity,
                                                           expires_ms=self._now + self._ms))
                    taken = True
                except IntegrityError:  # someone else's row, not run out
                    taken = False
        self._held = bool(taken)
        return self._held

    def renew(self) -> bool:
        """Extend the lease to its full length if this party still holds it (and it has not run out)."""
        with self.ledger.begin() as conn:
            self._held = conn.execute(update(leases).where(and_(self._mine(), leases.c.expires_ms > self._now))
                                      .values(expires_ms=self._now + self._ms)).rowcount == 1
        return self._held

    def step(self) -> bool:
        """Renew if held, else try to take it. A ledger error counts as not holding it (and is raised)."""
        try:
            if self._held and self.renew():
                return True
            return self.try_acquire()
        except LedgerError:
            self._held = False
            raise

    def acquire(self, wait: timedelta) -> bool:
        """Wait up to ``wait`` for the lease, trying every :data:`~syndicate.base.leases.POLL`; True once held."""
        deadline = time.monotonic() + max(0.0, wait.total_seconds())
        while not self.try_acquire():
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            time.sleep(min(POLL.total_seconds(), left))
        return True

    def holder(self) -> str | None:
        """The identity of the current holder (None when free or run out)."""
        with self.ledger.begin() as conn:
            holder = conn.execute(select(leases.c.holder).where(and_(
                leases.c.key == self.key, leases.c.expires_ms > self._now))).scalar_one_or_none()
        return str(holder) if holder is not None else None

    def wait_hint(self) -> timedelta:
        """Until the current holder's lease runs out (at most one lease; zero if the ledger cannot say)."""
        try:
            with self.ledger.begin() as conn:
                ms = conn.execute(select(leases.c.expires_ms - self._now).where(and_(
                    leases.c.key == self.key, leases.c.expires_ms > self._now))).scalar_one_or_none()
        except LedgerError:  # a hint: the next step reports the failure
            return timedelta(0)
        if ms is None or ms <= 0:
            return timedelta(0)
        return min(timedelta(milliseconds=int(ms)), self.lease)

    def release(self) -> bool:
        """Delete the row if this party holds it; False when the lease had run out meanwhile.

        A ledger error is swallowed (the row runs out by itself) and counts as released.
        """
        released = True
        try:
            with self.ledger.begin() as conn:
                in_time = conn.execute(delete(leases).where(and_(self._mine(), leases.c.expires_ms > self._now))
                                       ).rowcount == 1
                if not in_time:
                    released = False
                    conn.execute(delete(leases).where(self._mine()))  # ran out, not taken over: tidy up
        except LedgerError:  # the row runs out by itself
            pass
        self._held = False
        return released
