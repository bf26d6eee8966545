"""Which broker, and which Redis: the two URLs of the environment, read one way everywhere.

* ``SYNDICATE_BROKER_URL``: ``amqp://`` / ``amqps://`` picks RabbitMQ, ``redis://`` / ``rediss://``
  / ``unix://`` picks Redis.
* ``SYNDICATE_REDIS_URL``: the Redis of the locks, post caps and translation cache; it is also the
  broker when ``SYNDICATE_BROKER_URL`` is unset (as before that variable existed).

Both set: RabbitMQ with a Redis URL uses each for its part; two different Redis URLs are refused
(which one would hold the queues?), the same one twice is accepted. Neither set: embedded mode.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from ..errors import BrokerError

__all__ = ["AMQP_SCHEMES", "REDIS_SCHEMES", "BrokerUrls", "display_url", "resolve_broker_urls"]

AMQP_SCHEMES = ("amqp", "amqps")
REDIS_SCHEMES = ("redis", "rediss", "unix")


def display_url(url: str) -> str:
    """``url`` with its password replaced by ``***`` (for messages and logs)."""
    try:
        parts = urlsplit(url)
        if parts.password is None:
            return url
        host = parts.hostname or ""
        if ":" in host:
            host = f"[{host}]"
        netloc = f"{parts.username or ''}:***@{host}" + (f":{parts.port}" if parts.port is not None else "")
        return urlunsplit(parts._replace(netloc=netloc))
    except ValueError:  # an unparsable URL: show its scheme alone
        return f"{url.split(':', 1)[0]}://***"


def _scheme(url: str) -> str:
    return url.split(":", 1)[0].lower() if ":" in url else ""


@dataclass(frozen=True)
class BrokerUrls:
    """The broker and the Redis a process works with.

    Attributes:
        broker: the broker's URL (None: embedded mode, an in-process broker).
        redis: the Redis of locks, caps and caches (None: the ledger keeps them, or this process
            in embedded mode).
    """

    broker: str | None
    redis: str | None

    @property
    def kind(self) -> str:
        """``rabbitmq``, ``redis`` or ``embedded``."""
        if self.broker is None:
            return "embedded"
        return "rabbitmq" if _scheme(self.broker) in AMQP_SCHEMES else "redis"


def resolve_broker_urls(broker_url: str | None, redis_url: str | None, environ: Mapping[str, str]) -> BrokerUrls:
    """The URLs to use: each argument when given, else its environment variable.

    ``redis_url=""`` with no ``broker_url`` (what ``syndicate run`` and tests pass) means embedded
    mode, whatever the environment says.

    Raises:
        BrokerError: an unknown scheme, or two different Redis URLs.
    """
    if redis_url == "" and not broker_url:
        return BrokerUrls(None, None)
    broker = (broker_url if broker_url is not None else environ.get("SYNDICATE_BROKER_URL")) or None
    redis = (redis_url if redis_url is not None else environ.get("SYNDICATE_REDIS_URL")) or None
    if redis is not None and _scheme(redis) not in REDIS_SCHEMES:
        raise BrokerError(f"SYNDICATE_REDIS_URL must be a redis://, rediss:// or unix:// URL, not {display_url(redis)}")
    if broker is None:
        return BrokerUrls(redis, redis)
    scheme = _scheme(broker)
    if scheme in AMQP_SCHEMES:
        return BrokerUrls(broker, redis)
    if scheme not in REDIS_SCHEMES:
        raise BrokerError("SYNDICATE_BROKER_URL must be an amqp://, amqps:// (RabbitMQ) or redis://, rediss://, "
                          f"unix:// (Redis) URL, not {display_url(broker)}")
    if redis is not None and redis != broker:
        raise BrokerError(f"SYNDICATE_BROKER_URL ({display_url(broker)}) and SYNDICATE_REDIS_URL "
                          f"({display_url(redis)}) name two different Redis servers: set only one of them "
                          "(or the same URL in both)")
    return BrokerUrls(broker, broker)
