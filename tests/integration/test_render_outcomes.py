"""A render that cannot finish, or fails, is a content error: ``failed`` with its reason, never in doubt.

Rendering happens after the claim and before any call, so nothing was sent when it fails: the row
must never be left ``calling`` (to go ``in_doubt`` when its lease runs out, and be rendered again
and again by reconciliation). The adapters below are real adapters for the fake board whose render
is slow, broken or interrupted; the board proves that no post went out.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from datetime import timedelta
from pathlib import Path

import pytest

from syndicate import Runtime, submit
from syndicate.channels.contract import AdapterRegistry, Limits, PostContent, Rendered
from syndicate.channels.rendering import render_post
from syndicate.config.loading import load_config
from syndicate.localization.step import do_localize
from syndicate.publishing import content
from syndicate.publishing.steps import do_publish
from tests.fakes.board import FakeBoard
from tests.helpers import item_data, simple_route
from tests.support.board_adapter import BoardAdapter


def _slow_length(text: str) -> int:
    """A correct counter that costs a lot of CPU per character (a stand-in for a pathological one)."""
    return sum(1 for _ in range(len(text) * 2000)) // 2000


class SlowCounterAdapter(BoardAdapter):
    name = "slow-counter"

    @property
    def limits(self) -> Limits:
        return Limits(max_length=500, counter=_slow_length)

    def render(self, content: PostContent) -> Rendered:
        post = render_post(lead=content.summary * 50, link=content.link, limits=self.limits)
        return Rendered(text=post.text, length=post.length, limit=500, link=content.link)


class BrokenRenderAdapter(BoardAdapter):
    name = "broken-render"

    def render(self, content: PostContent) -> Rendered:
        raise ValueError("an adapter bug")


class Interrupted(BaseException):
    """What a worker's time limit or shutdown raises in the thread (not an Exception)."""


class InterruptedRenderAdapter(BoardAdapter):
    name = "interrupted-render"

    def render(self, content: PostContent) -> Rendered:
        raise Interrupted()


@pytest.fixture
def board() -> Iterator[FakeBoard]:
    with FakeBoard() as b:
        yield b


@pytest.fixture
def make_rt(config_dir: Callable[..., Path], board: FakeBoard, sqlite_url: str) -> Iterator[Callable[[str], Runtime]]:
    with ExitStack() as made:

        def make(adapter: str) -> Runtime:
            d = config_dir(accounts={"b": {"adapter": adapter, "base_url": board.url}},
                           routes=[simple_route("r", ["en-US"], ["b"])])
            reg = AdapterRegistry()
            for cls in (SlowCounterAdapter, BrokenRenderAdapter, InterruptedRenderAdapter):
                reg.register(cls.name, cls)
            return made.enter_context(Runtime.create(config=load_config(d, registry=reg), database_url=sqlite_url,
                                                     redis_url=""))

        yield make


def enqueued(rt: Runtime) -> int:
    sub = submit(item_data(), runtime=rt, ignore_schedule=True)
    rt.ledger.mark_localizations_requested(sub.item_id, sub.revision)
    do_localize(rt, sub.item_id, sub.revision, "en-US")
    [pub] = rt.ledger.take_due(horizon=timedelta(seconds=5), limit=10, actor="t")
    return pub.id


def test_a_render_over_its_cpu_budget_fails_as_a_content_error_and_sends_nothing(
        make_rt: Callable[[str], Runtime], board: FakeBoard, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given an account whose render needs far more CPU than the render budget (made small here)
    monkeypatch.setattr(content, "RENDER_CPU_BUDGET", timedelta(seconds=0.2))
    rt = make_rt("slow-counter")
    pid = enqueued(rt)
    # When the publication is published
    outcome = do_publish(rt, pid)
    # Then it failed for good, with the reason, and the platform got nothing
    pub = rt.ledger.publication(pid)
    assert outcome == "failed" and pub is not None and pub.state == "failed"
    assert "CPU budget" in (pub.last_error or "")
    assert board.posts == []
    assert "in_doubt" not in [e["to_state"] for e in rt.ledger.events(publication_id=pid)]


def test_an_adapter_bug_in_render_fails_the_publication_instead_of_leaving_it_calling(
        make_rt: Callable[[str], Runtime], board: FakeBoard) -> None:
    # Given an adapter whose render raises an ordinary exception
    rt = make_rt("broken-render")
    pid = enqueued(rt)
    # When published / Then the row is failed with the error, not left calling, and nothing was sent
    assert do_publish(rt, pid) == "failed"
    pub = rt.ledger.publication(pid)
    assert pub is not None and pub.state == "failed" and pub.lease_until is None
    assert pub.last_error == "rendering failed: ValueError: an adapter bug"
    assert board.posts == []


def test_an_interrupt_while_rendering_puts_the_publication_back_to_retry_not_in_doubt(
        make_rt: Callable[[str], Runtime], board: FakeBoard) -> None:
    # Given an adapter whose render is interrupted (a time limit or a shutdown in the worker thread)
    rt = make_rt("interrupted-render")
    pid = enqueued(rt)
    # When published, the interrupt still reaches the worker
    with pytest.raises(Interrupted):
        do_publish(rt, pid)
    # Then the row waits for another attempt: nothing was sent, so it is not in doubt
    pub = rt.ledger.publication(pid)
    assert pub is not None and pub.state == "retrying" and pub.lease_until is None
    assert "interrupted while rendering, before any call" in (pub.last_error or "")
    assert board.posts == []
