"""In-doubt reconciliation on every channel that creates without an idempotency key, and after a crash.

X, LinkedIn and WordPress each answer a create with a 500 after making the post (the row goes
``in_doubt``); then their search for the post is refused (``unconfirmed``, settled by an operator
with ``resolve``) or briefly unavailable (reconciliation is deferred and asked again, then finds the
post). A claim whose worker died (its lease ran out) is reconciled without a retry backoff: found →
published; surely absent → published again at once, exactly once.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from syndicate import Runtime, resolve
from syndicate.base.leases import LocalLease
from syndicate.publishing.content import publication_ref, render_publication
from syndicate.publishing.dispatcher import Dispatcher
from syndicate.publishing.steps import RECONCILE_FIRST_DEFER, do_publish, do_reconcile
from tests.fakes.board import FakeBoard
from tests.reliability.channels import Channel, make_channel
from tests.reliability.matrix import FAULTS, enqueued_one, runtime_for
from tests.reliability.support import board_runtime, enqueued


@pytest.fixture(params=["x", "linkedin", "wordpress"])
def channel(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Channel]:
    ch = make_channel(request.param, "in-doubt-credential-77", tmp_path)
    ch.start()
    yield ch
    ch.stop()


def in_doubt_after_a_500(rt: Runtime, channel: Channel) -> int:
    """An enqueued publication whose create the platform made, then answered 500: now in doubt."""
    pid = enqueued_one(rt)
    channel.fake.fail_next(FAULTS["500 after the post was made"].build(channel))  # type: ignore[arg-type]
    assert do_publish(rt, pid) == "in_doubt"
    return pid


def test_a_refused_search_leaves_the_row_unconfirmed_and_an_operator_resolves_it(
    channel: Channel, config_dir: Callable[..., Path], sqlite_url: str
) -> None:
    with runtime_for(channel, config_dir, sqlite_url, channel.fake.url) as rt:
        # Given a create answered 500 after the post was made
        pid = in_doubt_after_a_500(rt, channel)
        # When the search for the post is refused / Then the row waits for an operator, and nothing is posted again
        channel.fake.fail_next(channel.search_fault(403))
        assert do_reconcile(rt, pid) == "unconfirmed"
        pub = rt.ledger.publication(pid)
        assert pub is not None and "cannot tell whether the post exists" in (pub.last_error or "")
        assert rt.ledger.account_status(channel.account_id)[0] == "ok"  # a search refusal holds no account
        # When the operator finds the post and resolves it / Then it is published with that URL, once
        url = channel.permalink_of_only_post()
        assert resolve(pid, "published", runtime=rt, by="ops", permalink=url).permalink == url
        assert channel.posts() == 1


def test_an_unavailable_search_is_asked_again_later_then_finds_the_post(
    channel: Channel, config_dir: Callable[..., Path], sqlite_url: str
) -> None:
    with runtime_for(channel, config_dir, sqlite_url, channel.fake.url) as rt:
        pid = in_doubt_after_a_500(rt, channel)
        # When the search answers 503 / Then reconciliation is deferred: a reconcile message is sent with a delay
        channel.fake.fail_next(channel.search_fault(503))
        assert do_reconcile(rt, pid) == "deferred"
        [event] = [e for e in rt.ledger.events(publication_id=pid) if e["kind"] == "reconcile-deferred"]
        assert event["detail"]["retry_in_s"] == RECONCILE_FIRST_DEFER.total_seconds()
        assert rt.broker.queues["syndicate.reconcile.DQ"].qsize() == 1
        # When it is asked again / Then the post is found and recorded; nothing was posted twice
        assert do_reconcile(rt, pid) == "published"
        assert channel.posts() == 1


@pytest.fixture
def board() -> Iterator[FakeBoard]:
    with FakeBoard() as b:
        yield b


@pytest.mark.parametrize("post_made", [True, False], ids=["post made before the crash", "nothing sent"])
def test_a_claim_whose_worker_died_is_reconciled_and_retried_without_backoff(
    post_made: bool, config_dir: Callable[..., Path], board: FakeBoard, sqlite_url: str
) -> None:
    with board_runtime(config_dir, board, sqlite_url) as rt:
        # Given a row claimed by a worker that died mid-call (before or after the board made the post)
        [pid] = enqueued(rt)
        pub = rt.ledger.claim(pid, worker="dead-host:4242:Thread-1", lease=timedelta(milliseconds=1))
        assert pub is not None
        if post_made:
            rt.adapter(pub.account).publish(render_publication(rt, pub), publication_ref(rt, pub))
        time.sleep(0.01)
        # When the dispatcher ticks / Then the expired claim goes in doubt and a reconcile is sent
        report = Dispatcher(rt, lease=LocalLease()).tick()
        assert report.expired == 1
        assert rt.ledger.publication(pid).state == "in_doubt"  # type: ignore[union-attr]
        outcome = do_reconcile(rt, pid)
        # Then a post found is recorded; a post surely absent is retried now, not after a backoff
        if post_made:
            assert outcome == "published"
        else:
            assert outcome == "retrying"
            retry = rt.ledger.publication(pid)
            assert retry is not None and retry.failures == 1 and retry.scheduled_for <= rt.ledger.now()
            assert [p.id for p in rt.ledger.take_due(horizon=timedelta(0), limit=5, actor="t")] == [pid]
            assert do_publish(rt, pid) == "published"
        assert board.posts_by_marker() == {rt.ledger.publication(pid).marker: 1}  # type: ignore[union-attr]
        assert any(e["kind"] == "lease-expired" for e in rt.ledger.events(publication_id=pid))
