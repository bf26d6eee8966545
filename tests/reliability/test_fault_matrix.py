"""The fault matrix: every channel's fake × every fault, each ending in the right state, exactly once.

For each adapter (X, LinkedIn, WordPress, partner webhooks, and partner feeds, whose network call
is the WebSub ping) and each fault, one publication is published through the real pipeline
(claim → call → record), the fault comes from the fake's socket, and the publication is then
driven to a terminal state the way the worker would: in-doubt rows are reconciled, retries and
deferrals are made due (instead of waiting out the backoff) and published again. At the end the
fake is the oracle: exactly one post for a published row, none for a failed one, and the row is
terminal (nothing lost).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest

from syndicate import Runtime, submit
from syndicate.pipeline import do_localize, do_publish, do_reconcile
from tests.fakes.base import Fault, refused_url
from tests.helpers import item_data, simple_route
from tests.reliability.channels import CHANNELS, WAIT_S, Channel, make_channel
from tests.reliability.support import make_due


@dataclass(frozen=True)
class FaultCase:
    """A fault and what it should lead to on a channel that creates without an idempotency key."""

    build: Callable[[Channel], Fault | None]
    first: str          # what the first publish records
    final: str          # the terminal state
    holds_account: bool = False


FAULTS: dict[str, FaultCase] = {
    "connection refused": FaultCase(lambda ch: None, "retrying", "published"),
    "read timeout after the post was made": FaultCase(
        lambda ch: ch.fault("stall", when="after", seconds=ch.read_timeout_s * 2.5), "in_doubt", "published"),
    "500 before anything was made": FaultCase(lambda ch: ch.error(500, "Internal Server Error"), "in_doubt",
                                              "published"),
    "500 after the post was made": FaultCase(lambda ch: ch.error(500, "Internal Server Error", when="after"),
                                             "in_doubt", "published"),
    "502 from a gateway": FaultCase(lambda ch: ch.error(502, "Bad Gateway"), "retrying", "published"),
    "503 with Retry-After": FaultCase(
        lambda ch: ch.error(503, "Service Unavailable", headers={"Retry-After": str(WAIT_S)}), "deferred",
        "published"),
    "429 with a reset time": FaultCase(lambda ch: ch.rate_limited(), "deferred", "published"),
    "401 credentials refused": FaultCase(lambda ch: ch.error(401, "Unauthorized"), "failed", "failed",
                                         holds_account=True),
    "403 duplicate": FaultCase(lambda ch: ch.duplicate(), "failed", "failed", holds_account=True),
    "422 invalid post": FaultCase(lambda ch: ch.error(422, "Unprocessable: the post is invalid"), "failed",
                                  "failed"),
    "malformed JSON answer": FaultCase(lambda ch: ch.fault("malformed", when="after"), "in_doubt", "published"),
    "slow drip of bytes": FaultCase(lambda ch: ch.fault("drip", when="after", seconds=0.003), "published",
                                    "published"),
    "answer far larger than expected": FaultCase(lambda ch: ch.fault("huge", when="after", size=8 * 1024 * 1024),
                                                 "in_doubt", "published"),
}


def expected(channel: str, fault: str) -> FaultCase:
    """The case as it applies to ``channel``: webhooks are idempotent, feeds only ping a hub."""
    case = FAULTS[fault]
    if channel == "feeds":  # the entry is written before the ping; a failed ping is a warning
        return FaultCase(case.build, "published", "published")
    if channel == "webhooks":
        first = {"in_doubt": "retrying"}.get(case.first, case.first)  # the receiver dedupes a repeat
        if fault in ("malformed JSON answer", "answer far larger than expected"):
            first = "published"  # delivered; the unusable answer is a warning
        return FaultCase(case.build, first, case.final, case.holds_account)
    if channel == "x" and fault == "403 duplicate":
        return FaultCase(case.build, "failed", "failed", holds_account=False)  # X's duplicate text: not auth
    return case


@pytest.fixture(params=sorted(CHANNELS))
def channel(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Channel]:
    ch = make_channel(request.param, "matrix-credential-0f3a9c", tmp_path)
    ch.start()
    yield ch
    ch.stop()


def runtime_for(ch: Channel, config_dir: Callable[..., Path], database_url: str, base_url: str) -> Runtime:
    cfg = config_dir(accounts={ch.account_id: ch.account(base_url)},
                     routes=[simple_route("r", ["en-US"], [ch.account_id])])
    return Runtime.create(config=cfg, database_url=database_url, redis_url="", environ=ch.environ())


def enqueued_one(rt: Runtime) -> int:
    sub = submit(item_data(), runtime=rt, ignore_schedule=True)
    rt.ledger.mark_localizations_requested(sub.item_id, sub.revision)
    do_localize(rt, sub.item_id, sub.revision, "en-US")
    [pub] = rt.ledger.take_due(horizon=timedelta(seconds=5), limit=10, actor="test")
    return pub.id


def settle(rt: Runtime, pid: int, *, steps: int = 10) -> list[str]:
    """Drive ``pid`` to a terminal state as the worker would, without waiting for backoffs."""
    outcomes: list[str] = []
    for _ in range(steps):
        pub = rt.ledger.publication(pid)
        assert pub is not None
        if pub.terminal:
            return outcomes
        if pub.state == "in_doubt":
            outcomes.append(do_reconcile(rt, pid))
            continue
        if pub.state in ("retrying", "scheduled"):
            make_due(rt, pid)
            assert [p.id for p in rt.ledger.take_due(horizon=timedelta(seconds=5), limit=10, actor="test")] == [pid]
        outcomes.append(do_publish(rt, pid))
    raise AssertionError(f"publication {pid} not terminal after {steps} steps: {outcomes}")


@pytest.mark.parametrize("fault", list(FAULTS))
def test_each_fault_ends_in_the_right_state_with_exactly_one_post_or_none(
    channel: Channel, fault: str, config_dir: Callable[..., Path], sqlite_url: str
) -> None:
    case = expected(channel.name, fault)
    rt = runtime_for(channel, config_dir, sqlite_url, channel.fake.url)
    try:
        # Given one enqueued publication, and the fault queued on the platform's create (or the platform down)
        pid = enqueued_one(rt)
        if fault == "connection refused":
            down = runtime_for(channel, config_dir, sqlite_url, refused_url())
            try:
                # When the worker publishes while nothing listens
                first = do_publish(down, pid)
            finally:
                down.close()
        else:
            f = case.build(channel)
            assert f is not None
            channel.fake.fail_next(f)
            # When the worker publishes
            first = do_publish(rt, pid)
        # Then the first attempt records what the fault means
        assert first == case.first, rt.ledger.publication(pid)
        # And driven on as the worker would, the publication ends terminal and in the right state
        later = settle(rt, pid)
        pub = rt.ledger.publication(pid)
        assert pub is not None and pub.state == case.final, (later, pub.last_error)
        # And the fake holds exactly one post for a published row, none for a failed one
        assert channel.posts() == (1 if case.final == "published" else 0)
        if case.final == "published":
            assert pub.permalink and pub.remote_id and pub.published_at is not None
        else:
            assert pub.last_error
        status, _ = rt.ledger.account_status(channel.account_id)
        assert status == ("needs_credentials" if case.holds_account else "ok")
        if case.first == "deferred":  # a deferral is not a failed attempt
            assert pub.failures == 0 and pub.deferrals == 1
    finally:
        rt.close()
