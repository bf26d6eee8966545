"""Crash and outage tests: workers killed with SIGKILL, the broker restarted, PostgreSQL stopped, mid-run.

Real worker processes (``tests/support/run_worker.py``: ``syndicate worker`` with the board
adapter, dispatcher included) publish 120 publications to a board fake slowed down to widen the
windows, on a PostgreSQL cluster private to these tests and on each broker (the ``broker``
fixture): a private Redis server, or RabbitMQ on a virtual host of the test without any Redis (the
ledger keeps the leader lease and the caps). The machine's shared servers are never stopped.
Afterwards every publication is terminal and the board holds exactly one post per published row
and none for the others.

The crash runs use short leases (``FAST``: time limit 3 s, claim lease 5 s, heartbeat 2 s) so that
each recovery takes seconds; the redelivery measurement uses the shipped defaults.
"""

from __future__ import annotations

import os
import random
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

from syndicate import Runtime, submit
from tests.conftest import BrokerUnderTest
from tests.fakes.board import FakeBoard
from tests.helpers import item_data
from tests.reliability.cluster import Cluster, check_exactly_once, owned_by, wait_until
from tests.reliability.services import PrivatePostgres
from tests.reliability.support import board_config

pytestmark = pytest.mark.slow

ACCOUNTS = ("b1", "b2", "b3", "b4")
ITEMS = 30  # x 4 accounts = 120 publications
#: Short leases for the crash runs (the measurement below uses the defaults).
FAST: dict[str, Any] = {"worker": {"publish_time_limit": "3s", "claim_lease": "5s", "heartbeat_timeout": "2s",
                                   "resend_after": "5s", "retry_min_backoff": "1s", "retry_max_backoff": "4s"}}


def seeded() -> random.Random:
    seed = int(os.environ.get("SYNDICATE_CRASH_SEED") or random.SystemRandom().randrange(2**32))
    print(f"crash test seed: {seed} (SYNDICATE_CRASH_SEED={seed} repeats it)")
    return random.Random(seed)


@pytest.fixture
def board() -> Iterator[FakeBoard]:
    with FakeBoard(delay_s=0.4) as b:
        yield b


@pytest.fixture
def setup(config_dir: Callable[..., Path], board: FakeBoard, broker: BrokerUnderTest, private_pg_url: str,
          tmp_path: Path) -> Iterator[Callable[..., tuple[Runtime, Cluster]]]:
    with ExitStack() as made:  # on exit, each cluster stops before its runtime closes

        def build(*, settings: dict[str, Any] | None = None, accounts: tuple[str, ...] = ACCOUNTS, threads: int = 2,
                  read_timeout_s: float = 1.5) -> tuple[Runtime, Cluster]:
            cfg = board_config(config_dir, board, accounts=accounts, settings=settings, read_timeout_s=read_timeout_s)
            ns = f"{broker.namespace}-{uuid.uuid4().hex[:4]}"
            rt = made.enter_context(Runtime.create(config=cfg, database_url=private_pg_url, redis_url=broker.redis_url,
                                                   broker_url=broker.broker_url, namespace=ns))
            assert rt.broker_kind == broker.kind
            logs = tmp_path / "logs"
            logs.mkdir(exist_ok=True)
            cluster = Cluster(cfg.directory, private_pg_url, broker.redis_url, ns, logs, threads=threads,
                              broker_url=broker.broker_url)
            made.callback(cluster.stop)
            return rt, cluster

        yield build


def submit_items(rt: Runtime, n: int, prefix: str) -> list[str]:
    return [submit(item_data(id=f"{prefix}-{i}", title=f"{prefix} item {i}"), runtime=rt,
                   ignore_schedule=True).item_id for i in range(n)]


def all_terminal(rt: Runtime) -> bool:
    pubs = rt.ledger.publications()
    return bool(pubs) and all(p.terminal for p in pubs)


def test_workers_killed_with_sigkill_mid_call_leave_every_publication_posted_exactly_once(
    setup: Callable[..., tuple[Runtime, Cluster]], board: FakeBoard
) -> None:
    rng = seeded()
    # Given two worker processes publishing 120 publications to a slow board
    rt, cluster = setup(settings=FAST)
    submit_items(rt, ITEMS, "kill")
    workers = [cluster.start(), cluster.start()]
    kills: list[int] = []
    # When, six times, a worker is killed with SIGKILL at a random point of a call it is making,
    # and a replacement is started as a supervisor would
    for _ in range(6):
        victim = rng.choice(workers)
        wait_until(lambda v=victim: bool(owned_by(rt, v)) or all_terminal(rt), 30, "the victim to be calling")
        time.sleep(rng.uniform(0, board.delay_s))
        kills.append(len(owned_by(rt, victim)))
        cluster.kill(victim)
        workers.remove(victim)
        workers.append(cluster.start(wait=False))
    # Then the survivors and replacements bring every publication to a terminal state
    wait_until(lambda: all_terminal(rt), 180, "every publication to be terminal", poll_s=0.5)
    states = check_exactly_once(rt, board)
    print(f"kills: {len(kills)}, calls in flight at each kill: {kills}, outcome: {dict(states)}, "
          f"posts: {len(board.posts)}")
    # And every publication went out once: none lost, none doubled, the kills hit calls in flight
    assert states == {"published": ITEMS * len(ACCOUNTS)}
    assert len(kills) == 6 and sum(kills) >= 6
    assert cluster.alive()
    assert any(e["kind"] == "lease-expired" for e in rt.ledger.events())


