"""What every stage counts: Prometheus counters and histograms, recorded where things happen.

The publish call, the actors, the localization step, the notifier and the engagement job record
here; a failing metrics call is logged at DEBUG and never fails the work. The gauges that describe
the whole system, computed from the ledger and the broker when Prometheus scrapes, and the serving
of all of them, are :mod:`syndicate.operations.metrics`.

Helpers for localization engines: :func:`observe_mt_call` and :func:`count_mt_error`. Requests
and cache hits per localization are counted once, by the localize step, from the
``Localization`` result (:func:`count_localization`); engines must not count them again.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Literal, ParamSpec, Protocol, TypeVar, get_args

from prometheus_client import Counter, Histogram

from .logging import get_logger

__all__ = [
    "PUBLISH_OUTCOMES",
    "Observed",
    "PublishOutcome",
    "count_engagement_snapshot",
    "count_link_clicks",
    "count_link_flush",
    "count_localization",
    "count_mt_damaged",
    "count_mt_error",
    "count_mt_retry",
    "count_mt_strategy",
    "count_redirects",
    "guarded",
    "observe_actor",
    "observe_mt_call",
    "observe_notification",
    "observe_publication",
    "platform_call",
]

log = get_logger("syndicate.metrics")


class Observed(Protocol):
    """What :func:`observe_publication` reads of a publication (a ledger ``Publication``)."""

    @property
    def channel(self) -> str: ...
    @property
    def published_at(self) -> datetime | None: ...
    @property
    def scheduled_for(self) -> datetime: ...
    @property
    def planned_for(self) -> datetime: ...



#: Seconds; a platform call rarely takes under 50 ms and our read timeouts stop at 300 s.
CALL_BUCKETS_S = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0)
#: Seconds from a publication's due time to its post: dispatcher lag up to a day of deferrals.
LATENESS_BUCKETS_S = (1.0, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0, 14400.0, 86400.0)
#: Seconds an actor spends on one message.
ACTOR_BUCKETS_S = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)

#: What a publish or reconcile step ended with: the steps return one of these, and
#: ``syndicate_publish_outcomes`` counts each under its own label (docs/operations.md, "Metrics").
PublishOutcome = Literal["published", "failed", "retrying", "deferred", "in_doubt", "unconfirmed", "held", "early",
                         "skipped", "not-claimable", "not-in-doubt"]
PUBLISH_OUTCOMES: frozenset[str] = frozenset(get_args(PublishOutcome))
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
LINK_REDIRECTS = Counter("syndicate_link_redirects", "Requests to short links by result (found: 302, "
                         "unknown: 404).", ["result"])
LINK_CLICKS = Counter("syndicate_link_clicks_written", "Short-link clicks written to the ledger, humans and bots "
                      "apart.", ["kind"])
LINK_FLUSHES = Counter("syndicate_link_click_flushes", "Batches of short-link clicks written, by result "
                       "(ok, failed: kept for the next batch; dropped: clicks not counted, the buffer was full).",
                       ["result"])

P = ParamSpec("P")
R = TypeVar("R")


def guarded(fn: Callable[P, R]) -> Callable[P, R | None]:
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


@guarded
def _record_call(channel: str, result: str, seconds: float) -> None:
    PUBLISH_CALL_SECONDS.labels(_label(channel), result).observe(seconds)
    import structlog

    if structlog.contextvars.get_contextvars().get("message_id") is not None:
        structlog.contextvars.bind_contextvars(duration_ms=round(seconds * 1000, 1))


@guarded
def observe_publication(outcome: PublishOutcome, pub: Observed | None) -> None:
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


@guarded
def count_localization(engine: str | None, outcome: str, *, requests: int = 0, cache_hits: int = 0) -> None:
    """Count one localization attempt and the MT requests and cache hits it made."""
    eng = _label(engine or "none")
    LOCALIZATIONS.labels(eng, outcome).inc()
    if requests:
        MT_REQUESTS.labels(eng).inc(requests)
    if cache_hits:
        MT_CACHE_HITS.labels(eng).inc(cache_hits)


@guarded
def observe_mt_call(engine: str, seconds: float) -> None:
    """For engines: the duration of one request to a translation service."""
    MT_CALL_SECONDS.labels(_label(engine)).observe(seconds)


@guarded
def count_mt_error(engine: str, error: str) -> None:
    """For engines: one failed translation request (``error``: our error class name)."""
    MT_ERRORS.labels(_label(engine), _label(error)).inc()


@guarded
def count_mt_retry(engine: str, error: str) -> None:
    """For engines: one translation request about to be sent again within the localize step."""
    MT_RETRIES.labels(_label(engine), _label(error)).inc()


@guarded
def count_mt_damaged(engine: str, strategy: str, fields: int = 1) -> None:
    """For the localize step: ``fields`` answers refused for damaged protected spans."""
    MT_DAMAGED.labels(_label(engine), _label(strategy)).inc(fields)


@guarded
def count_mt_strategy(engine: str, strategy: str, fields: int = 1) -> None:
    """For the localize step: ``fields`` fields translated with ``strategy``."""
    MT_STRATEGIES.labels(_label(engine), _label(strategy)).inc(fields)


@guarded
def observe_actor(actor: str, result: str, seconds: float) -> None:
    """One message processed by ``actor`` (``result``: ok, error, skipped)."""
    ACTOR_MESSAGES.labels(_label(actor), result).inc()
    if result != "skipped":
        ACTOR_SECONDS.labels(_label(actor)).observe(seconds)


@guarded
def observe_notification(endpoint: str, result: str) -> None:
    """One lifecycle webhook attempt (``result``: delivered, retry, failed)."""
    NOTIFICATIONS.labels(_label(endpoint), result).inc()


@guarded
def count_engagement_snapshot(channel: str) -> None:
    """One engagement snapshot stored."""
    ENGAGEMENT_SNAPSHOTS.labels(_label(channel)).inc()


@guarded
def count_redirects(found: int, unknown: int) -> None:
    """Short-link requests answered since the last call: ``found`` (302) and ``unknown`` (404)."""
    LINK_REDIRECTS.labels("found").inc(found)
    LINK_REDIRECTS.labels("unknown").inc(unknown)


@guarded
def count_link_clicks(*, human: int, bot: int) -> None:
    """Clicks written to the ledger in one batch."""
    LINK_CLICKS.labels("human").inc(human)
    LINK_CLICKS.labels("bot").inc(bot)


@guarded
def count_link_flush(result: str, n: int = 1) -> None:
    """One batch of clicks written (``ok``) or kept for the next (``failed``), or ``n`` clicks
    ``dropped`` because the buffer was full."""
    LINK_FLUSHES.labels(result).inc(n)


# -- scrape-time gauges ---------------------------------------------------------------------------


