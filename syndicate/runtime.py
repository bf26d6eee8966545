"""The services a process works with: config, ledger, broker, adapters, translators.

One :class:`Runtime` per process (tests may build several). Embedded mode (neither
``SYNDICATE_BROKER_URL`` nor ``SYNDICATE_REDIS_URL``) uses Dramatiq's ``StubBroker`` and runs the
worker in threads of this process; with a Redis or RabbitMQ broker, many worker processes share the
broker and a PostgreSQL ledger (:mod:`syndicate.base.brokerurl` says which URL wins).

What is shared between processes besides the queues (the dispatcher's leader lease, the adapters'
locks, the post caps, the translation cache) lives in Redis when there is a Redis URL, else in the
ledger (RabbitMQ without Redis), else in this process (embedded mode): :meth:`Runtime.lease` and
:meth:`Runtime.rate_limiter` pick the implementation, and
:func:`syndicate.localization.cache.translation_cache` keeps the cache in the ledger without Redis.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import dramatiq
from dramatiq.brokers.stub import StubBroker

from .base.brokerurl import BrokerUrls, display_url, resolve_broker_urls
from .base.leases import Lease, ProcessLease, RedisLease
from .channels.contract import Adapter
from .channels.media import DEFAULT_CACHE_BYTES, MediaStore
from .config.loading import load_config
from .errors import BrokerError
from .ledger import Clock, Ledger
from .ledger.leases import LedgerLease
from .ledger.ratewindows import LedgerRateLimiter
from .model.config import Config
from .model.timing import Timing
from .operations.notify import webhook_outbox
from .publishing.ratelimit import RateLimiter, limiter_for
from .worker.actors import declare_actors

__all__ = ["RABBITMQ_URL_DEFAULTS", "Runtime", "default_runtime", "make_broker", "media_store", "rabbitmq_broker",
           "rabbitmq_url", "timing_from_config"]

#: Namespace of our keys in Redis.
REDIS_NAMESPACE = "syndicate"
#: Where fetched media are cached (``SYNDICATE_MEDIA_CACHE``), next to ``syndicate.db`` and ``outbox/``.
DEFAULT_MEDIA_CACHE = "media-cache"


def media_store(env: Mapping[str, str]) -> MediaStore:
    """The media store of a process: ``$SYNDICATE_MEDIA_CACHE`` (default ``./media-cache``), at most
    ``$SYNDICATE_MEDIA_CACHE_MB`` megabytes (default 512); see ``docs/items.md#media``."""
    directory = env.get("SYNDICATE_MEDIA_CACHE") or os.environ.get("SYNDICATE_MEDIA_CACHE") or DEFAULT_MEDIA_CACHE
    raw = env.get("SYNDICATE_MEDIA_CACHE_MB") or os.environ.get("SYNDICATE_MEDIA_CACHE_MB")
    try:
        max_bytes = int(raw) * 1024 * 1024 if raw else DEFAULT_CACHE_BYTES
    except ValueError:
        from .errors import ConfigError, ConfigProblem

        raise ConfigError([ConfigProblem("environment", None, "SYNDICATE_MEDIA_CACHE_MB",
                                         f"must be a whole number of megabytes, not {raw!r}")]) from None
    return MediaStore(Path(directory), max_bytes=max_bytes)


def timing_from_config(cfg: Config) -> Timing:
    """The :class:`Timing` of ``settings.yaml`` (``worker:``), fitted to the accounts' HTTP timeouts.

    An account whose connect + read timeout reaches the publish time limit raises the limit (and
    the claim lease with it), which slows the recovery from a crashed worker: logged once per
    account and process. Accounts of adapters that make no network calls (the sandbox) do not count.
    """
    wanted: Timing = cfg.worker
    http = {acc_id: timedelta(seconds=acc.connect_timeout_s + acc.read_timeout_s)
            for acc_id, acc in cfg.accounts.items() if cfg.adapter_class(acc_id).uses_network}
    if not http:
        return wanted
    fitted = wanted.fitted(max(http.values()))
    if fitted != wanted:
        from .base.logging import get_logger

        log = get_logger("syndicate.runtime")
        for acc_id, took in sorted(http.items()):
            if took < wanted.publish_time_limit or (acc_id, took) in _TIMING_LOGGED:
                continue
            _TIMING_LOGGED.add((acc_id, took))
            log.info("worker.timing_raised", account=acc_id, http_timeout_s=took.total_seconds(),
                     publish_time_limit_s=fitted.publish_time_limit.total_seconds(),
                     claim_lease_s=fitted.claim_lease.total_seconds(),
                     reason="an account's connect + read timeout reaches worker.publish_time_limit")
    return fitted


