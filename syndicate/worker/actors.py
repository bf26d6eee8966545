"""Dramatiq actors: thin wrappers that call one pipeline step each.

Messages carry ids only (the ledger is the source of truth; the queue is a wake-up), so a producer
in any language can send them: see ``docs/message-format.md``.

Retries here are for infrastructure faults (ledger or broker unreachable): channel errors are
recorded in the ledger by the pipeline and never raised to Dramatiq, because a Dramatiq retry
counts toward ``max_retries`` and its delay is lost if Redis restarts.
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import dramatiq
import structlog
from dramatiq.middleware import CurrentMessage, Middleware

from ..base import metrics
from ..base.logging import get_logger
from ..errors import ConfigError, ContentError, LocalizationError
from ..intake.steps import do_intake
from ..ledger import Publication, worker_id
from ..localization.step import do_localize
from ..model.states import PublicationState
from ..model.timing import Timing
from ..publishing.steps import publish_step, reconcile_step
from ..publishing.unpublish import do_unpublish

if TYPE_CHECKING:
    from ..services import Services

__all__ = ["ACTOR_NAMES", "PREPARE_QUEUES", "PUBLISH_QUEUES", "ActorOptions", "Actors", "LogContext",
           "MetricsMiddleware", "actor_options", "declare_actors"]

log = get_logger("syndicate.actors")

#: Actor name → queue name. Queues are separate so each can be scaled and watched on its own.
ACTOR_NAMES = {
    "intake": "syndicate.intake",
    "localize": "syndicate.localize",
    "publish": "syndicate.publish",
    "reconcile": "syndicate.reconcile",
    "publish_exhausted": "syndicate.publish",
    # Deletes of posts that went out share the publish queue: they are platform calls too.
    "unpublish": "syndicate.publish",
}
#: The queues a worker process's two thread pools consume (``syndicate.worker.host.WorkerHost``):
#: the steps that prepare posts, and every other queue, which call platforms. A queue added to
#: :data:`ACTOR_NAMES` lands in the second unless named here.
PREPARE_QUEUES = frozenset({ACTOR_NAMES["intake"], ACTOR_NAMES["localize"]})
PUBLISH_QUEUES = frozenset(ACTOR_NAMES.values()) - PREPARE_QUEUES


#: Dramatiq's retries of a message whose step raised: infrastructure faults (ledger or broker
#: unreachable) only, since channel errors are recorded in the ledger and never raised.
INFRA_MAX_RETRIES = 10
INFRA_MIN_BACKOFF = timedelta(seconds=1)
INFRA_MAX_BACKOFF = timedelta(minutes=1)
#: Time limit of the messages that only read and write the ledger (intake, dead letters).
LEDGER_TIME_LIMIT = timedelta(minutes=1)


@dataclass(frozen=True)
class ActorOptions:
    """What Dramatiq is told about one actor, in our units (:meth:`for_dramatiq` converts them).

    Attributes:
        time_limit: the message is interrupted after this long (Dramatiq's ``TimeLimit``).
        throws: exceptions that end the message without a Dramatiq retry.
        on_retry_exhausted: the actor that records a message Dramatiq gave up on.
        max_retries: Dramatiq retries of a message that raised anything else.
        min_backoff: Dramatiq's first retry delay, doubled per retry up to ``max_backoff``.
        max_backoff: Dramatiq's longest retry delay.
    """

    time_limit: timedelta
    throws: tuple[type[BaseException], ...] = ()
    on_retry_exhausted: str | None = None
    max_retries: int = INFRA_MAX_RETRIES
    min_backoff: timedelta = INFRA_MIN_BACKOFF
    max_backoff: timedelta = INFRA_MAX_BACKOFF

    def for_dramatiq(self) -> dict[str, Any]:
        """The options by Dramatiq's names, durations in its milliseconds."""
        options: dict[str, Any] = {"time_limit": _ms(self.time_limit), "max_retries": self.max_retries,
                                   "min_backoff": _ms(self.min_backoff), "max_backoff": _ms(self.max_backoff)}
        if self.throws:
            options["throws"] = self.throws
        if self.on_retry_exhausted is not None:
            options["on_retry_exhausted"] = self.on_retry_exhausted
        return options


def actor_options(timing: Timing) -> dict[str, ActorOptions]:
    """Each actor's options, by actor name, from the worker's timing."""
    given_up = (ContentError, ConfigError)
    return {
        "intake": ActorOptions(LEDGER_TIME_LIMIT, throws=given_up),
        "localize": ActorOptions(timing.localize_time_limit, throws=(LocalizationError, *given_up)),
        "publish": ActorOptions(timing.publish_time_limit, throws=given_up, on_retry_exhausted="publish_exhausted"),
        "reconcile": ActorOptions(timing.publish_time_limit, throws=given_up),
        "publish_exhausted": ActorOptions(LEDGER_TIME_LIMIT),
        "unpublish": ActorOptions(timing.publish_time_limit, throws=given_up),
    }


def _ms(td: timedelta) -> int:
    return int(td.total_seconds() * 1000)


_EXCEPTION_LINE = re.compile(r"^[A-Za-z_][\w.]*(?:Error|Exception|Exceeded|Interrupt|Timeout|Exit)\w*(?:: .*)?$")


def _last_error(traceback_text: object) -> str:
    """The last exception line of a Dramatiq retry traceback (``message.options["traceback"]``)."""
    if isinstance(traceback_text, str):
        for line in reversed(traceback_text.splitlines()):
            if _EXCEPTION_LINE.match(line):
                return line[:1000]
    return "unknown (no traceback kept)"


def _publication_id(message: Any) -> int | None:
    """The publication a publish/reconcile (or exhausted publish) message is about."""
    args = message.args
    try:
        if message.actor_name in ("publish", "reconcile") and args:
            return int(args[0])
        if message.actor_name == "publish_exhausted" and args and isinstance(args[0], dict):
            inner = args[0].get("args") or []
            return int(inner[0]) if inner else None
    except (TypeError, ValueError):
        return None
    return None


class LogContext(Middleware):
    """Bind the message's ids to the log context of the worker thread, and clear them after.

    Bound: ``actor``, ``message_id``, ``retries`` (Dramatiq's redeliveries of this message) and
    the ids in the message. The publish and reconcile steps add ``item``, ``revision``,
    ``locale``, ``account``, ``channel`` and ``attempt`` once they have read the publication
    (the publish step binds them), so no extra read is made for the context.
    When the message is done, ``actor.done`` is logged with ``duration_ms``.
    """

    def __init__(self) -> None:
        self._local = threading.local()

    def before_process_message(self, broker: dramatiq.Broker, message: Any) -> None:
        """Bind actor, message id and the message's ids."""
        self._local.started = time.monotonic()
        structlog.contextvars.clear_contextvars()
        ctx: dict[str, Any] = {"actor": message.actor_name, "message_id": message.message_id,
                               "retries": message.options.get("retries", 0)}
        args = message.args
        pub_id = _publication_id(message)
        if pub_id is not None:
            ctx["publication"] = pub_id  # the step binds the rest once it has read the row
        elif message.actor_name in ("intake", "localize") and len(args) >= 2:
            ctx["item"], ctx["revision"] = args[0], args[1]
            if len(args) > 2:
                ctx["locale"] = args[2]
        structlog.contextvars.bind_contextvars(**ctx)

    def after_process_message(self, broker: dramatiq.Broker, message: Any, *, result: Any = None,
                              exception: BaseException | None = None) -> None:
        """Log ``actor.done`` with the duration, then clear the context."""
        started = getattr(self._local, "started", None)
        duration_ms = round((time.monotonic() - started) * 1000, 1) if started is not None else None
        if exception is None:
            log.info("actor.done", duration_ms=duration_ms)
        else:
            log.warning("actor.raised", duration_ms=duration_ms, error=f"{type(exception).__name__}: {exception}")
        structlog.contextvars.clear_contextvars()

    def after_skip_message(self, broker: dramatiq.Broker, message: Any) -> None:
        """Clear the context."""
        structlog.contextvars.clear_contextvars()


class MetricsMiddleware(Middleware):
    """Count every message and time it, per actor (``syndicate_actor_messages``/``_seconds``)."""

    def __init__(self) -> None:
        self._local = threading.local()

    def before_process_message(self, broker: dramatiq.Broker, message: Any) -> None:
        """Note when the message started."""
        self._local.started = time.monotonic()

    def after_process_message(self, broker: dramatiq.Broker, message: Any, *, result: Any = None,
                              exception: BaseException | None = None) -> None:
        """Record the result and the duration."""
        started = getattr(self._local, "started", None)
        seconds = time.monotonic() - started if started is not None else 0.0
        metrics.observe_actor(message.actor_name, "ok" if exception is None else "error", seconds)

    def after_skip_message(self, broker: dramatiq.Broker, message: Any) -> None:
        """Count a skipped message."""
        metrics.observe_actor(message.actor_name, "skipped", 0.0)


@dataclass
class Actors:
    """The actors declared on one runtime's broker."""

    intake: dramatiq.Actor[Any, Any]
    localize: dramatiq.Actor[Any, Any]
    publish: dramatiq.Actor[Any, Any]
    reconcile: dramatiq.Actor[Any, Any]
    publish_exhausted: dramatiq.Actor[Any, Any]
    unpublish: dramatiq.Actor[Any, Any]


def declare_actors(rt: Services) -> Actors:
    """Declare our actors on ``rt.broker``, bound to ``rt``."""
    broker = rt.broker
    if not any(isinstance(m, LogContext) for m in broker.middleware):
        broker.add_middleware(LogContext())
    if not any(isinstance(m, MetricsMiddleware) for m in broker.middleware):
        broker.add_middleware(MetricsMiddleware())
    if not any(isinstance(m, CurrentMessage) for m in broker.middleware):
        broker.add_middleware(CurrentMessage())
    # Each message runs on the configuration it started with (rt.pinned_config): a reload on SIGHUP
    # applies from the next message on, never half-way through a render and its call.

    def intake(item_id: str, revision: int) -> None:
        with rt.pinned_config():
            do_intake(rt, item_id, revision)

    def localize(item_id: str, revision: int, locale: str) -> None:
        # The localization claim belongs to the message: Dramatiq's retry of this message (after a
        # database blip, say) or its redelivery after its worker died takes it back at once, while
        # a different message for the same localization still finds it held.
        message = CurrentMessage.get_current_message()
        with rt.pinned_config():
            do_localize(rt, item_id, revision, locale,
                        claim_owner=f"message:{message.message_id}" if message is not None else None)

    def observe(outcome: metrics.PublishOutcome, pub: Publication | None) -> None:
        # The step returns the row as it left it: no second read for the metrics.
        metrics.observe_publication(outcome, None if outcome in ("not-claimable", "not-in-doubt") else pub)

    def publish(publication_id: int) -> None:
        with rt.pinned_config():
            observe(*publish_step(rt, publication_id))

    def reconcile(publication_id: int) -> None:
        with rt.pinned_config():
            observe(*reconcile_step(rt, publication_id))

    def publish_exhausted(message: dict[str, Any], retry_info: dict[str, Any]) -> None:
        """Dramatiq gave up on a publish message: record it, so nothing fails silently."""
        args = message.get("args") or []
        try:
            pub_id = int(args[0])
        except (IndexError, TypeError, ValueError):  # a malformed message names no publication
            log.error("publish.dead_letter", args=repr(args)[:200], reason="no publication id in the message")
            return
        last = _last_error((message.get("options") or {}).get("traceback"))
        error = (f"worker failed {int(retry_info.get('retries', 0)) + 1} times processing the publish message; "
                 f"last: {last}")
        pub = rt.ledger.transition(pub_id, PublicationState.FAILED,
                                   expect=(PublicationState.ENQUEUED, PublicationState.RETRYING),
                                   actor=worker_id(), error=error, kind="retries-exhausted")
        log.error("publication.failed", publication=pub_id, error=error, recorded=pub is not None)

    def unpublish(operation_id: int) -> None:
        with rt.pinned_config():
            do_unpublish(rt, operation_id)

    options = actor_options(rt.timing)

    def make(fn: Any, name: str) -> dramatiq.Actor[Any, Any]:
        existing = broker.actors.get(name)
        if existing is not None:
            return existing
        # dramatiq.actor (not dramatiq.Actor) refuses an option no middleware of the broker defines.
        declare = dramatiq.actor(actor_name=name, queue_name=ACTOR_NAMES[name], priority=0, broker=broker,
                                 **options[name].for_dramatiq())
        declared: dramatiq.Actor[Any, Any] = declare(fn)
        return declared

    return Actors(
        intake=make(intake, "intake"),
        localize=make(localize, "localize"),
        publish=make(publish, "publish"),
        reconcile=make(reconcile, "reconcile"),
        publish_exhausted=make(publish_exhausted, "publish_exhausted"),
        unpublish=make(unpublish, "unpublish"),
    )
