"""The worker's log context: each line of a message's work carries its ids, attempt and duration."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import structlog

from syndicate import Runtime, submit
from syndicate.base.logging import configure_logging
from syndicate.worker.host import run_until_settled
from tests.helpers import item_data, sandbox_accounts, simple_route


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for h in list(root.handlers):
        if h not in handlers:
            root.removeHandler(h)
    root.setLevel(level)
    structlog.contextvars.clear_contextvars()


def test_a_published_event_carries_message_publication_attempt_and_duration(
    config_dir: Callable[..., Path], sqlite_url: str, outbox: Path, capsys: pytest.CaptureFixture[str],
    restore_logging: None
) -> None:
    # Given JSON logs and an embedded worker publishing one item to two accounts
    configure_logging(json=True, level="INFO")
    cfg = config_dir(accounts=sandbox_accounts("a1", "a2"), routes=[simple_route("na", ["en-US"], ["a1", "a2"])])
    with Runtime.create(config=cfg, database_url=sqlite_url, redis_url="") as rt:
        submit(item_data(), runtime=rt, ignore_schedule=True)
        # When the worker runs until both are published
        pubs = run_until_settled(rt, lambda: rt.ledger.publications(item_id="item-1"), threads=2,
                                 timeout=timedelta(seconds=60))
    records: list[dict[str, Any]] = [json.loads(line) for line in capsys.readouterr().err.splitlines()
                                     if line.startswith("{")]
    # Then each publication.published line names the message, the publication and its context
    published = [r for r in records if r["event"] == "publication.published"]
    assert sorted(r["account"] for r in published) == ["a1", "a2"]
    by_id = {p.id: p for p in pubs}
    for r in published:
        pub = by_id[r["publication"]]
        assert (r["actor"], r["item"], r["revision"], r["locale"], r["channel"]) == (
            "publish", "item-1", 1, "en-US", "sandbox")
        assert r["attempt"] == 1 and r["message_id"]
        assert isinstance(r["duration_ms"], float) and r["duration_ms"] >= 0  # the platform call
        assert pub.state == "published"
    # And every message ends with actor.done and its duration, while no context leaks past it
    done = [r for r in records if r["event"] == "actor.done"]
    assert {r["actor"] for r in done} >= {"intake", "localize", "publish"}
    assert all(isinstance(r["duration_ms"], float) for r in done)
    later = [r for r in records if r["event"] == "worker.stopped"]
    assert later and "message_id" not in later[-1]
