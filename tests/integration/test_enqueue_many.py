"""Many messages sent in one script call per queue (``syndicate.base.enqueue.enqueue_many``) are
stored as Dramatiq's own ``enqueue`` stores them: a real worker on a real Redis processes each once,
the delayed ones not before their time, and the broker's enqueue hooks run for each."""

from __future__ import annotations

import threading
import time
from typing import Any

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import Middleware

from syndicate.base.enqueue import enqueue_many


class Enqueues(Middleware):
    """Records what the broker's enqueue hooks saw."""

    def __init__(self) -> None:
        self.before: list[str] = []
        self.after: list[tuple[str, int | None]] = []

    def before_enqueue(self, broker: Any, message: Any, delay: Any) -> None:
        self.before.append(message.message_id)

    def after_enqueue(self, broker: Any, message: Any, delay: Any) -> None:
        self.after.append((message.message_id, delay))


def test_a_batch_sent_in_one_call_per_queue_is_processed_once_each_and_delays_hold(redis_url: str,
                                                                            redis_namespace: str) -> None:
    # Given a Redis broker with an actor that notes when each message ran
    broker = RedisBroker(url=redis_url, namespace=redis_namespace)
    hooks = Enqueues()
    broker.add_middleware(hooks)
    ran: dict[int, float] = {}
    seen: list[int] = []
    lock = threading.Lock()

    @dramatiq.actor(broker=broker, queue_name="batch", actor_name="note")
    def note(n: int) -> None:
        with lock:
            seen.append(n)
            ran[n] = time.monotonic()

    # When 200 messages are sent in one batch, every tenth delayed by 1.5 s
    sent_at = time.monotonic()
    batch = [(note.message(n), 1500 if n % 10 == 0 else None) for n in range(200)]
    out = enqueue_many(broker, batch)
    hooked_before, hooked_after = list(hooks.before), list(hooks.after)  # the worker enqueues the delayed again
    # Then the keys hold what Dramatiq's enqueue writes: the ids in order at the tail of each queue's
    # list, their data in its hash, and the sender's heartbeat
    client, ns = broker.client, redis_namespace
    for queue, sent in (("batch", [m for m in out if "eta" not in m.options]),
                        ("batch.DQ", [m for m in out if "eta" in m.options])):
        ids = [m.options["redis_message_id"] for m in sent]
        assert [i.decode() for i in client.lrange(f"{ns}:{queue}", 0, -1)] == ids
        assert [dramatiq.Message.decode(d).message_id for d in client.hmget(f"{ns}:{queue}.msgs", ids)] == [
            m.message_id for m in sent]
    assert client.zscore(f"{ns}:__heartbeats__", broker.broker_id) is not None
    worker = dramatiq.Worker(broker, worker_threads=4, worker_timeout=50)
    worker.start()
    try:
        deadline = time.monotonic() + 30
        while len(seen) < 200 and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)  # a duplicate would arrive now
    finally:
        worker.stop()
        broker.close()
    # Then each ran exactly once
    assert sorted(seen) == list(range(200))
    # And no delayed one ran before its delay
    assert all(ran[n] - sent_at >= 1.5 for n in range(0, 200, 10))
    # And the enqueued copies carry Redis ids, the delayed ones their delay queue and eta
    assert len({m.options["redis_message_id"] for m in out}) == 200
    assert all(m.queue_name == "batch.DQ" and "eta" in m.options for m in out[::10])
    assert all(m.queue_name == "batch" and "eta" not in m.options for m in out[1:10])
    # And the broker's enqueue hooks ran once per message, with its delay
    assert len(hooked_before) == 200 and sorted(hooked_after, key=lambda x: x[0]) == sorted(
        ((m.message_id, d) for (m, d) in batch), key=lambda x: x[0])


def test_another_broker_gets_one_enqueue_per_message() -> None:
    # Given the in-process broker of the embedded mode
    broker = StubBroker()

    @dramatiq.actor(broker=broker, queue_name="batch", actor_name="note")
    def note(n: int) -> None:
        pass

    # When a batch is sent / Then each message is on its queue (delayed ones on the delay queue)
    enqueue_many(broker, [(note.message(1), None), (note.message(2), 1000), (note.message(3), None)])
    assert broker.queues["batch"].qsize() == 2 and broker.queues["batch.DQ"].qsize() == 1
    assert enqueue_many(broker, []) == []


def test_a_redis_broker_without_the_internals_the_batch_relies_on_gets_one_enqueue_each(
        redis_url: str, redis_namespace: str) -> None:
    # Given a Redis broker of a Dramatiq release without the broker id the batch's script writes
    sent: list[tuple[Any, Any]] = []

    class OtherRelease(RedisBroker):
        @property
        def broker_id(self) -> Any:
            raise AttributeError("not in this release")

        @broker_id.setter
        def broker_id(self, value: Any) -> None:
            pass

        def enqueue(self, message: Any, *, delay: Any = None) -> Any:
            sent.append((message.args, delay))
            return message

    broker = OtherRelease(url=redis_url, namespace=redis_namespace)

    @dramatiq.actor(broker=broker, queue_name="fallback", actor_name="noop")
    def noop(n: int) -> None:
        pass

    # When a batch is sent / Then each message goes through the broker's own enqueue
    enqueue_many(broker, [(noop.message(0), None), (noop.message(1), 500)])
    assert sent == [((0,), None), ((1,), 500)]
