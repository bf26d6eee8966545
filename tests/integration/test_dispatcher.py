"""The dispatcher: one leader at a time, no row enqueued twice, handover when the leader dies."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import redis

from syndicate import Runtime, submit
from syndicate.base.leases import RedisLease
from syndicate.localization.step import do_localize
from syndicate.publishing.dispatcher import Dispatcher, leader_key
from syndicate.publishing.steps import do_publish
from tests.helpers import REPO, item_data, sandbox_accounts, simple_route

LOCALES = ["en-US", "en-GB", "en-CA", "en-AU", "en-NZ"]


@pytest.fixture
def cfg(config_dir: Callable[..., Path]) -> Path:
    return config_dir(accounts=sandbox_accounts("a", "b", "c", "d"),
                      routes=[simple_route("r", LOCALES, ["a", "b", "c", "d"])])


def ready_items(rt: Runtime, count: int, *, prefix: str = "item") -> list[int]:
    """Submit ``count`` items due now and localize them: 20 ready publications each."""
    ids: list[int] = []
    for n in range(count):
        sub = submit(item_data(id=f"{prefix}-{n}"), runtime=rt, ignore_schedule=True)
        for loc in rt.ledger.mark_localizations_requested(sub.item_id, sub.revision):
            do_localize(rt, sub.item_id, sub.revision, loc)
        ids += [p.id for p in sub.publications]
    return ids


def enqueued_events(rt: Runtime, ids: list[int]) -> Counter[int]:
    return Counter(e["publication_id"] for pid in ids for e in rt.ledger.events(publication_id=pid)
                   if e["kind"] == "enqueued")


def queued_messages(redis_url: str, namespace: str) -> Counter[int]:
    """Publish messages waiting in the Redis broker, by publication id."""
    client = redis.Redis.from_url(redis_url)
    out: Counter[int] = Counter()
    for queue in ("syndicate.publish", "syndicate.publish.DQ"):
        for raw in client.hvals(f"{namespace}:{queue}.msgs"):
            out[json.loads(raw)["args"][0]] += 1
    client.close()
    return out


def test_many_dispatchers_ticking_at_once_on_postgresql_enqueue_each_row_once(
    cfg: Path, pg_url: str, redis_url: str, redis_namespace: str
) -> None:
    # Given 200 ready, due publications and four dispatchers (no leadership) on one ledger and broker
    with ExitStack() as stack:
        rts = [stack.enter_context(Runtime.create(config=cfg, database_url=pg_url, redis_url=redis_url,
                                                  namespace=redis_namespace)) for _ in range(4)]
        ids = ready_items(rts[0], 10)
        dispatchers = [Dispatcher(rt, name=f"d{i}") for i, rt in enumerate(rts)]
        barrier = threading.Barrier(len(dispatchers))
        taken: Counter[str] = Counter()

        def race(d: Dispatcher) -> None:
            barrier.wait()
            for _ in range(5):
                taken[d.name] += d.tick().enqueued

        # When they all tick at the same moment, several times
        threads = [threading.Thread(target=race, args=(d,)) for d in dispatchers]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        # Then every publication was enqueued exactly once: one event each, one message each
        assert enqueued_events(rts[0], ids) == Counter({pid: 1 for pid in ids})
        assert queued_messages(redis_url, redis_namespace) == Counter({pid: 1 for pid in ids})
        assert sum(taken.values()) == len(ids)


def test_two_dispatchers_on_redis_elect_one_leader_and_it_alone_enqueues(
    cfg: Path, pg_url: str, redis_url: str, redis_namespace: str
) -> None:
    # Given two dispatchers in two runtimes sharing Redis and PostgreSQL
    with ExitStack() as stack:
        rts = [stack.enter_context(Runtime.create(config=cfg, database_url=pg_url, redis_url=redis_url,
                                                  namespace=redis_namespace)) for _ in range(2)]
        dispatchers = [Dispatcher(rt, lease_length=timedelta(seconds=2)) for rt in rts]
        for d in dispatchers:
            d.start(timedelta(milliseconds=100))
        try:
            # When publications come due while both run
            ids = ready_items(rts[0], 5)
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and sum(enqueued_events(rts[0], ids).values()) < len(ids):
                time.sleep(0.1)
        finally:
            for d in dispatchers:
                d.stop()
        # Then each row was enqueued once, all by the one dispatcher that led, and only one ever led
        events = [e for pid in ids for e in rts[0].ledger.events(publication_id=pid) if e["kind"] == "enqueued"]
        assert Counter(e["publication_id"] for e in events) == Counter({pid: 1 for pid in ids})
        leaders = [e["actor"] for e in rts[0].ledger.events() if e["kind"] == "dispatcher.leader"]
        assert len(leaders) == 1 and {e["actor"] for e in events} == set(leaders)
        assert sum(d.leading for d in dispatchers) == 0  # both stopped; the leader released its lease
        assert queued_messages(redis_url, redis_namespace) == Counter({pid: 1 for pid in ids})


def test_a_lease_is_held_by_one_party_renewed_only_by_it_and_free_once_released(
    redis_url: str, redis_namespace: str
) -> None:
    client = redis.Redis.from_url(redis_url)
    a = RedisLease(client, f"{redis_namespace}:lease", lease=timedelta(seconds=5))
    b = RedisLease(client, f"{redis_namespace}:lease", lease=timedelta(seconds=5))
    # Given a holds the lease / Then b cannot take it, and a can renew it
    assert a.step() and not b.step() and a.step()
    assert a.holder() == a.identity and timedelta(seconds=4) < b.wait_hint() <= timedelta(seconds=5)
    # When a releases it / Then b takes it at its next step, and a cannot renew b's lease
    a.release()
    assert b.step() and not a.renew() and b.holder() == b.identity
    client.close()


def _scheduler(cfg: Path, env: dict[str, str], lines: list[str]) -> subprocess.Popen[str]:
    proc = subprocess.Popen([sys.executable, "-m", "syndicate", "scheduler", "--config", str(cfg), "--lease", "3s",
                             "--interval", "1s"], cwd=REPO, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)

    def read() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            lines.append(line)

    threading.Thread(target=read, daemon=True).start()
    return proc


def _wait(check: Callable[[], Any], timeout_s: float = 30) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.01)
    raise AssertionError(f"timed out after {timeout_s} s")


def test_killing_the_leader_hands_over_within_one_lease(
    cfg: Path, pg_url: str, redis_url: str, redis_namespace: str
) -> None:
    # Given two `syndicate scheduler` processes with a 3-second lease, one leading, one standing by
    with Runtime.create(config=cfg, database_url=pg_url, redis_url=redis_url, namespace=redis_namespace) as rt:
        env = {**os.environ, "SYNDICATE_DATABASE_URL": pg_url, "SYNDICATE_REDIS_URL": redis_url,
               "SYNDICATE_REDIS_NAMESPACE": redis_namespace, "SYNDICATE_LOG_FORMAT": "json"}
        client = redis.Redis.from_url(redis_url)
        key = leader_key(redis_namespace)

        def holder_pid() -> int | None:
            value = client.get(key)
            return int(value.decode().split(":")[1]) if value else None

        logs: dict[int, list[str]] = {}
        procs = {}
        for _ in range(2):
            lines: list[str] = []
            p = _scheduler(cfg, env, lines)
            procs[p.pid], logs[p.pid] = p, lines
        try:
            leader = _wait(holder_pid)
            [standby] = [pid for pid in procs if pid != leader]
            _wait(lambda: any("dispatcher.started" in line for line in logs[standby]))
            # When the leader is killed without a chance to release its lease
            procs[leader].send_signal(signal.SIGKILL)
            killed_at = time.monotonic()
            _wait(lambda: holder_pid() == standby)
            handover_s = time.monotonic() - killed_at
            # Then the standby leads within one lease (3 s; 0.5 s allowed for process scheduling on a busy host)
            assert handover_s <= 3.5, f"handover took {handover_s:.2f} s"
            # And it dispatches: a publication that comes due now is enqueued by the new leader
            [pid, *_] = ready_items(rt, 1, prefix="after")
            _wait(lambda: enqueued_events(rt, [pid]))
            [event] = [e for e in rt.ledger.events(publication_id=pid) if e["kind"] == "enqueued"]
            assert f":{standby}:" in event["actor"]
        finally:
            for p in procs.values():
                if p.poll() is None:
                    p.send_signal(signal.SIGTERM)
            codes = {pid: p.wait(timeout=30) for pid, p in procs.items()}
        # And a clean stop releases the lease at once
        assert codes[standby] == 0 and client.get(key) is None
        client.close()


def test_an_early_message_is_sent_again_for_the_due_time_and_nothing_goes_out_early(
    cfg: Path, sqlite_url: str, outbox: Path
) -> None:
    # Given a publication due in 3 s, taken by the dispatcher ahead of time (its horizon is 5 s)
    with Runtime.create(config=cfg, database_url=sqlite_url, redis_url="") as rt:
        sub = submit(item_data(locales=["en-US"], channels=["a"],
                               publish_at=(datetime.now(UTC) + timedelta(seconds=3)).isoformat()), runtime=rt)
        for loc in rt.ledger.mark_localizations_requested(sub.item_id, sub.revision):
            do_localize(rt, sub.item_id, sub.revision, loc)
        Dispatcher(rt).tick()
        [pub] = rt.ledger.publications(item_id="item-1")
        assert pub.state == "enqueued"
        # Then its message waits in the delay queue until at least the planned time
        [queued] = [m for m in rt.broker.queues["syndicate.publish.DQ"].queue]  # type: ignore[attr-defined]
        assert json.loads(queued)["options"]["eta"] >= pub.scheduled_for.timestamp() * 1000
        # When a stray message arrives now, before the planned time
        assert do_publish(rt, pub.id) == "early"
        # Then nothing was posted, the row still waits, and one more delayed message is queued for it
        row = rt.ledger.publication(pub.id)
        assert row is not None and row.state == "enqueued" and row.attempts == 0
        assert list(outbox.rglob("*.txt")) == []
        assert rt.broker.queues["syndicate.publish.DQ"].qsize() == 2  # type: ignore[attr-defined]
