"""The minimum gap through the ledger: posts of other items, published ones, and racing submissions."""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from syndicate import Runtime, submit
from syndicate.localization.step import do_localize
from syndicate.publishing.steps import do_publish
from tests.helpers import ManualClock, item_data, sandbox_accounts, simple_route

T0 = datetime(2026, 6, 1, 6, 0, tzinfo=UTC)


@pytest.fixture
def cfg(config_dir: Callable[..., Path]) -> Path:
    return config_dir(accounts=sandbox_accounts("a", "b"),
                      routes=[simple_route("r", ["en-US"], ["a"], min_gap="1h"),
                              simple_route("s", ["en-GB"], ["b"])])


def times(rt: Runtime, item_id: str) -> dict[str, datetime]:
    return {p.account: p.scheduled_for for p in rt.ledger.publications(item_id=item_id)}


def test_a_later_item_keeps_the_gap_from_an_earlier_item_s_post_on_the_same_account(
    cfg: Path, ledger_url: str
) -> None:
    # Given item A planned on account a at 06:00 (route with a one-hour gap) and on b (no gap)
    with Runtime.create(config=cfg, database_url=ledger_url, redis_url="", clock=ManualClock(T0)) as rt:
        submit(item_data(id="a-item"), runtime=rt)
        # When item B is submitted for the same moment
        submit(item_data(id="b-item"), runtime=rt)
        # Then B waits an hour on a; on b, whose route sets no gap, it goes at once
        assert times(rt, "a-item") == {"a": T0, "b": T0}
        assert times(rt, "b-item") == {"a": T0 + timedelta(hours=1), "b": T0}


def test_the_gap_counts_from_when_a_post_was_actually_published(cfg: Path, ledger_url: str, outbox: Path) -> None:
    # Given item A planned for 06:00 but published late, at 06:40
    clock = ManualClock(T0)
    with Runtime.create(config=cfg, database_url=ledger_url, redis_url="", clock=clock) as rt:
        sub = submit(item_data(id="a-item", locales=["en-US"]), runtime=rt)
        for loc in rt.ledger.mark_localizations_requested(sub.item_id, sub.revision):
            do_localize(rt, sub.item_id, sub.revision, loc)
        clock.t = T0 + timedelta(minutes=40)
        [pub] = rt.ledger.take_due(horizon=timedelta(0), limit=5, actor="t")
        assert do_publish(rt, pub.id) == "published"
        # When item B is submitted at 06:50 / Then it goes an hour after the real post, at 07:40
        clock.t = T0 + timedelta(minutes=50)
        submit(item_data(id="b-item", locales=["en-US"]), runtime=rt)
        assert times(rt, "b-item") == {"a": T0 + timedelta(minutes=100)}


def test_a_new_revision_is_not_pushed_back_by_the_rows_it_replaces(cfg: Path, ledger_url: str) -> None:
    # Given revision 1 planned at 06:00 on a
    with Runtime.create(config=cfg, database_url=ledger_url, redis_url="", clock=ManualClock(T0)) as rt:
        submit(item_data(), runtime=rt)
        # When revision 2 is submitted at the same moment / Then it takes 06:00, not 07:00
        submit(item_data(revision=2, title="Edited"), runtime=rt)
        assert {p.account: p.scheduled_for for p in rt.ledger.publications(item_id="item-1", revision=2)} == {
            "a": T0, "b": T0}


def test_concurrent_submissions_through_redis_never_share_a_gap(
    cfg: Path, pg_url: str, redis_url: str, redis_namespace: str
) -> None:
    # Given four producers on one Redis and one PostgreSQL ledger
    with ExitStack() as stack:
        rts = [stack.enter_context(Runtime.create(config=cfg, database_url=pg_url, redis_url=redis_url,
                                                  namespace=redis_namespace, clock=ManualClock(T0)))
               for _ in range(4)]
        barrier = threading.Barrier(len(rts) * 2)

        def produce(rt: Runtime, n: int) -> None:
            barrier.wait()
            submit(item_data(id=f"item-{n}"), runtime=rt)

        # When they submit eight items for account a at the same moment
        threads = [threading.Thread(target=produce, args=(rts[n % 4], n)) for n in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        # Then the eight posts on a are an hour apart from each other: no two planned into one gap
        on_a = sorted(p.scheduled_for for p in rts[0].ledger.publications(account="a"))
        assert on_a == [T0 + timedelta(hours=h) for h in range(8)]


def test_a_route_that_filters_the_buying_stage_records_skipped_rows_with_the_reason(
    config_dir: Callable[..., Path], ledger_url: str
) -> None:
    # Given a route for awareness content only
    cfg = config_dir(accounts=sandbox_accounts("a"),
                     routes=[simple_route("r", ["en-US"], ["a"], buying_stages=["awareness"])])
    with Runtime.create(config=cfg, database_url=ledger_url, redis_url="", clock=ManualClock(T0)) as rt:
        # When a decision-stage item is submitted
        sub = submit(item_data(buying_stage="decision"), runtime=rt)
        # Then its publication is stored as skipped, saying why, and nothing is localized for it
        [pub] = rt.ledger.publications(item_id="item-1")
        assert sub.status == "created" and pub.state == "skipped"
        assert pub.last_error is not None and "accepts buying stages awareness" in pub.last_error
        [planned] = rt.ledger.events(publication_id=pub.id)
        assert planned["kind"] == "planned" and planned["to_state"] == "skipped" and planned["error"] == pub.last_error
        assert rt.ledger.localization("item-1", 1, "en-US") is None
