"""Send many Dramatiq messages in one round trip to Redis.

Dramatiq's ``RedisBroker.enqueue`` runs its ``dispatch`` Lua script once per message, one round
trip each: a dispatcher tick that sends 500 messages waits for 500 answers. :func:`enqueue_many`
prepares each message exactly as ``RedisBroker.enqueue`` does (a fresh ``redis_message_id``; a
delayed message goes to the queue's delay queue with its ``eta``; the ``before_enqueue`` and
``after_enqueue`` hooks), then runs the same script for every message in one pipeline (not a
transaction: each script call is atomic on its own, as it is when sent alone). Any other broker
(the in-process broker of the embedded mode, another broker) gets ``broker.enqueue`` per message.

Written against dramatiq 2.2 (``dramatiq/brokers/redis.py``: ``enqueue`` and ``_dispatch``; the
version is pinned in ``constraints.txt``), and tested against a real Redis and worker.
"""

from __future__ import annotations

from collections.abc import Sequence
from uuid import uuid4

import dramatiq
from dramatiq.common import current_millis, dq_name

__all__ = ["enqueue_many"]


def _knows(broker: object) -> bool:
    """Whether this Redis broker has the internals the pipeline repeats (a Dramatiq release other
    than the one pinned may not: then every message goes through ``broker.enqueue``)."""
    scripts = getattr(broker, "scripts", None)
    return (isinstance(scripts, dict) and "dispatch" in scripts
            and all(hasattr(broker, name) for name in ("_should_do_maintenance", "_max_unpack_size",
                                                       "broker_id", "heartbeat_timeout", "dead_message_ttl")))


def enqueue_many(broker: dramatiq.Broker, messages: Sequence[tuple[dramatiq.Message[object], int | None]]
                 ) -> list[dramatiq.Message[object]]:
    """Enqueue ``messages`` (each with its delay in milliseconds, or None) and return them as enqueued.

    With a Redis broker, one pipeline for all of them; otherwise ``broker.enqueue`` for each.
    """
    from dramatiq.brokers.redis import RedisBroker

    if not messages:
        return []
    if not isinstance(broker, RedisBroker) or not _knows(broker):
        return [broker.enqueue(message, delay=delay) for message, delay in messages]
    prepared: list[tuple[str, dramatiq.Message[object], int | None]] = []
    for message, delay in messages:
        queue_name = message.queue_name
        message = message.copy(options={"redis_message_id": str(uuid4())})
        if delay is not None:
            queue_name = dq_name(queue_name)
            message = message.copy(queue_name=queue_name, options={"eta": current_millis() + delay})
        broker.emit_before("enqueue", message, delay)
        prepared.append((queue_name, message, delay))
    dispatch = broker.scripts["dispatch"]
    keys = [broker.namespace]
    with broker.client.pipeline(transaction=False) as pipe:
        for queue_name, message, _delay in prepared:
            # The arguments of RedisBroker._dispatch("enqueue"), then the message's id and body.
            args = ["enqueue", current_millis(), queue_name, broker.broker_id, broker.heartbeat_timeout,
                    broker.dead_message_ttl, broker._should_do_maintenance("enqueue"), broker._max_unpack_size(),  # type: ignore[no-untyped-call]
                    message.options["redis_message_id"], message.encode()]
            dispatch(keys=keys, args=args, client=pipe)
        pipe.execute()
    for _queue_name, message, delay in prepared:
        broker.emit_after("enqueue", message, delay)
    return [message for _queue_name, message, _delay in prepared]
