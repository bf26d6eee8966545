"""Rate limits: a platform's 429 and our shared per-account caps defer, never fail, never sleep."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from syndicate import Runtime, submit
from syndicate.channels.contract import AdapterRegistry, RateWindow
from syndicate.config.loading import load_config
from syndicate.localization.step import do_localize
from syndicate.model.config import RateLimit
from syndicate.publishing.ratelimit import LocalRateLimiter, RedisRateLimiter, merge_windows
from syndicate.publishing.steps import do_publish
from tests.fakes.base import Fault
from tests.fakes.board import FakeBoard
from tests.helpers import REPO, ManualClock, item_data, simple_route, wait_until_consuming
from tests.support.board_adapter import BoardAdapter

T0 = datetime(2026, 9, 1, 8, 0, tzinfo=UTC)
LOCALES = ["en-US", "en-GB", "en-CA", "en-AU", "en-NZ", "en-IE", "en-IN", "en-ZA", "en-SG", "en-PH"]


@pytest.fixture
def board() -> Iterator[FakeBoard]:
    with FakeBoard() as b:
        yield b


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


def board_runtime(config_dir: Callable[..., Path], board: FakeBoard, database_url: str, *, locales: list[str],
                  account: dict[str, Any] | None = None, **kw: Any) -> Runtime:
    d = config_dir(accounts={"b": {"adapter": "board", "base_url": board.url, **(account or {})}},
                   routes=[simple_route("r", locales, ["b"])])
    reg = AdapterRegistry()
    reg.register("board", BoardAdapter)
    return Runtime.create(config=load_config(d, registry=reg), database_url=database_url, **kw)


def localized(rt: Runtime, **item: Any) -> list[int]:
    sub = submit(item_data(**item), runtime=rt, ignore_schedule=True)
    for loc in rt.ledger.mark_localizations_requested(sub.item_id, sub.revision):
        do_localize(rt, sub.item_id, sub.revision, loc)
    return [p.id for p in sub.publications]


def publish_due(rt: Runtime) -> list[str]:
    return [do_publish(rt, p.id) for p in rt.ledger.take_due(horizon=timedelta(0), limit=100, actor="test")]


def test_a_429_with_a_reset_time_defers_the_row_to_that_time_without_counting_an_attempt(
    config_dir: Callable[..., Path], board: FakeBoard, sqlite_url: str, clock: ManualClock
) -> None:
    # Given the board answers 429 with a reset time 15 minutes ahead
    with board_runtime(config_dir, board, sqlite_url, locales=["en-US"], redis_url="", clock=clock) as rt:
        reset = T0 + timedelta(minutes=15)
        board.fail_next(Fault("status", method="POST", status=429,
                              headers={"x-rate-limit-reset": str(int(reset.timestamp()))}))
        [pid] = localized(rt)
        # When the publication is published
        assert publish_due(rt) == ["deferred"]
        # Then it is scheduled again at the reset time, with no attempt and no failure counted
        pub = rt.ledger.publication(pid)
        assert pub is not None and pub.state == "scheduled" and pub.scheduled_for == reset
        assert (pub.attempts, pub.failures, pub.deferrals) == (0, 0, 1)
        assert rt.ledger.events(publication_id=pid)[-1]["kind"] == "deferred"
        # And nothing happens before the reset; at the reset it goes out on its first counted attempt
        clock.t = reset - timedelta(seconds=1)
        assert publish_due(rt) == []
        clock.t = reset
        assert publish_due(rt) == ["published"]
        pub = rt.ledger.publication(pid)
        assert pub is not None and pub.attempts == 1 and len(board.posts) == 1


def test_an_account_over_its_configured_cap_is_deferred_until_the_window_frees(
    config_dir: Callable[..., Path], board: FakeBoard, sqlite_url: str, clock: ManualClock
) -> None:
    # Given an account capped at 2 posts per hour and three publications due at once
    with board_runtime(config_dir, board, sqlite_url, locales=LOCALES[:3], redis_url="", clock=clock,
                       account={"rate_limits": [{"max_posts": 2, "per": "1h"}]}) as rt:
        localized(rt)
        # When they are published
        outcomes = publish_due(rt)
        # Then two go out and the third waits for the first post to leave the window (09:00), unpenalized
        assert outcomes == ["published", "published", "deferred"]
        clock.t = T0 + timedelta(minutes=59)
        assert publish_due(rt) == []
        [waiting] = [p for p in rt.ledger.publications(item_id="item-1") if p.state == "scheduled"]
        assert waiting.scheduled_for == T0 + timedelta(hours=1)
        assert (waiting.attempts, waiting.failures) == (0, 0)
        assert waiting.last_error is not None and "2 per 1h" in waiting.last_error
        assert len(board.posts) == 2
        # And at 09:00 it goes out
        clock.t = T0 + timedelta(hours=1)
        assert publish_due(rt) == ["published"] and len(board.posts) == 3


def test_configured_caps_replace_the_adapter_s_cap_of_the_same_duration_and_keep_the_others() -> None:
    defaults = (RateWindow(100, timedelta(minutes=15)), RateWindow(2400, timedelta(days=1)))
    configured = [RateLimit.model_validate({"max_posts": 50, "per": "15m"}),
                  RateLimit.model_validate({"max_posts": 5, "per": "1m"})]
    assert merge_windows(configured, defaults) == (
        RateWindow(5, timedelta(minutes=1)), RateWindow(50, timedelta(minutes=15)), RateWindow(2400, timedelta(days=1)))
    assert merge_windows([], defaults) == defaults


@pytest.mark.parametrize("kind", ["redis", "local"])
def test_the_limiter_grants_up_to_every_cap_and_tells_when_the_window_frees(
    kind: str, redis_url: str, redis_namespace: str
) -> None:
    # Given caps of 2 per 10 s and 3 per minute
    import redis

    limiter: Any = (RedisRateLimiter(redis.Redis.from_url(redis_url), redis_namespace) if kind == "redis"
                    else LocalRateLimiter())
    caps = (RateWindow(2, timedelta(seconds=10)), RateWindow(3, timedelta(minutes=1)))

    def at(seconds: float) -> datetime | None:
        return limiter.acquire("acc", caps, now=T0 + timedelta(seconds=seconds))  # type: ignore[no-any-return]

    # Then two posts go at once; the third is told to wait for the 10 s window
    assert at(0) is None and at(1) is None
    assert at(2) == T0 + timedelta(seconds=10)
    # And a refused request takes no slot: at 10 s one slot is free again
    assert at(10) is None
    # And then the minute cap decides: three posts since 0 s, the next slot frees at 60 s
    assert at(25) == T0 + timedelta(seconds=60)
    assert at(60) is None
    # And another account is not affected
    assert limiter.acquire("other", caps, now=T0 + timedelta(seconds=2)) is None


def _start_worker(config: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "tests.support.run_worker", str(config), "4"],
                            cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def test_the_shared_cap_holds_across_two_worker_processes(
    config_dir: Callable[..., Path], pg_url: str, redis_url: str, redis_namespace: str
) -> None:
    # Given two worker processes on one Redis and one PostgreSQL ledger, and an account capped at 3 per minute;
    # each process holds one message of a queue at a time and a post takes half a second, so one process
    # cannot take every publication before the other polls
    with FakeBoard(delay_s=0.5) as board, board_runtime(
            config_dir, board, pg_url, locales=LOCALES, redis_url=redis_url, namespace=redis_namespace,
            account={"rate_limits": [{"max_posts": 3, "per": "1m"}]}) as rt:
        env = {**os.environ, "SYNDICATE_DATABASE_URL": pg_url, "SYNDICATE_REDIS_URL": redis_url,
               "SYNDICATE_REDIS_NAMESPACE": redis_namespace, "dramatiq_queue_prefetch": "1"}
        procs = [_start_worker(rt.config.directory, env) for _ in range(2)]
        try:
            wait_until_consuming(rt.broker, 2, procs)
            # When ten publications on that account are due at once
            submit(item_data(), runtime=rt, ignore_schedule=True)
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline:
                pubs = rt.ledger.publications(item_id="item-1")
                if sum(p.state == "published" for p in pubs) == 3 and all(
                        p.state == "published" or (p.state == "scheduled" and p.deferrals >= 1) for p in pubs):
                    break
                time.sleep(0.2)
        finally:
            for p in procs:
                p.send_signal(signal.SIGTERM)
            errs = [p.communicate(timeout=60)[1].decode() for p in procs]
        # Then the board got exactly three posts; the seven others wait for the window, no failure counted
        pubs = rt.ledger.publications(item_id="item-1")
        published = [p for p in pubs if p.state == "published"]
        waiting = [p for p in pubs if p.state != "published"]
        assert len(board.posts) == 3 and len(published) == 3, errs
        assert len(waiting) == 7 and all(p.state == "scheduled" and p.failures == 0 and p.attempts == 0
                                         for p in waiting)
        # And they wait until the first post leaves the one-minute window
        first_claim = min(p.claimed_at for p in published if p.claimed_at)
        first_done = min(p.published_at for p in published if p.published_at)
        assert all(first_claim + timedelta(minutes=1) <= p.scheduled_for <= first_done + timedelta(minutes=1)
                   for p in waiting)
        # And both processes took part in claiming (the cap is shared, not per process)
        claimers = {e["actor"].split(":")[1] for p in pubs for e in rt.ledger.events(publication_id=p.id)
                    if e["kind"] == "claimed"}
        assert len(claimers) == 2, claimers
        # And of the two workers' dispatchers, one led
        assert len([e for e in rt.ledger.events() if e["kind"] == "dispatcher.leader"]) == 1
        assert [p.returncode for p in procs] == [0, 0], errs