#: ``(account, connect + read timeout)`` already named by ``worker.timing_raised`` in this process.
_TIMING_LOGGED: set[tuple[str, timedelta]] = set()


def make_broker(url: str | None, *, namespace: str = REDIS_NAMESPACE, timing: Timing | None = None
                ) -> dramatiq.Broker:
    """The broker for ``url``: RabbitMQ for ``amqp://``/``amqps://``, Redis for ``redis://`` and the
    like, else (None) a StubBroker for embedded mode.

    Raises:
        BrokerError: RabbitMQ does not answer (the message names the URL without its password).
    """
    t = timing or Timing()
    if url and url.split(":", 1)[0].lower() in ("amqp", "amqps"):
        return rabbitmq_broker(url, timing=t)
    if url:
        from dramatiq.brokers.redis import RedisBroker

        return RedisBroker(  # type: ignore[no-untyped-call]
            url=url, namespace=namespace,
                           heartbeat_timeout=int(t.heartbeat_timeout.total_seconds() * 1000),
                           maintenance_chance=t.maintenance_chance,
                           socket_timeout=10, socket_connect_timeout=5, health_check_interval=30)
    broker = StubBroker()
    broker.emit_after("process_boot")
    return broker


#: Connection settings of the RabbitMQ broker, added to the URL's query unless it sets them:
#: AMQP heartbeat (s), socket timeout (s), how long a publisher blocked by a RabbitMQ resource alarm
#: waits before it fails (s), and connection attempts with the delay between them (s).
RABBITMQ_URL_DEFAULTS: dict[str, str] = {"heartbeat": "60", "socket_timeout": "10",
                                         "blocked_connection_timeout": "30", "connection_attempts": "2",
                                         "retry_delay": "1"}


def rabbitmq_url(url: str) -> str:
    """``url`` with :data:`RABBITMQ_URL_DEFAULTS` added to its query where it does not set them."""
    from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    merged = {**RABBITMQ_URL_DEFAULTS, **query}
    return urlunsplit(parts._replace(query=urlencode(merged)))


def amqp_reason(exc: BaseException) -> str:
    """One line saying why a pika connection failed (pika's connection errors often print empty)."""
    text = str(exc) or ", ".join(str(a) or repr(a) for a in exc.args)
    return f"{type(exc).__name__}: {text}".splitlines()[0][:300]


def rabbitmq_broker(url: str, *, timing: Timing | None = None) -> dramatiq.Broker:
    """Dramatiq's RabbitMQ broker on ``url``, with publisher confirms, checked to answer now.

    ``confirm_delivery=True``: every send waits until RabbitMQ has taken the message (a send that
    returns was not lost; one that fails is retried by Dramatiq or raised). Dramatiq declares each
    queue with its delay queue (``.DQ``) and dead-letter queue (``.XQ``) as durable queues and sends
    persistent messages. Unacknowledged messages go back to the queue as soon as a consumer's
    connection closes (a killed worker), so no heartbeat expiry or maintenance pass is needed, as
    it is with Redis. ``timing`` is accepted for the interface; RabbitMQ has no timing of ours.

    Raises:
        BrokerError: RabbitMQ does not answer, or refuses the credentials or the virtual host.
    """
    import pika
    import pika.exceptions
    from dramatiq.brokers.rabbitmq import RabbitmqBroker

    del timing
    # pika logs every connection's opening and closing at INFO; its warnings and errors still show.
    logging.getLogger("pika").setLevel(max(logging.WARNING, logging.getLogger("pika").getEffectiveLevel()))
    full = rabbitmq_url(url)
    try:
        probe = pika.BlockingConnection(pika.URLParameters(full))
        probe.close()
    except (pika.exceptions.AMQPError, OSError, ValueError) as exc:
        from .base.secrets import redact

        reason = redact(amqp_reason(exc))
        raise BrokerError(f"RabbitMQ is not reachable at {display_url(url)} ({reason})") from None
    return RabbitmqBroker(url=full, confirm_delivery=True)


