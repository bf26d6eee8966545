"""The ledger's PostgreSQL pool: reads in autocommit, pings only for connections that sat idle.

These changes make a read one round trip (no pre-ping, no ROLLBACK); the tests check that they
keep what the old pool gave: dead connections are replaced, a failed statement does not poison the
pool, no transaction is left open, and a transaction after a read is still a transaction.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import psycopg
import pytest
from sqlalchemy import insert, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from syndicate.ledger import Ledger
from syndicate.ledger.schema import events


def _admin(pg_server: str) -> str:
    return pg_server.replace("postgresql+psycopg://", "postgresql://")


def _terminate_sessions(pg_server: str, pg_url: str) -> int:
    """End every session on the test database, as a server restart would."""
    name = make_url(pg_url).database
    with psycopg.connect(_admin(pg_server), autocommit=True) as conn:
        rows = conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s "
                            "AND pid <> pg_backend_pid()", (name,)).fetchall()
    return len(rows)


def _session_states(pg_server: str, pg_url: str) -> list[str]:
    name = make_url(pg_url).database
    with psycopg.connect(_admin(pg_server), autocommit=True) as conn:
        return [r[0] for r in conn.execute("SELECT state FROM pg_stat_activity WHERE datname = %s "
                                           "AND pid <> pg_backend_pid()", (name,)).fetchall()]


@pytest.fixture
def ledger_for(pg_url: str) -> Iterator[list[Ledger]]:
    made: list[Ledger] = []
    yield made
    for led in made:
        led.close()


def _ledger(made: list[Ledger], pg_url: str, ping_after_idle: timedelta) -> Ledger:
    led = Ledger(pg_url, ping_after_idle=ping_after_idle)
    led.migrate()
    made.append(led)
    return led


def test_a_pooled_connection_closed_while_idle_is_replaced_before_use(
    pg_server: str, pg_url: str, ledger_for: list[Ledger]
) -> None:
    # Given a ledger whose pooled connection sat idle (every idle connection is pinged)
    led = _ledger(ledger_for, pg_url, timedelta(0))
    assert led.publication(1) is None
    # When the server ends the session while the connection waits in the pool
    assert _terminate_sessions(pg_server, pg_url) >= 1
    # Then the next read and the next write succeed on a fresh connection
    assert led.publication(1) is None
    led.record_event("test.after-restart", actor="test")
    assert [e["kind"] for e in led.events()] == ["test.after-restart"]


def test_a_connection_closed_right_after_use_fails_one_statement_and_the_pool_recovers(
    pg_server: str, pg_url: str, ledger_for: list[Ledger]
) -> None:
    # Given a ledger that never pings (as for a connection used moments ago)
    led = _ledger(ledger_for, pg_url, timedelta(hours=1))
    assert led.publication(1) is None
    # When the server ends the session before the next checkout
    _terminate_sessions(pg_server, pg_url)
    # Then that statement fails, and the next ones run on fresh connections
    with pytest.raises(OperationalError):
        led.publication(1)
    assert led.publication(1) is None
    led.record_event("test.recovered", actor="test")
    assert [e["kind"] for e in led.events()] == ["test.recovered"]


def test_reads_leave_no_transaction_open_on_the_server(
    pg_server: str, pg_url: str, ledger_for: list[Ledger]
) -> None:
    # Given a ledger
    led = _ledger(ledger_for, pg_url, timedelta(seconds=1))
    # When it reads
    led.publication(1)
    led.count_by_state()
    led.events()
    # Then its pooled sessions are idle, not idle in a transaction
    states = _session_states(pg_server, pg_url)
    assert states and all(s == "idle" for s in states), states


def test_a_transaction_after_a_read_on_the_same_connection_still_rolls_back(
    pg_url: str, ledger_for: list[Ledger]
) -> None:
    # Given a ledger whose one pooled connection just served an autocommit read
    led = _ledger(ledger_for, pg_url, timedelta(seconds=1))
    led.count_by_state()
    # When a transaction on it writes and then fails
    with pytest.raises(RuntimeError), led.begin() as conn:
        conn.execute(insert(events).values(at=led.now(), kind="test.rolled-back", actor="test"))
        raise RuntimeError("fail after the write")
    # Then nothing of it was kept
    with led.begin() as conn:
        assert conn.execute(select(events.c.kind)).scalars().all() == []
