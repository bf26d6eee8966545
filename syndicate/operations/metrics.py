"""Prometheus metrics served to ops: the gauges read from the ledger and broker at scrape time.

The counters and histograms every stage records are :mod:`syndicate.base.metrics`. Gauges that
describe the whole system (publications by state and channel, queue depth, the
notification outbox) are computed when Prometheus scrapes, from the ledger and the broker, so
every process reports the same cluster-wide numbers: aggregate them with ``max``, not ``sum``.

Multi-process workers (``syndicate worker --processes N``): Prometheus' client keeps each
process's values in memory-mapped files under ``PROMETHEUS_MULTIPROC_DIR``; the variable must be
set before ``prometheus_client`` is imported, so the supervising parent sets it for its children
and serves their merged values (:func:`prepare_multiprocess_dir`, :func:`serving_registry`).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from prometheus_client import REGISTRY, CollectorRegistry
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead

from ..base.logging import get_logger
from ..base.metrics import guarded

if TYPE_CHECKING:
    from ..ledger import Ledger

__all__ = [
    "MULTIPROC_ENV",
    "BrokerCollector",
    "LedgerCollector",
    "mark_dead",
    "prepare_multiprocess_dir",
    "serving_registry",
]

log = get_logger("syndicate.metrics")

#: The environment variable prometheus_client reads to enable multi-process mode.
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


class LedgerCollector:
    """Publications by state and channel, the notification outbox by state, and short-link clicks by
    channel, read at scrape time."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger

    def describe(self) -> Iterable[Metric]:
        """No fixed description: the families are built at scrape time."""
        return []

    def collect(self) -> Iterable[Metric]:
        """Query the ledger; on failure, report ``syndicate_ledger_up 0`` and nothing else."""
        up = GaugeMetricFamily("syndicate_ledger_up", "1 when the ledger answered the scrape's queries.")
        pubs = GaugeMetricFamily("syndicate_publications", "Publications in the ledger by state and channel.",
                                 labels=["state", "channel"])
        outbox = GaugeMetricFamily("syndicate_notifications", "Lifecycle webhooks in the outbox by state.",
                                   labels=["state"])
        clicks = GaugeMetricFamily("syndicate_link_clicks", "Short-link clicks in the ledger, by channel and kind "
                                   "(human, bot).", labels=["channel", "kind"])
        try:
            for (state, channel), n in self.ledger.count_by_state_and_channel().items():
                pubs.add_metric([state, channel], n)
            for state, n in self.ledger.count_notifications_by_state().items():
                outbox.add_metric([state], n)
            for channel, (human, bot) in self.ledger.click_totals_by_channel().items():
                clicks.add_metric([channel, "human"], human)
                clicks.add_metric([channel, "bot"], bot)
        except Exception as exc:  # noqa: BLE001 - a scrape reports the failure instead of raising
            log.warning("metrics.ledger_unavailable", error=f"{type(exc).__name__}: {exc}")
            up.add_metric([], 0)
            return [up]
        up.add_metric([], 1)
        return [up, pubs, outbox, clicks]


