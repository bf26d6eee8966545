"""A permalink a platform returns is checked before the ledger keeps it: a post that was made stays
published, with the tagged URL as its back-link and a warning, and is never posted again."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import ClassVar

import pytest

from syndicate import Runtime, submit
from syndicate.channels.contract import AdapterRegistry, PublicationRef, Receipt, Rendered
from syndicate.config.loading import load_config
from syndicate.localization.step import do_localize
from syndicate.publishing.steps import do_publish
from tests.fakes.board import FakeBoard
from tests.helpers import item_data, simple_route
from tests.support.board_adapter import BoardAdapter


class OddPermalinkAdapter(BoardAdapter):
    """Posts to the board, then reports the permalink the test sets."""

    name = "odd-permalink"
    permalink: ClassVar[str] = ""

    def publish(self, rendered: Rendered, publication: PublicationRef) -> Receipt:
        receipt = super().publish(rendered, publication)
        return Receipt(remote_id=receipt.remote_id, permalink=self.permalink)


@pytest.fixture
def board() -> Iterator[FakeBoard]:
    with FakeBoard() as b:
        yield b


@pytest.fixture
def rt(config_dir: Callable[..., Path], board: FakeBoard, sqlite_url: str) -> Iterator[Runtime]:
    d = config_dir(accounts={"b": {"adapter": "odd-permalink", "base_url": board.url}},
                   routes=[simple_route("r", ["en-US"], ["b"])])
    reg = AdapterRegistry()
    reg.register("odd-permalink", OddPermalinkAdapter)
    with Runtime.create(config=load_config(d, registry=reg), database_url=sqlite_url, redis_url="") as runtime:
        yield runtime


def _publish(rt: Runtime) -> int:
    sub = submit(item_data(), runtime=rt, ignore_schedule=True)
    rt.ledger.mark_localizations_requested(sub.item_id, sub.revision)
    do_localize(rt, sub.item_id, sub.revision, "en-US")
    [pub] = rt.ledger.take_due(horizon=timedelta(seconds=5), limit=10, actor="t")
    assert do_publish(rt, pub.id) == "published"
    return pub.id


@pytest.mark.parametrize(("permalink", "reason"), [
    ("javascript:alert(document.cookie)", "its scheme is 'javascript'"),
    ("https://board.example/p/1\u0007", "control or invisible"),
    ("https://board.example/p/1\x1b[31m", "control or invisible"),
    ("https://board.example/\u202egnp.exe", "control or invisible"),
    ("https://board.example/p/1 now", "whitespace"),
    ("https://board.example/" + "a" * 3000, "longer than 2,048 characters"),
    ("https://user:secret@board.example/p/1", "carries credentials"),
    ("/p/1", "its scheme is 'missing'"),
    ("", "it is empty"),
])
def test_an_unusable_permalink_keeps_the_post_published_with_the_tagged_url_and_a_warning(
        rt: Runtime, board: FakeBoard, permalink: str, reason: str) -> None:
    # Given a platform that makes the post but answers with an unusable permalink
    OddPermalinkAdapter.permalink = permalink
    # When the publication is published
    pid = _publish(rt)
    # Then it is published (once), its back-link the tagged URL, and the event says why
    pub = rt.ledger.publication(pid)
    assert pub is not None and pub.state == "published" and pub.permalink == pub.tagged_url
    assert len(board.posts) == 1
    [event] = [e for e in rt.ledger.events(publication_id=pid) if e["kind"] == "published"]
    [warning] = event["detail"]["warnings"]
    assert reason in warning and "back-link is the tagged URL" in warning
    assert permalink not in warning or permalink == ""
    # And publishing again does nothing
    assert do_publish(rt, pid) == "not-claimable" and len(board.posts) == 1


def test_a_well_formed_permalink_is_kept_as_the_platform_gave_it(rt: Runtime) -> None:
    OddPermalinkAdapter.permalink = "https://board.example/p/1?ref=syndicate#top"
    pid = _publish(rt)
    pub = rt.ledger.publication(pid)
    assert pub is not None and pub.permalink == "https://board.example/p/1?ref=syndicate#top"