@dataclass
class Runtime:
    """Services shared by the actors and the dispatcher of one process.

    ``config`` is swapped whole when the configuration is reloaded (:meth:`swap_config`, called by
    :mod:`syndicate.config.reload` on SIGHUP). Work that must see one configuration from start to end (a
    message being processed) runs inside :meth:`pinned_config`, so a reload never changes it
    half-way; adapters built from an older configuration are rebuilt on their thread's next use.

    A runtime is a context manager: ``with Runtime.create(...) as rt:`` closes it on exit.
    """

    _config: Config
    ledger: Ledger
    broker: dramatiq.Broker
    timing: Timing = field(default_factory=Timing)
    redis_url: str | None = None
    namespace: str = REDIS_NAMESPACE
    actors: Any = None
    #: Fetches items' media once per item revision for every adapter (``channels.media``).
    media: MediaStore | None = None
    #: The broker's URL (None: embedded); ``redis_url`` is the Redis of locks, caps and caches.
    broker_url: str | None = None
    _local: threading.local = field(default_factory=threading.local, repr=False)
    _redis: Any = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _pins: threading.local = field(default_factory=threading.local, repr=False)
    _limiter: Any = field(default=None, repr=False)

    @property
    def config(self) -> Config:
        """The configuration: the one pinned by this thread's :meth:`pinned_config`, else the current one."""
        pinned: Config | None = getattr(self._pins, "config", None)
        return pinned if pinned is not None else self._config

    @property
    def current_config(self) -> Config:
        """The current configuration, whatever this thread pinned."""
        return self._config

    def swap_config(self, new: Config) -> Config:
        """Make ``new`` (validated, immutable) the configuration from now on; returns the previous one.

        One attribute assignment: every reader sees the old or the new object, never a mix. Work
        already running inside :meth:`pinned_config` keeps the configuration it started with.
        """
        old, self._config = self._config, new
        return old

    @contextmanager
    def pinned_config(self) -> Iterator[Config]:
        """Within this block, this thread's :attr:`config` stays what it is now, even if swapped."""
        if getattr(self._pins, "config", None) is not None:  # nested: the outer pin holds
            yield self._pins.config
            return
        self._pins.config = cfg = self._config
        try:
            yield cfg
        finally:
            self._pins.config = None

    @classmethod
    def create(
        cls,
        *,
        config: Config | str | Path | None = None,
        database_url: str | None = None,
        redis_url: str | None = None,
        broker_url: str | None = None,
        environ: Mapping[str, str] | None = None,
        clock: Clock | None = None,
        timing: Timing | None = None,
        namespace: str | None = None,
        migrate: bool = True,
    ) -> Runtime:
        """Build a runtime from arguments, falling back to the environment.

        Args:
            config: a loaded config or its directory (default ``$SYNDICATE_CONFIG`` or ``./config``).
            database_url: ledger URL (default ``$SYNDICATE_DATABASE_URL`` or ``sqlite:///syndicate.db``).
            redis_url: Redis URL (default ``$SYNDICATE_REDIS_URL``): the broker unless ``broker_url``
                names one, and the Redis of locks, caps and caches. ``""`` without ``broker_url``
                means embedded mode, whatever the environment says.
            broker_url: broker URL, ``amqp://`` (RabbitMQ) or ``redis://`` (default
                ``$SYNDICATE_BROKER_URL``); see :mod:`syndicate.base.brokerurl` for precedence.
            environ: environment for secret references and defaults.
            clock: time source for the ledger.
            timing: time limits and leases.
            namespace: Redis namespace (default ``syndicate``).
            migrate: bring the ledger schema up to date.
        """
        env = environ if environ is not None else os.environ
        # Producers and reporting hosts need not hold platform secrets; workers check them at start.
        cfg = config if isinstance(config, Config) else load_config(config, environ=env, check_secrets=False)
        t = timing or timing_from_config(cfg)
        t.check()
        # redis_url="" (as tests and `syndicate run` pass) means embedded, like unset variables.
        urls: BrokerUrls = resolve_broker_urls(broker_url, redis_url, env)
        ns = namespace or env.get("SYNDICATE_REDIS_NAMESPACE") or REDIS_NAMESPACE
        # Producer webhooks: the ledger writes lifecycle notifications with each transition.
        ledger = Ledger(database_url or env.get("SYNDICATE_DATABASE_URL") or None, clock=clock,
                        outbox=webhook_outbox(cfg.notifications))
        if migrate:
            ledger.migrate()
        try:
            broker = make_broker(urls.broker, namespace=ns, timing=t)
        except BrokerError:
            ledger.close()
            raise
        rt = cls(_config=cfg, ledger=ledger, broker=broker, timing=t, redis_url=urls.redis, namespace=ns,
                 broker_url=urls.broker, media=media_store(env))
        rt.actors = declare_actors(rt)
        return rt

    @property
    def embedded(self) -> bool:
        """True when running without a broker (StubBroker, in-process worker)."""
        return self.broker_url is None

    @property
    def broker_kind(self) -> str:
        """``redis``, ``rabbitmq`` or ``embedded``."""
        return BrokerUrls(self.broker_url, self.redis_url).kind

    def lease(self, key: str, *, length: timedelta) -> Lease:
        """A lease on ``key`` held by one party across every process that shares this deployment:
        in Redis when there is one, else in the ledger (a broker without Redis), else within this
        process (embedded mode)."""
        client = self.redis()
        if client is not None:
            return RedisLease(client, key, lease=length)
        if not self.embedded:
            return LedgerLease(self.ledger, key, lease=length)
        return ProcessLease(key, lease=length)

    def rate_limiter(self) -> RateLimiter:
        """The post caps shared by every worker: in Redis, else in the ledger, else in this process."""
        if self.redis_url is not None or self.embedded:
            return limiter_for(self.redis(), self.namespace, self.ledger.url)
        with self._lock:
            if self._limiter is None:
                self._limiter = LedgerRateLimiter(self.ledger)
            return self._limiter  # type: ignore[no-any-return]

    def redis(self) -> Any:
        """A Redis client for locks, rate limits and caches (None in embedded mode)."""
        if self.redis_url is None:
            return None
        with self._lock:
            if self._redis is None:
                import redis

                self._redis = redis.Redis.from_url(self.redis_url, socket_timeout=10, socket_connect_timeout=5)
            return self._redis

    def adapter(self, account_id: str) -> Adapter:
        """This thread's adapter instance for ``account_id`` (sessions are not shared across threads).

        An adapter built from an earlier configuration (before a reload: other options, base URL
        or credentials) is closed and built again from this thread's :attr:`config`.
        """
        cache: dict[str, tuple[Config, Adapter]] | None = getattr(self._local, "adapters", None)
        if cache is None:
            cache = {}
            self._local.adapters = cache
            with self._lock:
                all_caches: list[dict[str, tuple[Config, Adapter]]] = getattr(self, "_all_caches", [])
                all_caches.append(cache)
                self._all_caches = all_caches
        cfg = self.config
        cached = cache.get(account_id)
        if cached is not None and cached[0] is cfg:
            return cached[1]
        if cached is not None:
            cached[1].close()  # this thread's own instance, not in use: the caller asks for a new one
        from .ledger.statestore import StateStore

        cls = cfg.adapter_class(account_id)
        ctx = cfg.account_context(account_id, state=StateStore(self.ledger, self.redis, self.namespace, account_id,
                                                               leases=self.lease))
        if self.media is not None:
            ctx = dataclasses.replace(ctx, media=self.media)
        adapter = cls(ctx)
        cache[account_id] = (cfg, adapter)
        return adapter

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        """Close adapters, the broker and the ledger (``with Runtime.create(...) as rt:`` does it on exit)."""
        for cache in getattr(self, "_all_caches", []):
            for _cfg, adapter in cache.values():
                adapter.close()
        self.broker.close()
        self.ledger.close()
        if self._redis is not None:
            self._redis.close()


_default: Runtime | None = None
_default_lock = threading.Lock()


def default_runtime() -> Runtime:
    """The process's runtime built from the environment (``SYNDICATE_CONFIG``,
    ``SYNDICATE_DATABASE_URL``, ``SYNDICATE_BROKER_URL``, ``SYNDICATE_REDIS_URL``), made on first
    use: what the producer API uses when a caller passes none."""
    global _default
    with _default_lock:
        if _default is None:
            _default = Runtime.create()
        return _default
