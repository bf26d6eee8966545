"""Dead letters: a publish message that keeps failing on infrastructure ends as a ``failed`` row.

The infrastructure fault is real: the test's PostgreSQL database stops accepting connections
(``ALTER DATABASE ... ALLOW_CONNECTIONS false`` and its sessions ended), which only this test's
database notices; the server and every other database keep running.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from dramatiq import Worker
from sqlalchemy.engine import make_url

from syndicate import replay
from syndicate.publishing.steps import do_publish
from tests.fakes.board import FakeBoard
from tests.reliability.support import board_runtime, enqueued


@pytest.fixture
def board() -> Iterator[FakeBoard]:
    with FakeBoard() as b:
        yield b


@contextmanager
def database_refusing_connections(pg_server: str, pg_url: str) -> Iterator[Callable[[], None]]:
    """Close the test database to new connections and end its sessions; yields a function that reopens it."""
    admin = pg_server.replace("postgresql+psycopg://", "postgresql://")
    name = make_url(pg_url).database
    opened = False

    def reopen() -> None:
        nonlocal opened
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
        opened = True

    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
        conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s "
                     "AND pid <> pg_backend_pid()", (name,))
    try:
        yield reopen
    finally:
        if not opened:
            reopen()


def wait_for(check: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def test_a_publish_message_that_keeps_failing_on_the_ledger_ends_failed_with_its_last_error(
    config_dir: Callable[..., Path], board: FakeBoard, pg_server: str, pg_url: str
) -> None:
    # Given an enqueued publication and a running worker
    with board_runtime(config_dir, board, pg_url) as rt:
        [pid] = enqueued(rt)
        worker = Worker(rt.broker, worker_threads=2, worker_timeout=50)
        worker.start()
        try:
            with database_refusing_connections(pg_server, pg_url) as reopen:
                # When its publish message fails on every delivery because the ledger is unreachable
                rt.actors.publish.send_with_options(args=(pid,), max_retries=2, min_backoff=20, max_backoff=50)
                wait_for(lambda: bool(rt.broker.dead_letters), 20, "the message to be dead-lettered")
                # And the ledger comes back (the exhausted handler retries until it can write)
                reopen()
                wait_for(lambda: (p := rt.ledger.publication(pid)) is not None and p.state == "failed", 30,
                         "the row to be failed")
        finally:
            worker.stop()
        # Then the row is failed with the number of attempts and the last error, and an event says why
        pub = rt.ledger.publication(pid)
        assert pub is not None and pub.state == "failed"
        assert pub.last_error is not None
        assert pub.last_error.startswith("worker failed 3 times processing the publish message; last: ")
        assert "OperationalError" in pub.last_error, pub.last_error
        assert [e["kind"] for e in rt.ledger.events(publication_id=pid)][-1] == "retries-exhausted"
        assert board.posts == []
        # And an operator's replay publishes it exactly once
        assert [p.id for p in replay(runtime=rt, by="ops", item="item-1").replayed] == [pid]
        assert do_publish(rt, pid) == "published"
        assert len(board.posts) == 1
