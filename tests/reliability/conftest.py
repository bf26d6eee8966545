"""Fixtures of the crash and outage tests: private Redis and PostgreSQL servers they may stop."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from tests.conftest import _unavailable
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
