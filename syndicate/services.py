"""What a stage may ask of the process it runs in: the services, as a protocol.

The stages (:mod:`syndicate.intake`, :mod:`syndicate.localization`, :mod:`syndicate.publishing`,
:mod:`syndicate.operations`) and the hosts (:mod:`syndicate.worker`, :mod:`syndicate.api`) take a
:class:`Services` and never import the runtime that provides it: :class:`syndicate.runtime.Runtime`
is built on top of them (it wires the actors to the steps), so every import points down.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Protocol

import dramatiq

from .channels.contract import Adapter
from .ledger import Ledger
from .model.config import Config
from .model.timing import Timing

if TYPE_CHECKING:
    from .base.leases import Lease

__all__ = ["Queue", "Queues", "Services"]


class Queue(Protocol):
    """A Dramatiq actor, as the stages use it: a way to send it a message."""

    def send(self, *args: Any, **kwargs: Any) -> Any:
        """Enqueue a message with these arguments."""

    def send_with_options(self, *, args: tuple[Any, ...] = ..., kwargs: dict[str, Any] | None = ...,
                          delay: int | None = ..., **options: Any) -> Any:
        """Enqueue a message with options (``delay`` in milliseconds)."""

    def message(self, *args: Any, **kwargs: Any) -> Any:
        """Build a message with these arguments, without sending it (for a batch send)."""


class Queues(Protocol):
    """The actors a stage wakes: each message carries ids only (docs/message-format.md)."""

    @property
    def intake(self) -> Queue: ...
    @property
    def localize(self) -> Queue: ...
    @property
    def publish(self) -> Queue: ...
    @property
    def reconcile(self) -> Queue: ...
    @property
    def unpublish(self) -> Queue: ...


class Services(Protocol):
    """The services of one process: configuration, ledger, broker, adapters, timing."""

    @property
    def config(self) -> Config:
        """The configuration this thread works with (pinned for the message being processed)."""

    @property
    def current_config(self) -> Config:
        """The current configuration, whatever this thread pinned."""

    @property
    def ledger(self) -> Ledger: ...
    @property
    def broker(self) -> dramatiq.Broker: ...
    @property
    def timing(self) -> Timing: ...
    @property
    def actors(self) -> Queues: ...
    @property
    def namespace(self) -> str:
        """The prefix of our keys in Redis."""

    @property
    def redis_url(self) -> str | None:
        """The Redis of locks, caps and caches (None: the ledger keeps them, or this process)."""

    @property
    def broker_url(self) -> str | None:
        """The broker's URL, Redis or RabbitMQ (None: embedded mode)."""

    @property
    def embedded(self) -> bool:
        """True without a broker: an in-process broker and worker."""

    @property
    def broker_kind(self) -> str:
        """``redis``, ``rabbitmq`` or ``embedded``."""

    def redis(self) -> Any:
        """A Redis client for locks, rate limits and caches (None without a Redis URL)."""

    def lease(self, key: str, *, length: timedelta) -> Lease:
        """A lease on ``key`` shared by every process: Redis, else the ledger, else this process."""

    def rate_limiter(self) -> Any:
        """The post caps shared by every worker (a ``publishing.ratelimit.RateLimiter``): Redis, else
        the ledger, else this process."""

    def adapter(self, account_id: str) -> Adapter:
        """This thread's adapter for ``account_id``."""

    def pinned_config(self) -> AbstractContextManager[Config]:
        """Within this block, this thread's :attr:`config` stays what it is now, even if swapped."""

    def swap_config(self, new: Config) -> Config:
        """Make ``new`` the configuration from now on; returns the previous one."""

    def close(self) -> None:
        """Close adapters, the broker and the ledger."""


