"""Fixtures of the crash and outage tests: private Redis and PostgreSQL servers they may stop, and
a RabbitMQ virtual host of their own that they may drop (the shared RabbitMQ server keeps running)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from urllib.parse import unquote, urlsplit

import pytest

from tests.conftest import BrokerUnderTest, _unavailable, rabbitmqctl
from tests.reliability.services import PrivatePostgres, PrivateRedis


@pytest.fixture
def private_redis() -> Iterator[PrivateRedis]:
    """A redis-server of this test alone, started; the test may stop and restart it."""
    try:
        server = PrivateRedis()
    except RuntimeError as exc:
        _unavailable(str(exc))
        raise
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def private_postgres() -> Iterator[PrivatePostgres]:
    """A PostgreSQL cluster of the reliability tests alone, running; a test may stop and restart it."""
    try:
        cluster = PrivatePostgres()
        cluster.start()
    except RuntimeError as exc:
        _unavailable(str(exc))
        raise
    yield cluster
    cluster.destroy()


@pytest.fixture
def private_pg_url(private_postgres: PrivatePostgres) -> str:
    """A fresh database on the private cluster (left to the cluster's removal)."""
    return private_postgres.create_database(f"crash_{uuid.uuid4().hex[:10]}")


@pytest.fixture(params=["redis", "rabbitmq"])
def broker(request: pytest.FixtureRequest) -> BrokerUnderTest:
    """Both brokers for the crash and outage tests: a private Redis, or RabbitMQ (a virtual host of
    this test) without Redis, where the ledger keeps the leases and caps."""
    ns = f"crash-{uuid.uuid4().hex[:8]}"
    if request.param == "redis":
        server: PrivateRedis = request.getfixturevalue("private_redis")
        return BrokerUnderTest("redis", server.url, ns)
    return BrokerUnderTest("rabbitmq", request.getfixturevalue("rabbitmq_url"), ns)


@pytest.fixture
def broker_outage(broker: BrokerUnderTest, request: pytest.FixtureRequest) -> Callable[[float], None]:
    """``broker_outage(down_s)``: the broker dies, losing every queued and unacknowledged message and
    every connection, and comes back empty ``down_s`` seconds later. Redis: the private server is
    killed and started again. RabbitMQ: the test's virtual host is deleted (its queues and
    connections with it) and made again."""
    if broker.kind == "redis":
        server: PrivateRedis = request.getfixturevalue("private_redis")

        def restart_redis(down_s: float) -> None:
            server.stop()
            time.sleep(down_s)
            server.start()

        return restart_redis
    parts = urlsplit(broker.url)
    vhost, user = unquote(parts.path[1:]), parts.username or "guest"

    def restart_vhost(down_s: float) -> None:
        rabbitmqctl("delete_vhost", vhost)
        time.sleep(down_s)
        rabbitmqctl("add_vhost", vhost)
        rabbitmqctl("set_permissions", "-p", vhost, user, ".*", ".*", ".*")

    return restart_vhost
