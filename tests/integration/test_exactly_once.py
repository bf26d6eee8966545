"""Exactly-once publishing: duplicate messages and racing workers make one post each."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from dramatiq import Worker

from syndicate import Runtime, submit
from syndicate.channels.contract import AdapterRegistry
from syndicate.config.loading import load_config
from syndicate.localization.step import do_localize
from syndicate.model.config import Config
from syndicate.publishing.steps import do_publish
from tests.conftest import BrokerUnderTest
from tests.fakes.board import FakeBoard
from tests.helpers import REPO, item_data, simple_route
from tests.support.board_adapter import BoardAdapter

LOCALES = ["en-US", "en-GB", "en-CA", "en-AU"]


@pytest.fixture
def board() -> Iterator[FakeBoard]:
    with FakeBoard(delay_s=0.05) as b:
        yield b


def board_config(config_dir: Callable[..., Path], board: FakeBoard) -> Config:
    d = config_dir(accounts={"b1": {"adapter": "board", "base_url": board.url},
                             "b2": {"adapter": "board", "base_url": board.url}},
                   routes=[simple_route("r", LOCALES, ["b1", "b2"])])
    registry = AdapterRegistry()
    registry.register("board", BoardAdapter)
    return load_config(d, registry=registry)


def prepare(rt: Runtime) -> list[int]:
    """Submit an item, localize it synchronously, and enqueue every publication once."""
    sub = submit(item_data(), runtime=rt, ignore_schedule=True)
    for loc in do_intake_locales(rt, sub.item_id, sub.revision):
        do_localize(rt, sub.item_id, sub.revision, loc)
    from datetime import timedelta

    due = rt.ledger.take_due(horizon=timedelta(seconds=5), limit=100, actor="test")
    assert len(due) == len(LOCALES) * 2
    return [p.id for p in due]


def do_intake_locales(rt: Runtime, item_id: str, revision: int) -> list[str]:
    return rt.ledger.mark_localizations_requested(item_id, revision)


def test_the_same_publish_message_three_times_makes_one_post(
    config_dir: Callable[..., Path], board: FakeBoard, ledger_url: str
) -> None:
    # Given enqueued publications and a worker with 8 threads
    with Runtime.create(config=board_config(config_dir, board), database_url=ledger_url, redis_url="") as rt:
        ids = prepare(rt)
        worker = Worker(rt.broker, worker_threads=8, worker_timeout=50)
        worker.start()
        try:
            # When every publish message is delivered three times
            for _ in range(3):
                for pid in ids:
                    rt.actors.publish.send(pid)
            rt.broker.join("syndicate.publish", timeout=30_000)
            worker.join()
        finally:
            worker.stop()
        # Then the board holds exactly one post per publication, and the ledger agrees
        counts = board.posts_by_marker()
        pubs = [rt.ledger.publication(i) for i in ids]
        assert all(p is not None and p.state == "published" for p in pubs)
        assert {p.marker: counts[p.marker] for p in pubs if p} == {p.marker: 1 for p in pubs if p}
        assert len(board.posts) == len(ids)


def test_two_workers_racing_on_the_same_rows_make_one_post_each(
    config_dir: Callable[..., Path], board: FakeBoard, pg_url: str
) -> None:
    # Given two independent runtimes (two workers) on one PostgreSQL ledger
    cfg = board_config(config_dir, board)
    with (Runtime.create(config=cfg, database_url=pg_url, redis_url="") as rt1,
          Runtime.create(config=cfg, database_url=pg_url, redis_url="") as rt2):
        ids = prepare(rt1)
        outcomes: list[str] = []
        lock = threading.Lock()
        barrier = threading.Barrier(8)

        def race(rt: Runtime) -> None:
            barrier.wait()
            for pid in ids:
                out = do_publish(rt, pid)
                with lock:
                    outcomes.append(out)

        # When four threads of each worker publish every row at the same moment
        threads = [threading.Thread(target=race, args=(rt,)) for rt in (rt1, rt2) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        # Then each row was published once; every other attempt saw it claimed and backed off
        assert outcomes.count("published") == len(ids)
        assert outcomes.count("not-claimable") == len(ids) * 7
        assert sorted(board.posts_by_marker().values()) == [1] * len(ids)


def _start_worker(config: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """Start a worker process and return once it says it has started (its signal handlers are in place)."""
    proc = subprocess.Popen([sys.executable, "-m", "tests.support.run_worker", str(config), "4", "--no-dispatcher"],
                            cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert proc.stderr is not None
    for line in proc.stderr:
        if b'"worker.started"' in line:
            return proc
    raise AssertionError(f"worker exited with {proc.wait()} before starting")


def test_duplicate_messages_on_the_broker_across_two_worker_processes_make_one_post_each(
    config_dir: Callable[..., Path], board: FakeBoard, pg_url: str, broker: BrokerUnderTest
) -> None:
    # Given two worker processes consuming the same queue (Redis, or RabbitMQ without Redis),
    # sharing a PostgreSQL ledger
    cfg = board_config(config_dir, board)
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("SYNDICATE_")},
           "SYNDICATE_DATABASE_URL": pg_url, **broker.env()}
    with Runtime.create(config=cfg, database_url=pg_url, **broker.runtime_kwargs()) as rt:
        assert rt.broker_kind == broker.kind
        ids = prepare(rt)
        procs = [_start_worker(cfg.directory, env) for _ in range(2)]
        try:
            # When each publish message is sent four times
            for _ in range(4):
                for pid in ids:
                    rt.actors.publish.send(pid)
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                if all((p := rt.ledger.publication(i)) is not None and p.state == "published" for i in ids):
                    break
                time.sleep(0.1)
        finally:
            for p in procs:
                p.send_signal(signal.SIGTERM)
            errs = [p.communicate(timeout=60)[1].decode(errors="replace") for p in procs]
        # Then every publication is published once, and both workers shut down cleanly
        assert [rt.ledger.publication(i).state for i in ids] == ["published"] * len(ids)  # type: ignore[union-attr]
        assert sorted(board.posts_by_marker().values()) == [1] * len(ids)
        assert [p.returncode for p in procs] == [0, 0], errs
