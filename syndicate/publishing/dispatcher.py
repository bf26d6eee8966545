"""The dispatcher: turns ledger rows that have come due into queue messages.

Scheduled publications are ledger rows, not messages parked in Dramatiq's delay queue (delayed
messages vanish when Redis restarts and cannot be cancelled). Each tick:

1. requests localizations that were never requested or whose request went stale;
2. moves due, ready publications to ``enqueued`` and sends ``publish`` (a few seconds ahead, with
   a short Dramatiq delay, so they start on time);
3. re-sends ``publish`` for rows stuck in ``enqueued`` (the message was lost);
4. moves ``calling`` rows whose lease expired (a worker died mid-call) to ``in_doubt`` and sends
   ``reconcile``, and re-sends ``reconcile`` for ``in_doubt`` rows left waiting.

Only the leader ticks: with a broker, dispatchers in every worker and ``syndicate scheduler`` process
compete for a lease on ``<namespace>:dispatcher:leader`` (in Redis, :mod:`syndicate.base.leases`, or
in the ledger when RabbitMQ runs without Redis, :mod:`syndicate.ledger.leases`); the holder
renews it before each tick, the others stand by and take over within one lease when the leader
stops renewing. In embedded mode the dispatcher is a thread of the one process and always leads.
Leadership keeps the work in one place; correctness does not depend on it: several dispatchers
ticking at once still enqueue each row once (PostgreSQL: ``FOR UPDATE SKIP LOCKED``; SQLite: one
writer; and every transition is a conditional update).
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from ..base.enqueue import enqueue_many
from ..base.leases import DEFAULT_LEASE, Lease, LocalLease
from ..base.logging import get_logger
from .unpublish import resend_operations

if TYPE_CHECKING:
    from ..services import Services

__all__ = ["Dispatcher", "TickReport", "leader_key"]

log = get_logger("syndicate.dispatcher")

#: Rows handled per step of one tick; a backlog is worked off over several ticks.
BATCH = 500


@dataclass(frozen=True)
class TickReport:
    """What one tick did."""

    localizations: int = 0
    enqueued: int = 0
    re_enqueued: int = 0
    expired: int = 0

    @property
    def total(self) -> int:
        """Everything sent in the tick."""
        return self.localizations + self.enqueued + self.re_enqueued + self.expired


def leader_key(namespace: str) -> str:
    """The key of the dispatcher's leader lease (in Redis, or the ledger's ``leases`` table)."""
    return f"{namespace}:dispatcher:leader"


class Dispatcher:
    """Enqueue due work from the ledger; see the module docstring.

    Args:
        rt: the runtime.
        name: who the dispatcher is in the ledger's events (default ``dispatcher:<host:pid:id>``).
        lease: the leadership to hold while ticking (default: the runtime's shared lease with a
            broker, in Redis or the ledger, else always held).
        lease_length: length of the default lease (default 10 s, or three dispatch intervals
            if longer); a standby takes over within this long.
    """

    def __init__(self, rt: Services, *, name: str | None = None, lease: Lease | None = None,
                 lease_length: timedelta | None = None) -> None:
        self.rt = rt
        if lease_length is None:  # long enough for any configured interval
            lease_length = max(DEFAULT_LEASE, 3 * rt.timing.dispatch_interval)
        if lease is None:
            lease = (LocalLease(lease_length) if rt.embedded
                     else rt.lease(leader_key(rt.namespace), length=lease_length))
        self.lease: Lease = lease
        self.name = name or f"dispatcher:{getattr(lease, 'identity', 'local')}"
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._leading = False

    @property
    def leading(self) -> bool:
        """Whether this dispatcher held the leadership at its last check."""
        return self._leading

    def tick(self) -> TickReport:
        """Do one round of dispatching."""
        rt = self.rt
        led = rt.ledger
        t = rt.timing
        # Each batch of messages goes to the broker in one round trip (enqueue_many).
        locs = led.localizations_to_request(stale_after=t.localize_stale_after, limit=BATCH)
        localize = rt.actors.localize
        enqueue_many(rt.broker, [(localize.message(*key), None) for key in locs])
        now = led.now()
        due = led.take_due_times(horizon=t.dispatch_horizon, limit=BATCH, actor=self.name)
        publish = rt.actors.publish
        # rounded up: a message must never arrive before its row is due
        enqueue_many(rt.broker, [(publish.message(pub_id),
                                  max(0, math.ceil((scheduled_for - now).total_seconds() * 1000)) or None)
                                 for pub_id, scheduled_for in due])
        # One probe says which sweeps have work (None: no probe here, run them all).
        sweeps = led.sweeps_due(older_than=t.resend_after) or (True, True, True, True)
        stale = led.stale_enqueued(older_than=t.resend_after, limit=BATCH, actor=self.name) if sweeps[0] else []
        enqueue_many(rt.broker, [(publish.message(pub.id), None) for pub in stale])
        expired = led.expired_claims(limit=BATCH, actor=self.name) if sweeps[1] else []
        waiting = led.stale_in_doubt(older_than=t.resend_after, limit=BATCH) if sweeps[2] else []
        enqueue_many(rt.broker, [(rt.actors.reconcile.message(pub.id), None) for pub in [*expired, *waiting]])
        if sweeps[3]:
            resend_operations(rt, actor=self.name, limit=BATCH)
        report = TickReport(len(locs), len(due), len(stale), len(expired) + len(waiting))
        if report.total:
            log.info("dispatcher.tick", localizations=report.localizations, enqueued=report.enqueued,
                     re_enqueued=report.re_enqueued, expired_claims=report.expired)
        return report

    def _lead(self) -> bool:
        """Renew or take the leadership; log and record each change."""
        try:
            leading = self.lease.step()
        except Exception:
            log.exception("dispatcher.lease_failed", dispatcher=self.name)
            leading = False
        if leading != self._leading:
            self._leading = leading
            kind = "dispatcher.leader" if leading else "dispatcher.standby"
            log.info(kind, dispatcher=self.name, lease_s=self.lease.lease.total_seconds())
            try:
                self.rt.ledger.record_event(kind, actor=self.name,
                                            detail={"lease_s": self.lease.lease.total_seconds()})
            except Exception:
                log.exception("dispatcher.event_failed", dispatcher=self.name)
        return leading

    def _check(self, interval: timedelta | None) -> float:
        every = (interval or self.rt.timing.dispatch_interval).total_seconds()
        if self.lease.lease.total_seconds() < 2 * every:
            raise ValueError("the leader lease must last at least two dispatch intervals")
        return every

    def run(self, interval: timedelta | None = None) -> None:
        """Lead and tick every ``interval`` until :meth:`stop`, or stand by while another leads.

        A failing tick is logged and retried. The lease is renewed before every tick, so it must
        last longer than the slowest tick (the default lease is many intervals long).
        """
        every = self._check(interval)
        log.info("dispatcher.started", dispatcher=self.name, interval_s=every,
                 lease_s=self.lease.lease.total_seconds())
        try:
            while not self._stop.is_set():
                if not self._lead():
                    # Stand by; wake when the holder's lease would run out, so a dead leader is
                    # replaced within one lease.
                    hint = self.lease.wait_hint().total_seconds()
                    self._stop.wait(min(every, max(hint, 0.01)))
                    continue
                try:
                    report = self.tick()
                except Exception:
                    log.exception("dispatcher.tick_failed")
                    report = TickReport()
                if report.enqueued < BATCH:
                    self._stop.wait(every)
        finally:
            if self._leading:
                self.lease.release()  # hand over at once on a clean stop
                self._leading = False
                log.info("dispatcher.released", dispatcher=self.name)

    def start(self, interval: timedelta | None = None) -> None:
        """Run in a daemon thread.

        Raises:
            ValueError: the lease is shorter than two intervals.
        """
        self._check(interval)
        self._thread = threading.Thread(target=self.run, args=(interval,), name=self.name, daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the loop and wait for the thread."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
