"""The dispatcher: turns ledger rows that have come due into queue messages.

Scheduled publications are ledger rows, not messages parked in Dramatiq's delay queue (delayed
messages vanish when Redis restarts and cannot be cancelled). Each tick:

1. requests localizations that were never requested or whose request went stale;
2. moves due, ready publications to ``enqueued`` and sends ``publish`` (a few seconds ahead, with
   a short Dramatiq delay, so they start on time);
3. re-sends ``publish`` for rows stuck in ``enqueued`` (the message was lost);
4. moves ``calling`` rows whose lease expired (a worker died mid-call) to ``in_doubt`` and sends
   ``reconcile``, and re-sends ``reconcile`` for ``in_doubt`` rows left waiting.

Running several dispatchers is safe (PostgreSQL: ``FOR UPDATE SKIP LOCKED``; SQLite: one writer).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from .logging import get_logger

if TYPE_CHECKING:
    from .runtime import Runtime

__all__ = ["Dispatcher", "TickReport"]

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


class Dispatcher:
    """Enqueue due work from the ledger; see the module docstring."""

    def __init__(self, rt: Runtime, *, name: str = "dispatcher") -> None:
        self.rt = rt
        self.name = name
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def tick(self) -> TickReport:
        """Do one round of dispatching."""
        rt = self.rt
        led = rt.ledger
        t = rt.timing
        locs = led.localizations_to_request(stale_after=t.localize_stale_after, limit=BATCH)
        for item_id, revision, locale in locs:
            rt.actors.localize.send(item_id, revision, locale)
        now = led.now()
        due = led.take_due(horizon=t.dispatch_horizon, limit=BATCH, actor=self.name)
        for pub in due:
            delay_ms = max(0, int((pub.scheduled_for - now).total_seconds() * 1000))
            rt.actors.publish.send_with_options(args=(pub.id,), delay=delay_ms or None)
        stale = led.stale_enqueued(older_than=t.enqueued_stale_after, limit=BATCH, actor=self.name)
        for pub in stale:
            rt.actors.publish.send(pub.id)
        expired = led.expired_claims(limit=BATCH, actor=self.name)
        waiting = led.stale_in_doubt(older_than=t.enqueued_stale_after, limit=BATCH)
        for pub in [*expired, *waiting]:
            rt.actors.reconcile.send(pub.id)
        report = TickReport(len(locs), len(due), len(stale), len(expired) + len(waiting))
        if report.total:
            log.info("dispatcher.tick", localizations=report.localizations, enqueued=report.enqueued,
                     re_enqueued=report.re_enqueued, expired_claims=report.expired)
        return report

    def run(self, interval: timedelta | None = None) -> None:
        """Tick every ``interval`` until :meth:`stop`; a failing tick is logged and retried."""
        every = (interval or self.rt.timing.dispatch_interval).total_seconds()
        while not self._stop.is_set():
            try:
                report = self.tick()
            except Exception:
                log.exception("dispatcher.tick_failed")
                report = TickReport()
            if report.enqueued < BATCH:
                self._stop.wait(every)

    def start(self, interval: timedelta | None = None) -> None:
        """Run in a daemon thread."""
        self._thread = threading.Thread(target=self.run, args=(interval,), name=self.name, daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the loop and wait for the thread."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
