"""Prometheus metrics: what workers count, and the gauges read from the ledger and broker at scrape time.

Counters and histograms are recorded where things happen (the publish call, the actors, the
localization step); a failing metrics call is logged at DEBUG and never fails a publication.
Gauges that describe the whole system (publications by state and channel, queue depth, the
notification outbox) are computed when Prometheus scrapes, from the ledger and the broker, so
every process reports the same cluster-wide numbers: aggregate them with ``max``, not ``sum``.

Multi-process workers (``syndicate worker --processes N``): Prometheus' client keeps each
process's values in memory-mapped files under ``PROMETHEUS_MULTIPROC_DIR``; the variable must be
set before ``prometheus_client`` is imported, so the supervising parent sets it for its children
and serves their merged values (:func:`prepare_multiprocess_dir`, :func:`serving_registry`).

Helpers for localization engines: :func:`observe_mt_call` and :func:`count_mt_error`. Requests
and cache hits per localization are counted once, by the localize step, from the
``Localization`` result (:func:`count_localization`); engines must not count them again.
"""

from __future__ import annotations

import functools
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead

from ..base.logging import get_logger

if TYPE_CHECKING:
    from ..ledger import Ledger, Publication

__all__ = [
    "MULTIPROC_ENV",
    "BrokerCollector",
    "LedgerCollector",
    "count_localization",
    "count_mt_damaged",
    "count_mt_error",
    "count_mt_retry",
    "count_mt_strategy",
    "mark_dead",
    "observe_actor",
    "observe_mt_call",
    "observe_notification",
    "observe_publication",
    "platform_call",
    "prepare_multiprocess_dir",
    "serving_registry",
]

log = get_logger("syndicate.metrics")

#: The environment variable prometheus_client reads to enable multi-process mode.
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

#: Seconds; a platform call rarely takes under 50 ms and our read timeouts stop at 300 s.
CALL_BUCKETS_S = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0)
#: Seconds from a publication's due time to its post: dispatcher lag up to a day of deferrals.
LATENESS_BUCKETS_S = (1.0, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0, 14400.0, 86400.0)
#: Seconds an actor spends on one message.
ACTOR_BUCKETS_S = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)

PUBLISH_OUTCOMES = frozenset({"published", "failed", "retrying", "deferred", "in_doubt", "unconfirmed",
                              "not-claimable", "not-in-doubt"})
_CALL_RESULTS = frozenset({"RateLimited", "TransientError", "PermanentError", "EndpointGone", "AuthError",
                           "InDoubt", "ContentError"})

PUBLISH_RESULTS = Counter(
    "syndicate_publish_outcomes", "What each publish or reconcile message ended with, by channel.",
    ["channel", "outcome"])
PUBLISH_CALL_SECONDS = Histogram(
    "syndicate_publish_call_seconds", "Duration of the adapter's publish call (the platform request).",
    ["channel", "result"], buckets=CALL_BUCKETS_S)
RETRIES = Counter("syndicate_publish_retries", "Publications put back to retrying after a failed call.",
                  ["channel"])
DEFERRALS = Counter("syndicate_rate_limit_deferrals", "Publications rescheduled because of a rate limit.",
                    ["channel"])
LATENESS_SECONDS = Histogram(
    "syndicate_schedule_lateness_seconds",
    "published_at minus scheduled_for: how late a due publication went out (dispatch and queue lag).",
    ["channel"], buckets=LATENESS_BUCKETS_S)
DELAY_SECONDS = Histogram(
    "syndicate_schedule_delay_seconds",
    "published_at minus the time first planned: lag including retries and rate-limit deferrals.",
    ["channel"], buckets=LATENESS_BUCKETS_S)
LOCALIZATIONS = Counter("syndicate_localizations", "Localization attempts by engine and outcome.",
                        ["engine", "outcome"])
MT_REQUESTS = Counter("syndicate_mt_requests", "Requests sent to machine translation engines.", ["engine"])
MT_CACHE_HITS = Counter("syndicate_mt_cache_hits", "Fields served from the translation cache.", ["engine"])
MT_CALL_SECONDS = Histogram("syndicate_mt_call_seconds", "Duration of one machine translation request.",
                            ["engine"], buckets=CALL_BUCKETS_S)
MT_ERRORS = Counter("syndicate_mt_errors", "Machine translation requests that failed, by error class.",
                    ["engine", "error"])
