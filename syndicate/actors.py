"""Dramatiq actors: thin wrappers that call one pipeline step each.

Messages carry ids only (the ledger is the source of truth; the queue is a wake-up), so a producer
in any language can send them: see ``docs/message-format.md``.

Retries here are for infrastructure faults (ledger or broker unreachable): channel errors are
recorded in the ledger by the pipeline and never raised to Dramatiq, because a Dramatiq retry
counts toward ``max_retries`` and its delay is lost if Redis restarts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import dramatiq
import structlog
from dramatiq.middleware import Middleware

from .errors import ConfigError, ContentError, LocalizationError
from .ledger import worker_id
from .logging import get_logger
from .pipeline import do_intake, do_localize, do_publish, do_reconcile
from .states import PublicationState

if TYPE_CHECKING:
    from .runtime import Runtime

__all__ = ["ACTOR_NAMES", "Actors", "LogContext", "declare_actors"]

log = get_logger("syndicate.actors")

#: Actor name → queue name. Queues are separate so each can be scaled and watched on its own.
ACTOR_NAMES = {
    "intake": "syndicate.intake",
    "localize": "syndicate.localize",
    "publish": "syndicate.publish",
    "reconcile": "syndicate.reconcile",
    "publish_exhausted": "syndicate.publish",
}


def _ms(td: timedelta) -> int:
    return int(td.total_seconds() * 1000)


class LogContext(Middleware):
    """Bind the message's ids to the log context of the worker thread, and clear them after."""

    def before_process_message(self, broker: dramatiq.Broker, message: Any) -> None:
        """Bind actor, message id and the message's ids."""
        ctx: dict[str, Any] = {"actor": message.actor_name, "message_id": message.message_id,
                               "retries": message.options.get("retries", 0)}
        args = message.args
        if message.actor_name in ("publish", "reconcile", "publish_exhausted") and args:
            ctx["publication"] = args[0]
        elif message.actor_name in ("intake", "localize") and len(args) >= 2:
            ctx["item"], ctx["revision"] = args[0], args[1]
            if len(args) > 2:
                ctx["locale"] = args[2]
        structlog.contextvars.bind_contextvars(**ctx)

    def after_process_message(self, broker: dramatiq.Broker, message: Any, *, result: Any = None,
                              exception: BaseException | None = None) -> None:
        """Clear the context."""
        structlog.contextvars.clear_contextvars()

    def after_skip_message(self, broker: dramatiq.Broker, message: Any) -> None:
        """Clear the context."""
        structlog.contextvars.clear_contextvars()


@dataclass
class Actors:
    """The actors declared on one runtime's broker."""

    intake: dramatiq.Actor[Any, Any]
    localize: dramatiq.Actor[Any, Any]
    publish: dramatiq.Actor[Any, Any]
    reconcile: dramatiq.Actor[Any, Any]
    publish_exhausted: dramatiq.Actor[Any, Any]


def declare_actors(rt: Runtime) -> Actors:
    """Declare our actors on ``rt.broker``, bound to ``rt``."""
    broker = rt.broker
    if not any(isinstance(m, LogContext) for m in broker.middleware):
        broker.add_middleware(LogContext())
    t = rt.timing
    infra_retries: dict[str, Any] = {"max_retries": 10, "min_backoff": 1000, "max_backoff": 60_000}

    def intake(item_id: str, revision: int) -> None:
        do_intake(rt, item_id, revision)

    def localize(item_id: str, revision: int, locale: str) -> None:
        do_localize(rt, item_id, revision, locale)

    def publish(publication_id: int) -> None:
        do_publish(rt, publication_id)

    def reconcile(publication_id: int) -> None:
        do_reconcile(rt, publication_id)

    def publish_exhausted(message: dict[str, Any], retry_info: dict[str, Any]) -> None:
        """Dramatiq gave up on a publish message: record it, so nothing fails silently."""
        args = message.get("args") or []
        if not args:
            return
        pub_id = int(args[0])
        error = f"worker failed {retry_info.get('retries', '?')} times processing the publish message"
        pub = rt.ledger.transition(pub_id, PublicationState.FAILED,
                                   expect=(PublicationState.ENQUEUED, PublicationState.RETRYING),
                                   actor=worker_id(), error=error, kind="retries-exhausted")
        log.error("publication.failed", publication=pub_id, error=error, recorded=pub is not None)

    def make(fn: Any, name: str, **options: Any) -> dramatiq.Actor[Any, Any]:
        existing = broker.actors.get(name)
        if existing is not None:
            return existing
        return dramatiq.Actor(fn, broker=broker, actor_name=name, queue_name=ACTOR_NAMES[name], priority=0,
                              options=options)

    return Actors(
        intake=make(intake, "intake", time_limit=60_000, throws=(ContentError, ConfigError), **infra_retries),
        localize=make(localize, "localize", time_limit=_ms(t.localize_time_limit),
                      throws=(LocalizationError, ContentError, ConfigError), **infra_retries),
        publish=make(publish, "publish", time_limit=_ms(t.publish_time_limit), throws=(ContentError, ConfigError),
                     on_retry_exhausted="publish_exhausted", **infra_retries),
        reconcile=make(reconcile, "reconcile", time_limit=_ms(t.publish_time_limit),
                       throws=(ContentError, ConfigError), **infra_retries),
        publish_exhausted=make(publish_exhausted, "publish_exhausted", time_limit=60_000, **infra_retries),
    )
