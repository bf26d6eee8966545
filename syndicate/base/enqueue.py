"""Send many Dramatiq messages to Redis in one script call per queue.

Dramatiq's ``RedisBroker.enqueue`` runs its ``dispatch`` Lua script once per message, one round
trip and one script run each: a dispatcher tick that sends 500 messages waits for 500 answers.
:func:`enqueue_many` prepares each message exactly as ``RedisBroker.enqueue`` does (a fresh
``redis_message_id``; a delayed message goes to the queue's delay queue with its ``eta``; the
``before_enqueue`` and ``after_enqueue`` hooks), then stores all the messages of one queue with one
call of a small script of its own that writes what the ``enqueue`` command of Dramatiq's script
writes, in the same order: the sender's heartbeat, then for each message its data in the queue's
``.msgs`` hash and its id at the tail of the queue's list. One call is atomic, as each of
Dramatiq's calls is. It leaves out the maintenance pass (requeueing dead workers' unacknowledged
messages) that Dramatiq's script runs on ``maintenance_chance`` calls in a million; every worker's
fetches run it at those odds. Any other broker (the in-process broker of the embedded mode,
another broker) gets ``broker.enqueue`` per message.

Written against dramatiq 2.2 (``dramatiq/brokers/redis.py``: ``enqueue`` and ``_dispatch``;
``dramatiq/brokers/redis/dispatch.lua``: the key layout; the version is pinned in
``constraints.txt``), and tested against a real Redis and worker.
"""

from __future__ import annotations

from collections.abc import Sequence
from uuid import uuid4

import dramatiq
from dramatiq.common import current_millis, dq_name

__all__ = ["enqueue_many"]

#: KEYS[1]: the broker's namespace. ARGV: a timestamp (ms), the sender's broker id, the queue's
#: name, then each message's Redis id and data. Dramatiq's ``dispatch.lua`` names the keys.
_ENQUEUE_BATCH = """
local namespace = KEYS[1]
redis.call("zadd", namespace .. ":__heartbeats__", ARGV[1], ARGV[2])
local queue = namespace .. ":" .. ARGV[3]
local messages = queue .. ".msgs"
for i = 4, #ARGV, 2 do
    redis.call("hset", messages, ARGV[i], ARGV[i + 1])
    redis.call("rpush", queue, ARGV[i])
end
return (#ARGV - 3) / 2
"""


def _knows(broker: object) -> bool:
    """Whether this Redis broker has the internals the batch relies on (a Dramatiq release other
    than the one pinned may not: then every message goes through ``broker.enqueue``)."""
    scripts = getattr(broker, "scripts", None)
    return (isinstance(scripts, dict) and "dispatch" in scripts
            and all(hasattr(broker, name) for name in ("client", "namespace", "broker_id")))


def enqueue_many(broker: dramatiq.Broker, messages: Sequence[tuple[dramatiq.Message[object], int | None]]
                 ) -> list[dramatiq.Message[object]]:
    """Enqueue ``messages`` (each with its delay in milliseconds, or None) and return them as enqueued.

    With a Redis broker, one script call per queue (in the order given within each queue);
    otherwise ``broker.enqueue`` for each.
    """
    from dramatiq.brokers.redis import RedisBroker

    if not messages:
        return []
    if not isinstance(broker, RedisBroker) or not _knows(broker):
        return [broker.enqueue(message, delay=delay) for message, delay in messages]
    prepared: list[tuple[dramatiq.Message[object], int | None]] = []
    by_queue: dict[str, list[str | bytes]] = {}
    for message, delay in messages:
        queue_name = message.queue_name
        message = message.copy(options={"redis_message_id": str(uuid4())})
        if delay is not None:
            queue_name = dq_name(queue_name)
            message = message.copy(queue_name=queue_name, options={"eta": current_millis() + delay})
        broker.emit_before("enqueue", message, delay)
        prepared.append((message, delay))
        by_queue.setdefault(queue_name, []).extend((message.options["redis_message_id"], message.encode()))
    store = broker.client.register_script(_ENQUEUE_BATCH)
    for queue_name, pairs in by_queue.items():
        store(keys=[broker.namespace], args=[current_millis(), broker.broker_id, queue_name, *pairs])
    for message, delay in prepared:
        broker.emit_after("enqueue", message, delay)
    return [message for message, _delay in prepared]