def test_a_broker_restart_mid_run_loses_queued_messages_but_no_publication(
    setup: Callable[..., tuple[Runtime, Cluster]], board: FakeBoard, broker: BrokerUnderTest,
    broker_outage: Callable[[float], None]
) -> None:
    # Given two workers publishing 120 publications, every localization done
    rt, cluster = setup(settings=FAST)
    submit_items(rt, ITEMS, "redis")
    cluster.start()
    cluster.start()
    wait_until(lambda: all(p.ready for p in rt.ledger.publications()), 60, "the localizations")
    wait_until(lambda: len(board.posts) >= 10, 60, "the first posts")
    # When the broker dies mid-run (its queues and acknowledgements lost, and Redis's leases) and
    # comes back empty 2 s later
    broker_outage(2)
    # Then the workers reconnect, lost messages are sent again from the ledger, and all goes out once
    wait_until(lambda: all_terminal(rt), 180, "every publication to be terminal", poll_s=0.5)
    states = check_exactly_once(rt, board)
    print(f"{broker.kind} restart: posts before the restart >= 10, outcome: {dict(states)}")
    assert states == {"published": ITEMS * len(ACCOUNTS)}
    assert cluster.alive()


def test_postgresql_stopped_for_seconds_mid_run_loses_no_publication(
    setup: Callable[..., tuple[Runtime, Cluster]], board: FakeBoard, private_postgres: PrivatePostgres
) -> None:
    # Given two workers publishing 120 publications
    rt, cluster = setup(settings=FAST)
    submit_items(rt, ITEMS, "pg")
    cluster.start()
    cluster.start()
    wait_until(lambda: len(board.posts) >= 10, 60, "the first posts")
    # When PostgreSQL stops at once (sessions cut mid-transaction) and starts again 4 s later
    private_postgres.stop()
    try:
        time.sleep(4)
    finally:
        private_postgres.start()
    # Then the workers retry, reconcile what was in flight, and every publication goes out once
    wait_until(lambda: all_terminal(rt), 240, "every publication to be terminal", poll_s=0.5)
    states = check_exactly_once(rt, board)
    print(f"postgresql outage: outcome: {dict(states)}")
    assert states == {"published": ITEMS * len(ACCOUNTS)}
    assert cluster.alive()


def test_redelivery_after_kill_9_with_the_default_timing(
    setup: Callable[..., tuple[Runtime, Cluster]], board: FakeBoard
) -> None:
    rng = seeded()
    # Given one worker (4 threads) with the shipped timing, and a board that takes 3 s per post
    board.delay_s = 3.0
    rt, cluster = setup(accounts=("b1",), threads=4, read_timeout_s=5)
    assert (rt.timing.publish_time_limit.total_seconds(), rt.timing.claim_lease.total_seconds(),
            rt.timing.heartbeat_timeout.total_seconds(), rt.timing.maintenance_chance) == (15, 20, 10, 100_000)
    worker = cluster.start()
    owned_s: list[float] = []
    waiting_s: list[float] = []
    for trial in range(3):
        # When six posts are due, the worker is calling for four of them (two wait in its prefetch),
        # and it is killed with SIGKILL at a random point of those calls; a replacement starts at once
        ids = submit_items(rt, 6, f"trial{trial}")
        wait_until(lambda w=worker: len(owned_by(rt, w)) == 4, 60, "four calls in flight")
        time.sleep(rng.uniform(0, 2.9))
        owned = {p.id for p in owned_by(rt, worker)}
        waiting = {p.id for x in ids for p in rt.ledger.publications(item_id=x)} - owned
        killed_at = time.monotonic()
        cluster.kill(worker)
        worker = cluster.start(wait=False)
        # Then the rows it was calling for, and the rows whose messages it held, reach a terminal
        # state; measure how long after the kill
        done: dict[str, float] = {}
        deadline = killed_at + 90
        while len(done) < 2:
            assert time.monotonic() < deadline, (
                f"not terminal 90 s after the kill: {done}; the replacement worker's log ends with:\n"
                f"{worker.log.read_text(errors='replace')[-4000:]}")  # type: ignore[attr-defined]
            for name, rows in (("owned", owned), ("waiting", waiting)):
                if name not in done and all(rt.ledger.publication(i).terminal for i in rows):  # type: ignore[union-attr]
                    done[name] = time.monotonic() - killed_at
            time.sleep(0.05)
        owned_s.append(done["owned"])
        waiting_s.append(done["waiting"])
    states = check_exactly_once(rt, board)
    print(f"redelivery after kill -9 (default timing): rows being called terminal after "
          f"{', '.join(f'{s:.1f}' for s in owned_s)} s; rows whose messages it held after "
          f"{', '.join(f'{s:.1f}' for s in waiting_s)} s; outcome {dict(states)}")
    assert states == {"published": 18}
