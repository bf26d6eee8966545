"""The embedded default end to end: submit items, run worker threads, check ledger and outbox."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from syndicate import Runtime, submit
from syndicate.worker.host import run_until_settled
from tests.helpers import item_data, sandbox_accounts, simple_route


def test_embedded_run_publishes_every_locale_and_account_once(
    config_dir: Callable[..., Path], ledger_url: str, outbox: Path
) -> None:
    # Given two routes with two accounts each and an item for both
    cfg = config_dir(
        accounts=sandbox_accounts("a1", "a2", "b1", "b2"),
        routes=[simple_route("r-a", ["en-US", "en-GB"], ["a1", "a2"]),
                simple_route("r-b", ["de-DE"], ["b1", "b2"], translation={"engine": "pseudo"})],
    )
    with Runtime.create(config=cfg, database_url=ledger_url, redis_url="") as rt:
        # When it is submitted and the embedded worker runs until everything settles
        sub = submit(item_data(), runtime=rt, ignore_schedule=True)
        pubs = run_until_settled(rt, lambda: rt.ledger.publications(item_id="item-1"), threads=4,
                                 timeout=timedelta(seconds=60))
    # Then every (locale, account) pair was published exactly once, with a file:// back-link
    assert sub.status == "created"
    assert sorted((p.locale, p.account, p.state) for p in pubs) == [
        ("de-DE", "b1", "published"), ("de-DE", "b2", "published"),
        ("en-GB", "a1", "published"), ("en-GB", "a2", "published"),
        ("en-US", "a1", "published"), ("en-US", "a2", "published"),
    ]
    for p in pubs:
        assert p.permalink is not None and p.permalink.startswith("file://")
        path = Path(p.permalink.removeprefix("file://"))
        text = path.read_text(encoding="utf-8")
        assert p.tagged_url in text
        meta = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
        assert meta["key"] == p.key
        assert p.utm["utm_content"] == f"item-1.r1.{p.locale}.{p.account}.0"
    assert len(list(outbox.rglob("*.txt"))) == 6
