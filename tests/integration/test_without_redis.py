"""RabbitMQ without Redis: the ledger keeps the leases, the post caps, the translation cache and the
adapters' locks, with the guarantees the Redis versions give (one holder, expiry, atomic caps)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from syndicate import Runtime
from syndicate.base.leases import RedisLease
from syndicate.channels.contract import RateWindow
from syndicate.errors import BrokerError
from syndicate.ledger import Ledger
from syndicate.ledger.leases import LedgerLease
from syndicate.ledger.ratewindows import LedgerRateLimiter
from syndicate.ledger.statestore import StateStore
from syndicate.localization.cache import LedgerCache, translation_cache
from syndicate.operations.health import Readiness, broker_check
from syndicate.operations.metrics import BrokerCollector
from syndicate.publishing.dispatcher import Dispatcher
from syndicate.publishing.ratelimit import LocalRateLimiter
from tests.helpers import free_port

MS = timedelta(milliseconds=1)


def test_a_ledger_lease_has_one_holder_runs_out_and_is_taken_over(ledger_url: str) -> None:
    with Ledger(ledger_url) as ledger:
        ledger.migrate()
        # Given two parties wanting the same short lease
        a = LedgerLease(ledger, "k", lease=300 * MS)
        b = LedgerLease(ledger, "k", lease=timedelta(seconds=5))
        # When the first takes it / Then the second cannot, and sees who holds it and for how long
        assert (a.step(), b.step()) == (True, False)
        assert b.holder() == a.identity
        assert timedelta(0) < b.wait_hint() <= 300 * MS
        assert a.step() is True  # renewed while held
        # When the first stops renewing past its lease / Then the second takes over and the first knows
        time.sleep(0.5)
        assert b.holder() is None
        assert b.step() is True
        assert a.step() is False
        assert a.release() is False  # it had run out: the work under it took too long
        assert b.holder() == b.identity
        # When the holder releases / Then the other takes it at once, without waiting for expiry
        assert b.release() is True
        assert a.acquire(timedelta(seconds=1)) is True


def test_a_ledger_lease_is_held_by_one_of_many_contenders_on_postgresql(pg_url: str) -> None:
    # Given two processes' ledgers and eight threads contending for one lease at the same moment
    with Ledger(pg_url) as l1, Ledger(pg_url) as l2:
        l1.migrate()
        leases = [LedgerLease(led, "leader", lease=timedelta(seconds=10)) for led in (l1, l2) for _ in range(4)]
        barrier = threading.Barrier(len(leases))
        results: list[bool] = []
        lock = threading.Lock()

        def contend(lease: LedgerLease) -> None:
            barrier.wait()
            got = lease.step()
            with lock:
                results.append(got)

        threads = [threading.Thread(target=contend, args=(lease,)) for lease in leases]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        # Then exactly one holds it, and every other one sees that one as the holder
        assert sorted(results) == [False] * 7 + [True]
        winner = next(lease for lease in leases if lease.held)
        assert {lease.holder() for lease in leases} == {winner.identity}


def test_ledger_post_caps_grant_exactly_the_cap_to_racing_workers_on_postgresql(pg_url: str) -> None:
    # Given a cap of 5 posts per hour and two workers' limiters on one ledger
    with Ledger(pg_url) as l1, Ledger(pg_url) as l2:
        l1.migrate()
        limiters = [LedgerRateLimiter(l1), LedgerRateLimiter(l2)]
        windows = [RateWindow(5, timedelta(hours=1)), RateWindow(50, timedelta(days=1))]
        now = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
        barrier = threading.Barrier(16)
        answers: list[datetime | None] = []
        lock = threading.Lock()

        def take(limiter: LedgerRateLimiter, i: int) -> None:
            barrier.wait()
            got = limiter.acquire("acct", windows, now=now + i * MS)
            with lock:
                answers.append(got)

        # When sixteen threads ask for a slot at once
        threads = [threading.Thread(target=take, args=(limiters[i % 2], i)) for i in range(16)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        # Then five are granted, and each refusal says when the hour of the oldest grant ends
        granted = [a for a in answers if a is None]
        refused = [a for a in answers if a is not None]
        assert len(granted) == 5 and len(refused) == 11
        assert all(now + timedelta(hours=1) <= a <= now + timedelta(hours=1) + 16 * MS for a in refused)
        # And another account is not affected
        assert limiters[0].acquire("other", windows, now=now) is None


def test_ledger_post_caps_answer_as_the_in_memory_log_does(ledger_url: str) -> None:
    # Given the ledger's limiter and the in-memory one, with two caps
    windows = [RateWindow(3, timedelta(minutes=1)), RateWindow(5, timedelta(minutes=10))]
    start = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
    with Ledger(ledger_url) as ledger:
        ledger.migrate()
        shared, local = LedgerRateLimiter(ledger), LocalRateLimiter()
        # When both are asked the same requests, spread over a quarter of an hour
        ours, theirs = [], []
        for s in (0, 5, 10, 20, 61, 62, 70, 130, 200, 400, 601, 605, 660, 900):
            at = start + timedelta(seconds=s)
            ours.append(shared.acquire("acct", windows, now=at))
            theirs.append(local.acquire("acct", windows, now=at))
        # Then they grant and refuse alike, with the same times a slot frees
        assert ours == theirs
        assert ours.count(None) >= 5 and any(a is not None for a in ours)


def test_a_runtime_on_rabbitmq_without_redis_keeps_shared_state_in_the_ledger(
    config_dir: Callable[..., Path], pg_url: str, rabbitmq_url: str
) -> None:
    # Given two runtimes (two worker processes) on RabbitMQ and one PostgreSQL ledger, no Redis
    cfg = config_dir()
    with (Runtime.create(config=cfg, database_url=pg_url, broker_url=rabbitmq_url, redis_url=None, environ={}) as r1,
          Runtime.create(config=cfg, database_url=pg_url, broker_url=rabbitmq_url, redis_url=None, environ={}) as r2):
        # Then each piece that needs sharing is the ledger's
        assert (r1.broker_kind, r1.embedded, r1.redis()) == ("rabbitmq", False, None)
        assert isinstance(r1.lease("x", length=timedelta(seconds=5)), LedgerLease)
        assert isinstance(r1.rate_limiter(), LedgerRateLimiter)
        assert isinstance(translation_cache(r1.redis(), r1.namespace, r1.ledger), LedgerCache)
        # And their dispatchers elect one leader through the ledger; it hands over when it stops
        d1, d2 = Dispatcher(r1), Dispatcher(r2)
        assert isinstance(d1.lease, LedgerLease)
        assert (d1.lease.step(), d2.lease.step()) == (True, False)
        assert d1.lease.release() is True
        assert d2.lease.step() is True
        # And a translation cached by one worker is found by the other
        cache1 = translation_cache(r1.redis(), r1.namespace, r1.ledger)
        cache1.put_many({"k1": "Hallo"})
        assert translation_cache(r2.redis(), r2.namespace, r2.ledger).get_many(["k1", "k2"]) == {"k1": "Hallo"}


def test_an_accounts_lock_serializes_two_workers_through_the_ledger(
    config_dir: Callable[..., Path], pg_url: str, rabbitmq_url: str
) -> None:
    # Given two workers on RabbitMQ without Redis, each with the state store of account x-main
    cfg = config_dir()
    with (Runtime.create(config=cfg, database_url=pg_url, broker_url=rabbitmq_url, redis_url=None, environ={}) as r1,
          Runtime.create(config=cfg, database_url=pg_url, broker_url=rabbitmq_url, redis_url=None, environ={}) as r2):
        s1 = StateStore(r1.ledger, r1.redis, r1.namespace, "x-main", leases=r1.lease)
        s2 = StateStore(r2.ledger, r2.redis, r2.namespace, "x-main", leases=r2.lease)
        # When the first holds the OAuth refresh lock
        with s1.lock("oauth-refresh"):
            # Then the second cannot take it meanwhile
            with pytest.raises(TimeoutError, match="oauth-refresh"), s2.lock("oauth-refresh", wait=200 * MS):
                pass
            # And another account's lock is free
            with StateStore(r2.ledger, r2.redis, r2.namespace, "x-other", leases=r2.lease).lock("oauth-refresh"):
                pass
        # When the first let go / Then the second takes it at once
        with s2.lock("oauth-refresh", wait=200 * MS):
            pass


def test_with_redis_too_the_runtime_keeps_shared_state_in_redis(
    config_dir: Callable[..., Path], pg_url: str, rabbitmq_url: str, redis_url: str, redis_namespace: str
) -> None:
    # Given RabbitMQ as the broker and a Redis URL as well
    with Runtime.create(config=config_dir(), database_url=pg_url, broker_url=rabbitmq_url, redis_url=redis_url,
                        namespace=redis_namespace, environ={}) as rt:
        # Then the broker is RabbitMQ and the leases are Redis's
        assert rt.broker_kind == "rabbitmq"
        assert isinstance(rt.lease(f"{redis_namespace}:x", length=timedelta(seconds=5)), RedisLease)


def test_an_unreachable_rabbitmq_is_named_without_its_password(config_dir: Callable[..., Path], tmp_path: Path
                                                                ) -> None:
    # Given a RabbitMQ URL where nothing listens, with a password
    port = free_port()
    url = f"amqp://syndicate:s3cret-pass@127.0.0.1:{port}/prod"
    # When a runtime is built on it / Then it refuses, naming the URL without the password
    with pytest.raises(BrokerError) as caught:
        Runtime.create(config=config_dir(), database_url=f"sqlite:///{tmp_path / 'l.db'}", broker_url=url,
                       environ={})
    message = str(caught.value)
    assert f"RabbitMQ is not reachable at amqp://syndicate:***@127.0.0.1:{port}/prod" in message
    assert "s3cret-pass" not in message
    # And the readiness check fails the same way
    [result] = Readiness([broker_check(url)]).run()
    assert not result.ok and f"127.0.0.1:{port}" in result.detail and "s3cret-pass" not in result.detail


def test_rabbitmq_readiness_and_queue_depths(
    config_dir: Callable[..., Path], tmp_path: Path, rabbitmq_url: str
) -> None:
    # Given a runtime on RabbitMQ, one publish message waiting and one delayed
    with Runtime.create(config=config_dir(), database_url=f"sqlite:///{tmp_path / 'l.db'}", broker_url=rabbitmq_url,
                        environ={}) as rt:
        rt.actors.publish.send(1)
        rt.actors.publish.send_with_options(args=(2,), delay=600_000)
        # Then the broker is ready and the queue depths count them
        [result] = Readiness([broker_check(rabbitmq_url)]).run()
        assert result.ok and "rabbitmq" in result.detail
        collector = BrokerCollector(["syndicate.publish", "syndicate.intake"], amqp_url=rabbitmq_url)
        families = {f.name: f for f in collector.collect()}
        assert [s.value for s in families["syndicate_broker_up"].samples] == [1]
        depths = {(s.labels["queue"], s.labels["kind"]): s.value for s in families["syndicate_queue_messages"].samples}
        assert depths[("syndicate.publish", "ready")] == 1
        assert depths[("syndicate.publish", "delayed")] == 1
        assert depths[("syndicate.intake", "ready")] == 0
