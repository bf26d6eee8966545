"""Leases: redis-py's Lock across processes, a process lock in embedded mode, one interface.

The dispatcher's leader election on top of them is tested in test_dispatcher.py.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import timedelta

import pytest
import redis

from syndicate.base.leases import LocalLease, ProcessLease, RedisLease, lease_for
from syndicate.ledger import Ledger
from syndicate.ledger.statestore import StateStore

MS = timedelta(milliseconds=1)


@pytest.fixture
def client(redis_url: str) -> Iterator[redis.Redis]:
    c = redis.Redis.from_url(redis_url)
    yield c
    c.close()


def test_a_redis_lease_stores_its_holder_in_the_key_and_keeps_others_out_until_released(
    client: redis.Redis, redis_namespace: str
) -> None:
    key = f"{redis_namespace}:section"
    a = lease_for(client, key, lease=timedelta(seconds=5))
    b = lease_for(client, key, lease=timedelta(seconds=5))
    assert isinstance(a, RedisLease) and isinstance(b, RedisLease)
    # Given a holds the lease / Then the key names a's process and expires within the lease
    assert a.acquire(100 * MS) and a.held
    assert client.get(key) == a.identity.encode() and 0 < client.pttl(key) <= 5000
    # And b waits in vain while a holds it
    assert not b.acquire(150 * MS) and not b.held
    # When a releases it / Then b gets it, and the key names b
    assert a.release() is True
    assert b.acquire(100 * MS) and b.holder() == b.identity
    assert b.release() and client.get(key) is None


def test_a_redis_lease_that_ran_out_under_its_holder_says_so_and_leaves_the_new_holder_alone(
    client: redis.Redis, redis_namespace: str
) -> None:
    key = f"{redis_namespace}:short"
    a = RedisLease(client, key, lease=100 * MS)
    b = RedisLease(client, key, lease=timedelta(seconds=5))
    # Given a's lease runs out while a still works, and b takes it
    assert a.acquire(100 * MS)
    assert b.acquire(timedelta(seconds=5))
    # When a is done / Then its release reports the lost lease, and b keeps the key
    assert a.release() is False
    assert b.holder() == b.identity
    # And a cannot renew a lease it lost
    assert not a.renew()
    b.release()


def test_a_renewed_redis_lease_gets_its_full_length_again(client: redis.Redis, redis_namespace: str) -> None:
    key = f"{redis_namespace}:renewed"
    a = RedisLease(client, key, lease=timedelta(seconds=10))
    assert a.step()
    client.pexpire(key, 500)  # as if most of the lease had passed
    # When the holder steps again / Then the lease is back to its length, still a's
    assert a.step() and client.pttl(key) > 5000 and a.holder() == a.identity
    a.release()


def test_a_lease_shorter_than_100_ms_is_refused(client: redis.Redis) -> None:
    with pytest.raises(ValueError, match="at least 100 ms"):
        RedisLease(client, "any", lease=50 * MS)


def test_without_redis_a_process_lease_keeps_other_threads_out_under_the_same_key() -> None:
    key = f"test-process-lease-{time.monotonic_ns()}"
    a = lease_for(None, key, lease=timedelta(seconds=5))
    b = lease_for(None, key, lease=timedelta(seconds=5))
    other = lease_for(None, f"{key}-other", lease=timedelta(seconds=5))
    assert isinstance(a, ProcessLease)
    # Given a holds it / Then b cannot take it (waiting or not), but another key is free
    assert a.acquire(10 * MS) and a.step()
    assert not b.acquire(50 * MS) and not b.step() and not b.held
    assert other.acquire(10 * MS) and other.release()
    # When a releases it / Then b takes it at its next step
    assert a.release() is True and not a.held
    assert b.step() and b.held
    b.release()


def test_the_embedded_dispatchers_lease_is_always_held() -> None:
    lease = LocalLease()
    assert lease.step() and lease.held and lease.acquire(0 * MS) and lease.release()
    assert lease.wait_hint() == timedelta(0)


def test_the_state_store_lock_serializes_threads_in_embedded_mode(sqlite_url: str) -> None:
    ledger = Ledger(sqlite_url)
    store = StateStore(ledger, lambda: None, "syndicate", f"acct-{time.monotonic_ns()}")
    inside: list[int] = []
    overlap: list[bool] = []

    def work(n: int) -> None:
        with store.lock("refresh", wait=timedelta(seconds=5)):
            overlap.append(bool(inside))
            inside.append(n)
            time.sleep(0.02)
            inside.remove(n)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    # Then no two threads were inside at once
    assert overlap == [False] * 4
    # And a lock held elsewhere is waited for, then refused with a TimeoutError naming it
    with store.lock("refresh"), pytest.raises(TimeoutError, match="'refresh'"), \
            store.lock("refresh", wait=50 * MS):
        pass  # pragma: no cover - never entered
    ledger.close()


def test_the_state_store_lock_is_a_redis_lease_named_for_the_account(
    client: redis.Redis, redis_namespace: str, sqlite_url: str
) -> None:
    ledger = Ledger(sqlite_url)
    store = StateStore(ledger, lambda: client, redis_namespace, "x-na")
    key = f"{redis_namespace}:lock:x-na:refresh"
    # While held, the key exists and names this process; after the block it is gone
    with store.lock("refresh", ttl=timedelta(seconds=5)):
        holder = client.get(key)
        assert holder is not None and holder.decode().split(":")[1].isdigit()
        other = StateStore(ledger, lambda: client, redis_namespace, "x-na")
        with pytest.raises(TimeoutError), other.lock("refresh", wait=100 * MS):
            pass  # pragma: no cover - never entered
    assert client.get(key) is None
    ledger.close()
