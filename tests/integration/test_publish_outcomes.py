"""Each kind of channel outcome lands in the right ledger state (claim → call → record)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from syndicate import Runtime, submit
from syndicate.channels.contract import AdapterRegistry
from syndicate.config.loading import load_config
from syndicate.localization.step import do_localize
from syndicate.publishing.steps import do_publish, do_reconcile
from tests.fakes.base import Fault
from tests.fakes.board import FakeBoard
from tests.helpers import item_data, simple_route
from tests.support.board_adapter import BoardAdapter


@pytest.fixture
def board() -> Iterator[FakeBoard]:
    with FakeBoard() as b:
        yield b


@pytest.fixture
def rt(config_dir: Callable[..., Path], board: FakeBoard, sqlite_url: str) -> Iterator[Runtime]:
    d = config_dir(accounts={"b": {"adapter": "board", "base_url": board.url, "read_timeout_s": 0.5}},
                   routes=[simple_route("r", ["en-US"], ["b"])])
    reg = AdapterRegistry()
    reg.register("board", BoardAdapter)
    with Runtime.create(config=load_config(d, registry=reg), database_url=sqlite_url, redis_url="") as runtime:
        yield runtime


def enqueued(rt: Runtime) -> int:
    sub = submit(item_data(), runtime=rt, ignore_schedule=True)
    rt.ledger.mark_localizations_requested(sub.item_id, sub.revision)
    do_localize(rt, sub.item_id, sub.revision, "en-US")
    [pub] = rt.ledger.take_due(horizon=timedelta(seconds=5), limit=10, actor="t")
    return pub.id


def test_success_records_permalink_and_rendered_text(rt: Runtime, board: FakeBoard) -> None:
    pid = enqueued(rt)
    assert do_publish(rt, pid) == "published"
    pub = rt.ledger.publication(pid)
    assert pub is not None and pub.state == "published" and pub.permalink == f"{board.url}/p/1"
    assert pub.rendered is not None and pub.tagged_url in pub.rendered["text"]
    assert pub.attempts == 1 and pub.published_at is not None


def test_a_server_error_on_create_goes_in_doubt_then_reconcile_finds_the_post(rt: Runtime, board: FakeBoard) -> None:
    # Given the board creates the post but the answer is lost (500 after the effect)
    board.fail_next(Fault("status", when="after", method="POST", status=500))
    pid = enqueued(rt)
    # When publishing, then the row is in doubt, not retried blindly
    assert do_publish(rt, pid) == "in_doubt"
    assert rt.ledger.publication(pid).state == "in_doubt"  # type: ignore[union-attr]
    # And reconciliation finds the post and records it: one post on the board
    assert do_reconcile(rt, pid) == "published"
    assert len(board.posts) == 1
    assert rt.ledger.publication(pid).permalink == f"{board.url}/p/1"  # type: ignore[union-attr]


def test_a_read_timeout_after_the_post_was_made_never_makes_a_second_post(rt: Runtime, board: FakeBoard) -> None:
    board.fail_next(Fault("stall", when="after", method="POST", seconds=1.5))
    pid = enqueued(rt)
    assert do_publish(rt, pid) == "in_doubt"
    assert do_reconcile(rt, pid) == "published"
    assert len(board.posts) == 1


def test_in_doubt_with_no_post_found_retries_with_backoff(rt: Runtime, board: FakeBoard) -> None:
    board.fail_next(Fault("status", when="before", method="POST", status=500))
    pid = enqueued(rt)
    assert do_publish(rt, pid) == "in_doubt"
    assert do_reconcile(rt, pid) == "retrying"
    pub = rt.ledger.publication(pid)
    assert pub is not None and pub.failures == 1 and pub.scheduled_for > rt.ledger.now()
    assert len(board.posts) == 0


def test_connection_refused_is_transient_and_retried_later(rt: Runtime, board: FakeBoard) -> None:
    pid = enqueued(rt)
    board.stop()
    assert do_publish(rt, pid) == "retrying"
    pub = rt.ledger.publication(pid)
    assert pub is not None and pub.state == "retrying" and "unreachable" in (pub.last_error or "")
    assert timedelta(seconds=10) < pub.scheduled_for - rt.ledger.now() < timedelta(seconds=20)


def test_a_permanent_refusal_fails_with_the_platform_message(rt: Runtime, board: FakeBoard) -> None:
    board.fail_next(Fault("status", method="POST", status=422, body={"error": "text is too long"}))
    pid = enqueued(rt)
    assert do_publish(rt, pid) == "failed"
    pub = rt.ledger.publication(pid)
    assert pub is not None and pub.state == "failed" and "text is too long" in (pub.last_error or "")


def test_the_retry_budget_ends_in_failed_with_the_last_error(rt: Runtime, board: FakeBoard) -> None:
    pid = enqueued(rt)
    board.stop()
    for _ in range(rt.timing.max_attempts):
        assert rt.ledger.publication(pid).state in ("enqueued", "retrying")  # type: ignore[union-attr]
        with rt.ledger.begin() as conn:  # make the retry due now
            from sqlalchemy import update

            from syndicate.ledger.schema import publications
            conn.execute(update(publications).where(publications.c.id == pid)
                         .values(scheduled_for=rt.ledger.now() - timedelta(seconds=1)))
        do_publish(rt, pid)
    pub = rt.ledger.publication(pid)
    assert pub is not None and pub.state == "failed"
    assert pub.last_error is not None and pub.last_error.startswith(f"gave up after {rt.timing.max_attempts}")


def test_a_row_queued_before_its_account_was_marked_is_held_not_burned(rt: Runtime, board: FakeBoard) -> None:
    # Given a publication already enqueued when its account is marked as needing credentials
    pid = enqueued(rt)
    rt.ledger.set_account_status("b", "needs_credentials", "token revoked", actor="t")
    # When its message is processed, then nothing is sent and the row waits, attempts untouched
    assert do_publish(rt, pid) == "held"
    pub = rt.ledger.publication(pid)
    assert pub is not None and pub.state == "scheduled" and pub.attempts == 0
    assert "needs_credentials: token revoked" in (pub.last_error or "")
    assert board.requests == []
    # And once the account is reset, the dispatcher takes it again and it publishes
    rt.ledger.set_account_status("b", "ok", None, actor="t")
    [again] = rt.ledger.take_due(horizon=timedelta(seconds=5), limit=10, actor="t")
    assert do_publish(rt, again.id) == "published"