class BrokerCollector:
    """Queue depth by queue and kind, read from the broker at scrape time.

    Kinds: ``ready`` (waiting to be fetched), ``in_flight`` (fetched, not yet acknowledged),
    ``delayed`` (in the delay queue), ``dead`` (dead-lettered). On Redis these are the keys that
    Dramatiq's ``dispatch.lua`` keeps under the namespace (see ``docs/message-format.md``). On
    RabbitMQ (``amqp_url``) they are the message counts of the queue, its ``.DQ`` and its ``.XQ``
    (a passive declare each); AMQP does not tell ``in_flight``, so it is not reported.
    """

    def __init__(self, queues: Iterable[str], *, redis_client: Any = None, namespace: str = "syndicate",
                 broker: Any = None, amqp_url: str | None = None) -> None:
        self.queues = sorted(set(queues))
        self.redis = redis_client
        self.namespace = namespace
        self.broker = broker
        self.amqp_url = amqp_url

    def describe(self) -> Iterable[Metric]:
        """No fixed description: the families are built at scrape time."""
        return []

    def _depths(self) -> Iterator[tuple[str, str, int]]:
        if self.redis is not None:
            pipe = self.redis.pipeline(transaction=True)
            for q in self.queues:
                base = f"{self.namespace}:{q}"
                pipe.llen(base)
                pipe.hlen(f"{base}.msgs")
                pipe.hlen(f"{base}.DQ.msgs")
                pipe.zcard(f"{base}.XQ")
            values = pipe.execute()
            for i, q in enumerate(self.queues):
                ready, stored, delayed, dead = values[i * 4:i * 4 + 4]
                yield q, "ready", int(ready)
                yield q, "in_flight", max(0, int(stored) - int(ready))
                yield q, "delayed", int(delayed)
                yield q, "dead", int(dead)
        elif self.amqp_url is not None:
            yield from self._amqp_depths(self.amqp_url)
        elif self.broker is not None:
            for q in self.queues:
                queue = self.broker.queues.get(q)
                delayed = self.broker.queues.get(f"{q}.DQ")
                yield q, "ready", queue.qsize() if queue is not None else 0
                yield q, "delayed", delayed.qsize() if delayed is not None else 0

    def _amqp_depths(self, url: str) -> list[tuple[str, str, int]]:
        import pika
        import pika.exceptions

        params = pika.URLParameters(url)
        params.socket_timeout = params.stack_timeout = 5
        params.connection_attempts = 1
        out: list[tuple[str, str, int]] = []
        conn = pika.BlockingConnection(params)
        try:
            channel = conn.channel()
            for q in self.queues:
                for kind, name in (("ready", q), ("delayed", f"{q}.DQ"), ("dead", f"{q}.XQ")):
                    try:
                        n = int(channel.queue_declare(queue=name, passive=True).method.message_count)
                    except pika.exceptions.ChannelClosedByBroker:  # not declared yet: no messages
                        n, channel = 0, conn.channel()
                    out.append((q, kind, n))
        finally:
            conn.close()
        return out

    def collect(self) -> Iterable[Metric]:
        """Ask the broker; on failure, report ``syndicate_broker_up 0``."""
        up = GaugeMetricFamily("syndicate_broker_up", "1 when the broker answered the scrape's queries.")
        depth = GaugeMetricFamily("syndicate_queue_messages", "Messages in each queue by kind.",
                                  labels=["queue", "kind"])
        try:
            for q, kind, n in self._depths():
                depth.add_metric([q, kind], n)
        except Exception as exc:  # noqa: BLE001 - a scrape reports the failure instead of raising
            log.warning("metrics.broker_unavailable", error=f"{type(exc).__name__}: {exc}")
            up.add_metric([], 0)
            return [up]
        up.add_metric([], 1)
        return [up, depth]


class _Delegate:
    """Serve another registry's metrics from a new one (the process-wide default, in one process)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry

    def collect(self) -> Iterable[Metric]:
        return self.registry.collect()


def serving_registry(*collectors: Any, multiprocess_dir: str | None = None) -> CollectorRegistry:
    """The registry to serve on ``/metrics``.

    With a multi-process directory (argument, else ``$PROMETHEUS_MULTIPROC_DIR``), the merged
    values of every process that writes there; otherwise this process's own metrics. Either way
    plus ``collectors`` (the scrape-time gauges).
    """
    registry = CollectorRegistry(auto_describe=False)
    path = multiprocess_dir or os.environ.get(MULTIPROC_ENV)
    if path:
        MultiProcessCollector(registry, path=path)  # type: ignore[no-untyped-call]
    else:
        registry.register(_Delegate(REGISTRY))
    for c in collectors:
        registry.register(c)
    return registry


class MultiprocessDir:
    """A directory for multi-process metrics, and whether we created it (and must remove it)."""

    def __init__(self, path: Path, owned: bool) -> None:
        self.path = path
        self.owned = owned
        self._lock = threading.Lock()

    def close(self) -> None:
        """Remove the directory if we created it."""
        with self._lock:
            if self.owned and self.path.exists():
                shutil.rmtree(self.path, ignore_errors=True)
                self.owned = False


def prepare_multiprocess_dir() -> MultiprocessDir:
    """Set up ``$PROMETHEUS_MULTIPROC_DIR`` for worker children, before any child starts.

    An operator's directory is emptied of old ``*.db`` files (values of processes from an
    earlier run would otherwise be served forever); without one, a private temporary directory
    is created, exported for the children, and removed by :meth:`MultiprocessDir.close`.
    """
    given = os.environ.get(MULTIPROC_ENV)
    if given:
        path = Path(given)
        path.mkdir(parents=True, exist_ok=True)
        for f in path.glob("*.db"):
            f.unlink(missing_ok=True)
        return MultiprocessDir(path, owned=False)
    path = Path(tempfile.mkdtemp(prefix="syndicate-metrics-"))
    os.environ[MULTIPROC_ENV] = str(path)
    return MultiprocessDir(path, owned=True)


@guarded
def mark_dead(pid: int, path: str | None = None) -> None:
    """A child process exited: drop its live gauges (its counters stay: they never go back)."""
    mark_process_dead(pid, path)  # type: ignore[no-untyped-call]
