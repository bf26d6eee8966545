"""Several workers publishing into one feed at once lose no entry.

Two runtimes (as two worker processes would) share one PostgreSQL ledger and one Redis; each runs
threads that publish different items into the same partner feed. The entries are kept in the
ledger's state store under a Redis lock with compare-and-set, so every entry must survive.
"""

# The XML parsed here is the feeds we just wrote, parsed with the stdlib as a feed reader would.
# ruff: noqa: S314

from __future__ import annotations

import threading
import xml.etree.ElementTree as ET
from collections.abc import Callable
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path

from adapters.feeds import FeedAdapter, entry_id_for
from syndicate import Runtime, submit
from syndicate.channels.contract import PostContent, PublicationRef
from syndicate.worker.host import run_until_settled
from tests.helpers import item_data, simple_route

ATOM = "{http://www.w3.org/2005/Atom}"


def _content(n: int) -> tuple[PostContent, PublicationRef]:
    item_id = f"item-{n:02d}"
    link = f"https://example.com/{item_id}?utm_source=feeds"
    content = PostContent(item_id=item_id, revision=1, locale="en-US", title=f"Item {n}", summary="Summary.",
                          body=f"Body of item {n}.", body_format="markdown", link=link,
                          canonical_url=f"https://example.com/{item_id}", cta_text=None, cta_url=None)
    ref = PublicationRef(id=n, key=f"{item_id}/1/en-US/partner-a/0", item_id=item_id, revision=1, locale="en-US",
                         account="partner-a", slot=0, tagged_url=link, marker=f"m{n:02d}",
                         scheduled_for=datetime.now(UTC))
    return content, ref


def _ids_in_files(directory: Path) -> tuple[list[str], list[str]]:
    atom = ET.fromstring((directory / "partner-a" / "en-US.atom").read_bytes())
    rss = ET.fromstring((directory / "partner-a" / "en-US.rss").read_bytes())
    return ([e.findtext(f"{ATOM}id") or "" for e in atom.iter(f"{ATOM}entry")],
            [i.findtext("guid") or "" for i in rss.iter("item")])


def test_two_workers_with_threads_publishing_into_one_feed_lose_no_entry(
    config_dir: Callable[..., Path], tmp_path: Path, pg_url: str, redis_url: str, redis_namespace: str
) -> None:
    # Given two runtimes sharing PostgreSQL and Redis, and one feed account
    directory = tmp_path / "feeds"
    cfg = config_dir(accounts={"partner-a": {"adapter": "feeds", "options": {"directory": str(directory)}}},
                     routes=[simple_route("partners", ["en-US"], ["partner-a"])])
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def worker(rt: Runtime, numbers: range) -> None:
        try:
            adapter = rt.adapter("partner-a")  # one adapter per thread, as the worker has
            assert isinstance(adapter, FeedAdapter)
            start.wait()
            for n in numbers:
                content, ref = _content(n)
                adapter.publish(adapter.render(content), ref)
        except BaseException as exc:
            errors.append(exc)

    with ExitStack() as stack:
        runtimes = [stack.enter_context(Runtime.create(config=cfg, database_url=pg_url, redis_url=redis_url,
                                                       namespace=redis_namespace)) for _ in range(2)]
        # When eight threads (four per runtime) each publish three different items at the same time
        threads = [threading.Thread(target=worker, args=(runtimes[t % 2], range(t * 3, t * 3 + 3))) for t in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        stored = runtimes[0].adapter("partner-a").account.state.get("feed:en-US")
    # Then all 24 entries are in the shared state and in both files, each once
    assert errors == []
    expected = sorted(entry_id_for(f"item-{n:02d}", "en-US") for n in range(24))
    assert sorted(e["id"] for e in stored[0]["entries"]) == expected
    atom_ids, rss_ids = _ids_in_files(directory)
    assert sorted(atom_ids) == sorted(rss_ids) == expected


def test_the_embedded_worker_with_many_threads_publishes_every_item_into_one_feed(
    config_dir: Callable[..., Path], tmp_path: Path, sqlite_url: str
) -> None:
    # Given an embedded runtime and twelve items for one feed
    directory = tmp_path / "feeds"
    cfg = config_dir(accounts={"partner-a": {"adapter": "feeds", "options": {"directory": str(directory)}}},
                     routes=[simple_route("partners", ["en-US"], ["partner-a"])])
    with Runtime.create(config=cfg, database_url=sqlite_url, redis_url="") as rt:
        for n in range(12):
            submit(item_data(id=f"item-{n:02d}"), runtime=rt, ignore_schedule=True)
        # When eight worker threads publish them
        pubs = run_until_settled(rt, rt.ledger.publications, threads=8, timeout=timedelta(seconds=60))
    # Then every item is published and in both files once
    assert {p.state for p in pubs} == {"published"} and len(pubs) == 12
    atom_ids, rss_ids = _ids_in_files(directory)
    expected = sorted(entry_id_for(f"item-{n:02d}", "en-US") for n in range(12))
    assert sorted(atom_ids) == sorted(rss_ids) == expected