MT_RETRIES = Counter("syndicate_mt_retries", "Translation requests sent again within the localize step, by the "
                     "error that made them fail.", ["engine", "error"])
MT_DAMAGED = Counter("syndicate_mt_damaged_answers", "Fields whose translation was refused because protected "
                     "spans did not come back, by the strategy that was tried.", ["engine", "strategy"])
MT_STRATEGIES = Counter("syndicate_mt_strategy_fields", "Machine-translated fields by the strategy that produced "
                        "them (placeholders or split).", ["engine", "strategy"])
ACTOR_MESSAGES = Counter("syndicate_actor_messages", "Messages processed by actor and result.",
                         ["actor", "result"])
ACTOR_SECONDS = Histogram("syndicate_actor_seconds", "Time an actor spent on one message.", ["actor"],
                          buckets=ACTOR_BUCKETS_S)
NOTIFICATIONS = Counter("syndicate_notification_attempts", "Lifecycle webhook delivery attempts by result.",
                        ["endpoint", "result"])
ENGAGEMENT_SNAPSHOTS = Counter("syndicate_engagement_snapshots", "Engagement snapshots stored, by channel.",
                               ["channel"])

P = ParamSpec("P")
R = TypeVar("R")


def _guarded(fn: Callable[P, R]) -> Callable[P, R | None]:
    """Run ``fn``; an exception is logged at DEBUG and swallowed: metrics never fail the work."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R | None:
        try:
            return fn(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - an observer must not fail a publication
            log.debug("metrics.failed", metric=fn.__name__, error=f"{type(exc).__name__}: {exc}")
            return None

    return wrapper


def _label(value: str | None) -> str:
    return (value or "unknown")[:64]


@contextmanager
def platform_call(channel: str) -> Iterator[None]:
    """Time the block (an adapter's ``publish``) into ``syndicate_publish_call_seconds``.

    The block's exception propagates unchanged; its class names the ``result`` label. The
    duration is also bound to the log context as ``duration_ms`` so that the publication's
    outcome event carries it.
    """
    started = time.monotonic()
    result = "ok"
    try:
        yield
    except BaseException as exc:
        name = type(exc).__name__
        result = name if name in _CALL_RESULTS else "other"
        raise
    finally:
        _record_call(channel, result, time.monotonic() - started)


@_guarded
def _record_call(channel: str, result: str, seconds: float) -> None:
    PUBLISH_CALL_SECONDS.labels(_label(channel), result).observe(seconds)
    import structlog

    if structlog.contextvars.get_contextvars().get("message_id") is not None:
        structlog.contextvars.bind_contextvars(duration_ms=round(seconds * 1000, 1))


@_guarded
def observe_publication(outcome: str, pub: Publication | None) -> None:
    """Count what a publish or reconcile message did to ``pub`` (re-read after the step)."""
    channel = _label(pub.channel if pub is not None else None)
    PUBLISH_RESULTS.labels(channel, outcome if outcome in PUBLISH_OUTCOMES else "other").inc()
    if outcome == "retrying":
        RETRIES.labels(channel).inc()
    elif outcome == "deferred":
        DEFERRALS.labels(channel).inc()
    elif outcome == "published" and pub is not None and pub.published_at is not None:
        LATENESS_SECONDS.labels(channel).observe(max(0.0, (pub.published_at - pub.scheduled_for).total_seconds()))
        DELAY_SECONDS.labels(channel).observe(max(0.0, (pub.published_at - pub.planned_for).total_seconds()))


@_guarded
def count_localization(engine: str | None, outcome: str, *, requests: int = 0, cache_hits: int = 0) -> None:
    """Count one localization attempt and the MT requests and cache hits it made."""
    eng = _label(engine or "none")
    LOCALIZATIONS.labels(eng, outcome).inc()
    if requests:
        MT_REQUESTS.labels(eng).inc(requests)
    if cache_hits:
        MT_CACHE_HITS.labels(eng).inc(cache_hits)


@_guarded
def observe_mt_call(engine: str, seconds: float) -> None:
    """For engines: the duration of one request to a translation service."""
    MT_CALL_SECONDS.labels(_label(engine)).observe(seconds)


@_guarded
def count_mt_error(engine: str, error: str) -> None:
    """For engines: one failed translation request (``error``: our error class name)."""
    MT_ERRORS.labels(_label(engine), _label(error)).inc()


@_guarded
def count_mt_retry(engine: str, error: str) -> None:
    """For engines: one translation request about to be sent again within the localize step."""
    MT_RETRIES.labels(_label(engine), _label(error)).inc()


@_guarded
def count_mt_damaged(engine: str, strategy: str, fields: int = 1) -> None:
    """For the localize step: ``fields`` answers refused for damaged protected spans."""
    MT_DAMAGED.labels(_label(engine), _label(strategy)).inc(fields)


@_guarded
def count_mt_strategy(engine: str, strategy: str, fields: int = 1) -> None:
    """For the localize step: ``fields`` fields translated with ``strategy``."""
    MT_STRATEGIES.labels(_label(engine), _label(strategy)).inc(fields)


@_guarded
def observe_actor(actor: str, result: str, seconds: float) -> None:
    """One message processed by ``actor`` (``result``: ok, error, skipped)."""
    ACTOR_MESSAGES.labels(_label(actor), result).inc()
    if result != "skipped":
        ACTOR_SECONDS.labels(_label(actor)).observe(seconds)


@_guarded
def observe_notification(endpoint: str, result: str) -> None:
    """One lifecycle webhook attempt (``result``: delivered, retry, failed)."""
    NOTIFICATIONS.labels(_label(endpoint), result).inc()


@_guarded
def count_engagement_snapshot(channel: str) -> None:
    """One engagement snapshot stored."""
    ENGAGEMENT_SNAPSHOTS.labels(_label(channel)).inc()


# -- scrape-time gauges ---------------------------------------------------------------------------


class LedgerCollector:
    """Publications by state and channel, and the notification outbox by state, read at scrape time."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger

    def describe(self) -> Iterable[Metric]:
        """No fixed description: the families are built at scrape time."""
        return []

    def collect(self) -> Iterable[Metric]:
        """Query the ledger; on failure, report ``syndicate_ledger_up 0`` and nothing else."""
        from sqlalchemy import func, select

        from ..ledger.schema import notifications, publications

        up = GaugeMetricFamily("syndicate_ledger_up", "1 when the ledger answered the scrape's queries.")
        pubs = GaugeMetricFamily("syndicate_publications", "Publications in the ledger by state and channel.",
                                 labels=["state", "channel"])
        outbox = GaugeMetricFamily("syndicate_notifications", "Lifecycle webhooks in the outbox by state.",
                                   labels=["state"])
        try:
            with self.ledger.engine.connect() as conn:
                for state, channel, n in conn.execute(
                        select(publications.c.state, publications.c.channel, func.count())
                        .group_by(publications.c.state, publications.c.channel)).all():
                    pubs.add_metric([state, channel], n)
                for state, n in conn.execute(select(notifications.c.state, func.count())
                                             .group_by(notifications.c.state)).all():
                    outbox.add_metric([state], n)
        except Exception as exc:  # noqa: BLE001 - a scrape reports the failure instead of raising
            log.warning("metrics.ledger_unavailable", error=f"{type(exc).__name__}: {exc}")
            up.add_metric([], 0)
            return [up]
        up.add_metric([], 1)
        return [up, pubs, outbox]


class BrokerCollector:
    """Queue depth by queue and kind, read from the broker at scrape time.

    Kinds: ``ready`` (waiting to be fetched), ``in_flight`` (fetched, not yet acknowledged),
    ``delayed`` (in the delay queue), ``dead`` (dead-lettered). On Redis these are the keys that
    Dramatiq's ``dispatch.lua`` keeps under the namespace (see ``docs/message-format.md``).
    """

    def __init__(self, queues: Iterable[str], *, redis_client: Any = None, namespace: str = "syndicate",
                 broker: Any = None) -> None:
        self.queues = sorted(set(queues))
        self.redis = redis_client
        self.namespace = namespace
        self.broker = broker

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
        elif self.broker is not None:
            for q in self.queues:
                queue = self.broker.queues.get(q)
                delayed = self.broker.queues.get(f"{q}.DQ")
                yield q, "ready", queue.qsize() if queue is not None else 0
                yield q, "delayed", delayed.qsize() if delayed is not None else 0

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


@_guarded
def mark_dead(pid: int, path: str | None = None) -> None:
    """A child process exited: drop its live gauges (its counters stay: they never go back)."""
    mark_process_dead(pid, path)  # type: ignore[no-untyped-call]
