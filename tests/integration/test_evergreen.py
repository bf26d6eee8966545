"""Evergreen reposts: every slot goes out to a board that refuses repeated text, with no refusal."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from syndicate import Runtime, submit
from syndicate.channels.contract import AdapterRegistry
from syndicate.config.loading import load_config
from syndicate.localization.step import do_localize
from syndicate.publishing.steps import do_publish
from tests.fakes.board import FakeBoard
from tests.helpers import ManualClock, item_data, simple_route
from tests.support.board_adapter import BoardAdapter

T0 = datetime(2026, 9, 1, 8, 0, tzinfo=UTC)


@pytest.fixture
def board() -> Iterator[FakeBoard]:
    with FakeBoard(reject_duplicates=True) as b:
        yield b


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture
def rt(config_dir: Callable[..., Path], board: FakeBoard, sqlite_url: str, clock: ManualClock) -> Iterator[Runtime]:
    d = config_dir(accounts={"b": {"adapter": "board", "base_url": board.url}},
                   routes=[simple_route("r", ["en-US", "en-GB"], ["b"], min_gap="1h")])
    reg = AdapterRegistry()
    reg.register("board", BoardAdapter)
    with Runtime.create(config=load_config(d, registry=reg), database_url=sqlite_url, redis_url="",
                        clock=clock) as runtime:
        yield runtime


def submit_localized(rt: Runtime, **item: Any) -> None:
    sub = submit(item_data(**item), runtime=rt)
    for loc in rt.ledger.mark_localizations_requested(sub.item_id, sub.revision):
        do_localize(rt, sub.item_id, sub.revision, loc)


def run_every_slot(rt: Runtime, clock: ManualClock, item_id: str) -> list[str]:
    """Advance the clock to each planned time in turn and publish what is due then."""
    outcomes = []
    for when in sorted({p.scheduled_for for p in rt.ledger.publications(item_id=item_id)}):
        clock.t = when
        for pub in rt.ledger.take_due(horizon=timedelta(0), limit=100, actor="test"):
            outcomes.append(do_publish(rt, pub.id))
    return outcomes


def test_an_evergreen_item_without_variants_posts_every_slot_with_no_duplicate_refusal(
    rt: Runtime, board: FakeBoard, clock: ManualClock
) -> None:
    # Given an item repeated every day, three more times, on one board account
    submit_localized(rt, locales=["en-US"], repeat={"interval": "1d", "count": 3})
    # When every slot comes due and is published
    outcomes = run_every_slot(rt, clock, "item-1")
    # Then all four posts went out and the board refused none as a duplicate
    pubs = rt.ledger.publications(item_id="item-1")
    assert outcomes == ["published"] * 4 and [p.state for p in pubs] == ["published"] * 4
    assert board.rejected == [] and len(board.posts) == 4
    # And each slot carries its own utm_content in its link
    assert len({p.utm["utm_content"] for p in pubs}) == 4
    assert all(p.utm["utm_content"] in (p.rendered or {})["text"] for p in pubs)


def test_evergreen_variants_are_posted_in_turn_with_no_duplicate_refusal(
    rt: Runtime, board: FakeBoard, clock: ManualClock
) -> None:
    # Given an item repeated five more times with two variants
    variants = ["Still worth a read: the spring guide.", "Missed it? The spring guide, in five minutes."]
    submit_localized(rt, locales=["en-US"], repeat={"interval": "2d", "count": 5, "variants": variants})
    # When every slot is published
    outcomes = run_every_slot(rt, clock, "item-1")
    # Then six posts went out, none refused, the variants first after the usual post
    assert outcomes == ["published"] * 6 and board.rejected == []
    texts = [p["text"] for p in board.posts]
    assert texts[1].startswith(variants[0]) and texts[2].startswith(variants[1])


def test_the_board_does_refuse_a_repeated_text_so_the_evergreen_tests_can_fail(
    rt: Runtime, board: FakeBoard, clock: ManualClock
) -> None:
    # Given two different items with the same title and summary (the board adapter's lead text)
    submit_localized(rt, id="first", locales=["en-US"])
    submit_localized(rt, id="second", locales=["en-US"])
    # When both are published
    outcomes = run_every_slot(rt, clock, "first") + run_every_slot(rt, clock, "second")
    # Then the second is refused as a duplicate, although its link differs
    assert outcomes == ["published", "failed"]
    [second] = rt.ledger.publications(item_id="second")
    assert second.last_error is not None and "duplicate" in second.last_error and "HTTP 403" in second.last_error
