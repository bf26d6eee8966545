"""Running workers: Dramatiq worker threads plus the dispatcher, in this process or in several.

A worker process has two pools of threads: ``threads`` for the queues that call platforms
(publish, unpublish, reconcile) and ``prepare_threads`` for intake and localization, so a slow
translation engine or a burst of new items never holds up a post that is due (docs/operations.md).

``syndicate worker --processes N --threads M --prepare-threads K`` runs N processes of M + K
threads each; the parent supervises them (restarts a child that dies, forwards SIGTERM/SIGINT, and
SIGHUP, on which each process reloads its configuration: :mod:`syndicate.config.reload`).
Shutdown order: stop taking messages, let running actors finish within the shutdown timeout
(which exceeds the publish time limit, which exceeds the HTTP timeouts), then close the ledger
and broker.
"""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from types import FrameType
from typing import Any

from dramatiq import Worker

from ..base.addresses import loopback_allowed
from ..base.logging import get_logger
from ..ledger import Publication
from ..model.config import Config
from ..model.states import TERMINAL_STATES, PublicationState
from ..operations.holds import held_note
from ..publishing.dispatcher import Dispatcher
from ..services import Services
from .actors import PREPARE_QUEUES, PUBLISH_QUEUES

__all__ = ["WorkerHost", "run_until_settled", "supervise"]

log = get_logger("syndicate.worker")

#: How long Dramatiq's worker and consumer threads block waiting for a message, in milliseconds:
#: also how long stopping them can take (workers, then consumers). A long-running worker polls
#: every 100 ms; an embedded run (``syndicate run``, tests) stops about 150 ms sooner at 20 ms,
#: for a wake-up per thread every 20 ms while it lasts.
POLL_MS = 100
EMBEDDED_POLL_MS = 20
#: The longest dispatcher interval of an embedded run. Each step of an item (localization
#: requested, publications released) waits for the next tick, so a short run is a few ticks long;
#: an idle tick is three small statements.
EMBEDDED_DISPATCH_INTERVAL = timedelta(milliseconds=50)


