"""The localization claim belongs to the localize message: its retry takes it back, another message cannot."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import dramatiq
from dramatiq.brokers.stub import StubBroker

from syndicate import Runtime, submit
from syndicate.worker.actors import ACTOR_NAMES
from tests.helpers import item_data, sandbox_accounts, simple_route


def run_queued(rt: Runtime) -> None:
    """Process what is queued for the localize actor, with one real Dramatiq worker thread."""
    broker = rt.broker
    assert isinstance(broker, StubBroker)
    worker = dramatiq.Worker(broker, worker_threads=1, worker_timeout=50)
    worker.start()
    try:
        broker.join(ACTOR_NAMES["localize"], fail_fast=True, timeout=30_000)
        worker.join()
    finally:
        worker.stop()


def test_a_retried_localize_message_takes_its_own_claim_back_while_another_message_waits(
    config_dir: Callable[..., Path], sqlite_url: str, outbox: Path
) -> None:
    # Given an item waiting for its de-DE localization, no worker running
    cfg = config_dir(accounts=sandbox_accounts("a1"),
                     routes=[simple_route("dach", ["de-DE"], ["a1"], translation={"engine": "pseudo"})])
    with Runtime.create(config=cfg, database_url=sqlite_url, redis_url="") as rt:
        submit(item_data(), runtime=rt, ignore_schedule=True)
        assert isinstance(rt.broker, StubBroker)
        rt.broker.flush_all()  # drop the intake message: the test sends the localize messages itself
        first = rt.actors.localize.message("item-1", 1, "de-DE")
        other = rt.actors.localize.message("item-1", 1, "de-DE")
        # ... and a first attempt of one localize message that claimed it, then died on a database error
        assert rt.ledger.claim_localization("item-1", 1, "de-DE", worker=f"message:{first.message_id}",
                                            lease=timedelta(minutes=5))
        # When a different message for the same localization runs
        rt.broker.enqueue(other)
        run_queued(rt)
        # Then it leaves the localization alone (the claim is held and its lease runs)
        row = rt.ledger.localization("item-1", 1, "de-DE")
        assert row is not None and row["state"] == "pending"
        # When the first message is retried (same message id)
        rt.broker.enqueue(first)
        run_queued(rt)
        # Then it takes its claim back at once and localizes
        row = rt.ledger.localization("item-1", 1, "de-DE")
        assert row is not None and row["state"] == "done"
        assert row["fields"]["title"] != item_data()["title"]  # pseudo-localized
