"""Intake rules apply when an item is submitted, not when the ledger reads it back: raised limits,
or rules added since, never make a stored item unreadable to the workers."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from sqlalchemy import update

from syndicate import Runtime, submit
from syndicate.ledger.schema import items
from syndicate.worker.host import run_until_settled
from tests.helpers import item_data


def test_an_item_accepted_under_raised_limits_is_published_and_read_back(
    config_dir: Callable[..., Path], ledger_url: str, outbox: Path
) -> None:
    # Given limits raised above the defaults, and an item that uses them
    cfg = config_dir(settings={"intake": {"max_body_chars": 500_000, "max_title_chars": 400}})
    with Runtime.create(config=cfg, database_url=ledger_url, redis_url="") as rt:
        submit(item_data(title="t" * 350, body="word " * 60_000), runtime=rt, ignore_schedule=True)
        # When a worker publishes it, and a fresh runtime (no cache) reads it back
        pubs = run_until_settled(rt, lambda: rt.ledger.publications(item_id="item-1"), threads=2,
                                 timeout=timedelta(seconds=60))
    with Runtime.create(config=cfg, database_url=ledger_url, redis_url="") as fresh:
        content = fresh.ledger.item_content("item-1", 1)
    # Then it went out, and reads back whole
    assert {p.state for p in pubs} == {"published"}
    assert content is not None and len(content.body) == 300_000 and len(content.title) == 350


def test_an_item_stored_before_a_rule_existed_still_reads_back(
    config_dir: Callable[..., Path], sqlite_url: str
) -> None:
    # Given a stored item whose payload breaks today's single-line rule (stored by an older version)
    with Runtime.create(config=config_dir(), database_url=sqlite_url, redis_url="") as rt:
        submit(item_data(), runtime=rt)
        with rt.ledger.engine.begin() as conn:
            payload = dict(item_data(), title="Old\ttitle", summary=None)
            conn.execute(update(items).values(payload=payload))
    # When a fresh runtime reads it / Then it reads back as stored
    with Runtime.create(config=config_dir(), database_url=sqlite_url, redis_url="") as fresh:
        content = fresh.ledger.item_content("item-1", 1)
    assert content is not None and content.title == "Old\ttitle"