class _PoolMiddlewareNotice(logging.Filter):
    """Drops the warning Dramatiq logs when a second ``Worker`` on a broker adds its own
    ``_WorkerMiddleware`` (which adds that worker's consumers): each pool is a ``Worker`` of its own,
    so the second one is expected, not a mistake."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args if isinstance(record.args, tuple) else ()
        return not (str(record.msg).startswith("You're adding a middleware of the same type twice")
                    and bool(args) and type(args[0]).__name__ == "_WorkerMiddleware")


_POOL_NOTICE = _PoolMiddlewareNotice()


@dataclass
class WorkerHost:
    """Worker threads and (optionally) the dispatcher, running in this process: ``threads`` for the
    platform queues (:data:`~syndicate.worker.actors.PUBLISH_QUEUES`), ``prepare_threads`` (default:
    the config's ``worker.prepare_threads``) for intake and localization
    (:data:`~syndicate.worker.actors.PREPARE_QUEUES`)."""

    rt: Services
    threads: int = 8
    dispatcher: bool = True
    prepare_threads: int | None = None
    _workers: list[Worker] = field(default_factory=list, init=False)
    _dispatcher: Dispatcher | None = field(default=None, init=False)
    _loops: list[Any] = field(default_factory=list, init=False)

    def start(self) -> None:
        """Start consuming and dispatching."""
        poll = EMBEDDED_POLL_MS if self.rt.embedded else POLL_MS
        prepare = self.prepare_threads or self.rt.config.worker.prepare_threads
        self.rt.broker.logger.addFilter(_POOL_NOTICE)  # the same filter once per logger
        self._workers = [Worker(self.rt.broker, queues=set(queues), worker_threads=n, worker_timeout=poll)
                         for queues, n in ((PUBLISH_QUEUES, self.threads), (PREPARE_QUEUES, prepare))]
        for worker in self._workers:
            worker.start()
        if self.dispatcher:
            self._dispatcher = Dispatcher(self.rt)
            interval = self.rt.timing.dispatch_interval
            if self.rt.embedded:
                interval = min(interval, EMBEDDED_DISPATCH_INTERVAL)
            self._dispatcher.start(interval)
        # Producer webhooks and engagement snapshots: each loop is safe to run in every worker.
        self._start_loops()
        log.info("worker.started", threads=self.threads, prepare_threads=prepare, dispatcher=self.dispatcher,
                 broker=self.rt.broker_kind, ledger=self.rt.ledger.dialect)
        loopback_allowed()  # warns at start when a test opened loopback to media fetches

    def _start_loops(self) -> None:
        from ..operations.engagement import EngagementJob
        from ..operations.notify import Notifier

        self._loops = [loop.start() for loop in (Notifier.for_runtime(self.rt), EngagementJob.for_runtime(self.rt))
                       if loop is not None]

    def config_reloaded(self, _new: Config) -> None:
        """After a reload: restart the webhook sender and the engagement collector, which copied
        their settings (endpoints, secrets, intervals) when they started."""
        for loop in self._loops:
            loop.stop()
        self._start_loops()

    def stop(self) -> None:
        """Stop dispatching, then let running messages finish (up to the shutdown timeout)."""
        if self._dispatcher is not None:
            self._dispatcher.stop()
        for loop in self._loops:
            loop.stop()
        # Both pools finish their running messages at the same time, within one shutdown timeout.
        timeout = int(self.rt.timing.shutdown_timeout.total_seconds() * 1000)
        stopping = [threading.Thread(target=w.stop, kwargs={"timeout": timeout}, name="syndicate-stop")
                    for w in self._workers]
        for t in stopping:
            t.start()
        for t in stopping:
            t.join()
        self._workers = []
        log.info("worker.stopped")


def serve_forever(rt: Services, *, threads: int, dispatcher: bool, prepare_threads: int | None = None) -> int:
    """Run a :class:`WorkerHost` until SIGTERM or SIGINT, reloading the config on SIGHUP; returns
    the exit code. The caller closes ``rt`` (``with Runtime.create(...) as rt:``)."""
    from ..config.reload import ConfigReloader

    host = WorkerHost(rt, threads=threads, dispatcher=dispatcher, prepare_threads=prepare_threads)
    stop = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        log.info("worker.signal", signal=signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    ConfigReloader(rt, check_secrets=True, on_reload=[host.config_reloaded]).install()
    host.start()
    try:
        while not stop.wait(1.0):
            pass
    finally:
        host.stop()
    return 0


def supervise(processes: int, child_argv: Sequence[str], *, on_child_exit: Callable[[int], None] | None = None
              ) -> int:
    """Run ``processes`` children of ``child_argv``; restart any that dies; stop all on a signal.

    ``on_child_exit(pid)`` is called for every child that exits (multi-process metrics clean-up).
    """
    children: dict[int, subprocess.Popen[bytes]] = {}
    stopping = threading.Event()

    def spawn(slot: int) -> None:
        children[slot] = subprocess.Popen([sys.executable, "-m", "syndicate", *child_argv])

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        stopping.set()
        for p in children.values():
            if p.poll() is None:
                p.send_signal(signum)

    def forward(signum: int, _frame: FrameType | None) -> None:  # SIGHUP: each child reloads its config
        for p in children.values():
            if p.poll() is None:
                p.send_signal(signum)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGHUP, forward)
    for slot in range(processes):
        spawn(slot)
    restarts: dict[int, float] = {}
    while not stopping.is_set():
        time.sleep(0.5)
        for slot, p in list(children.items()):
            code = p.poll()
            if code is not None and not stopping.is_set():
                log.error("worker.child_died", slot=slot, pid=p.pid, exit_code=code)
                if on_child_exit is not None:
                    on_child_exit(p.pid)
                if time.monotonic() - restarts.get(slot, 0.0) < 5:
                    time.sleep(5)  # a crash loop must not spin
                restarts[slot] = time.monotonic()
                spawn(slot)
    code = 0
    for p in children.values():
        code = max(code, abs(p.wait()))
        if on_child_exit is not None:
            on_child_exit(p.pid)
    return code


def _settled(rt: Services, pub: Publication, held: Mapping[str, tuple[str, str | None]]) -> bool:
    state = PublicationState(pub.state)
    if state in TERMINAL_STATES or state is PublicationState.AWAITING_REVIEW:
        return True
    if held_note(pub, held) is not None:
        return True  # its account is held: waits for 'syndicate accounts reset'
    if state is PublicationState.SCHEDULED and not pub.ready:
        loc = rt.ledger.localization(pub.item_id, pub.revision, pub.locale)
        return loc is not None and loc["state"] == "failed"  # held: needs a human
    return False


def run_until_settled(
    rt: Services,
    publications: Callable[[], list[Publication]],
    *,
    threads: int = 8,
    timeout: timedelta = timedelta(minutes=10),
    on_progress: Callable[[int, int], None] | None = None,
) -> list[Publication]:
    """Embedded mode: run worker threads and the dispatcher until every due publication is terminal
    (or waits for a human: review, a held account, a failed localization). Retries not yet due
    count as settled; ``syndicate run`` waits for them (:func:`syndicate.worker.embedded.run_embedded`).

    Args:
        rt: an embedded runtime.
        publications: returns the publications to wait for (re-read from the ledger each time).
        threads: publishing threads (intake and localization get the config's ``worker.prepare_threads``).
        timeout: give up after this long and return what is there.
        on_progress: called with (settled, total) whenever the count changes.

    Returns:
        The publications as they were when the run ended.
    """
    host = WorkerHost(rt, threads=threads, dispatcher=True)
    host.start()
    deadline = time.monotonic() + timeout.total_seconds()
    last = -1
    try:
        while True:
            # Held accounts first: a worker fails a publication before it holds its account, so
            # rows read after an account shows as held already show their own outcome.
            held = rt.ledger.held_accounts()
            pubs = publications()
            now = rt.ledger.now()
            due = [p for p in pubs if p.scheduled_for <= now or PublicationState(p.state) not in
                   (PublicationState.SCHEDULED, PublicationState.RETRYING, PublicationState.AWAITING_REVIEW)]
            settled = sum(1 for p in due if _settled(rt, p, held))
            if on_progress and settled != last:
                on_progress(settled, len(due))
                last = settled
            if settled == len(due) or time.monotonic() > deadline:
                return pubs
            time.sleep(0.05)
    finally:
        host.stop()
