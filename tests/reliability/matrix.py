"""The faults of the fault matrix, what each should lead to, and how a publication is driven to a
terminal state the way the worker would (reconcile in-doubt rows, make retries and deferrals due)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from syndicate import Runtime, submit
from syndicate.localization.step import do_localize
from syndicate.publishing.steps import do_publish, do_reconcile
from tests.fakes.base import Fault
from tests.helpers import item_data, simple_route
from tests.reliability.channels import WAIT_S, Channel
from tests.reliability.support import make_due

__all__ = ["FAULTS", "FaultCase", "enqueued_one", "expected", "runtime_for", "settle"]


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
    if channel == "wordpress" and fault == "slow drip of bytes":
        # WordPress answers a create with the whole post (kilobytes): at 3 ms a byte it takes longer
        # than the exchange's total deadline (connect + read timeout), so the answer is cut there and
        # the post reconciled; the other channels' answers arrive within it.
        return FaultCase(case.build, "in_doubt", "published")
    if channel == "x" and fault == "403 duplicate":
        return FaultCase(case.build, "failed", "failed", holds_account=False)  # X's duplicate text: not auth
    return case


def runtime_for(ch: Channel, config_dir: Callable[..., Path], database_url: str, base_url: str) -> Runtime:
    cfg = config_dir(accounts={ch.account_id: ch.account(base_url)},
                     routes=[simple_route("r", ["en-US"], [ch.account_id])])
    return Runtime.create(config=cfg, database_url=database_url, redis_url="", environ=ch.environ())


def enqueued_one(rt: Runtime, **item: object) -> int:
    """Submit an item (``item_data(**item)``) and bring its one publication to ``enqueued``."""
    sub = submit(item_data(**item), runtime=rt, ignore_schedule=True)
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
            assert pid in [p.id for p in rt.ledger.take_due(horizon=timedelta(seconds=5), limit=100, actor="test")]
        outcomes.append(do_publish(rt, pid))
    raise AssertionError(f"publication {pid} not terminal after {steps} steps: {outcomes}")
