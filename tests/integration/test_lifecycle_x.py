"""X's revision policies and unpublish, against the loopback X of ``tests/fakes/x.py`` (which
refuses to delete another account's post): ``keep`` (default), ``reply`` and ``replace``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from syndicate import Runtime
from syndicate.intake.unpublish import unpublish
from syndicate.ledger.schema import publications
from syndicate.publishing.steps import do_publish
from syndicate.publishing.unpublish import do_unpublish
from tests.fakes.x import FakeX, x_account, x_environ
from tests.helpers import simple_route
from tests.reliability.matrix import enqueued_one


@pytest.fixture
def fx() -> Iterator[FakeX]:
    with FakeX() as fake:
        yield fake


def x_runtime(config_dir: Callable[..., Path], fx: FakeX, sqlite_url: str, **account: Any) -> Runtime:
    acc = {**x_account(fx, username="example", reconcile_settle_s=0), **account}
    cfg = config_dir(accounts={"x-na": acc}, routes=[simple_route("na", ["en-US"], ["x-na"])])
    return Runtime.create(config=cfg, database_url=sqlite_url, redis_url="", environ=x_environ(fx))


def test_x_keeps_its_post_by_default_when_a_revision_arrives(
    config_dir: Callable[..., Path], fx: FakeX, sqlite_url: str
) -> None:
    # Given revision 1 posted on X, on an account with no on_revision
    with x_runtime(config_dir, fx, sqlite_url) as rt:
        assert do_publish(rt, enqueued_one(rt)) == "published"
        # When revision 2 (a corrected summary) comes due
        second = enqueued_one(rt, revision=2, summary="A corrected summary.")
        outcome = do_publish(rt, second)
        row = rt.ledger.publication(second)
    # Then nothing is sent: one post, and the revision recorded as kept
    assert outcome == "skipped" and len(fx.posts) == 1
    assert row is not None and row.state == "skipped" and "on_revision: keep" in (row.last_error or "")


def test_x_reply_policy_posts_the_correction_as_a_reply_to_the_post(
    config_dir: Callable[..., Path], fx: FakeX, sqlite_url: str
) -> None:
    with x_runtime(config_dir, fx, sqlite_url, on_revision="reply") as rt:
        first = enqueued_one(rt)
        do_publish(rt, first)
        second = enqueued_one(rt, revision=2, summary="A corrected summary.")
        outcome = do_publish(rt, second)
        old, new = rt.ledger.publication(first), rt.ledger.publication(second)
    # Then the correction is a second post replying to the first, and both stay
    assert outcome == "published" and old is not None and new is not None
    assert len(fx.posts) == 2 and fx.posts[1].reply_to == old.remote_id == fx.posts[0].id
    assert "A corrected summary" in fx.posts[1].text and new.remote_id == fx.posts[1].id


def test_x_replace_policy_deletes_the_post_then_posts_anew(
    config_dir: Callable[..., Path], fx: FakeX, sqlite_url: str
) -> None:
    with x_runtime(config_dir, fx, sqlite_url, on_revision="replace") as rt:
        first = enqueued_one(rt)
        do_publish(rt, first)
        second = enqueued_one(rt, revision=2, summary="A corrected summary.")
        # When revision 2 comes due: the earlier post's delete is asked for first, and the row waits
        waiting = do_publish(rt, second)
        [op] = rt.ledger.operations(item_id="item-1")
        deleted = do_unpublish(rt, op.id)
        # And once the delete is done, the new post goes out
        outcome = do_publish(rt, second)
        old, new = rt.ledger.publication(first), rt.ledger.publication(second)
    # Then X holds only the new post, and the ledger says the old one was unpublished
    assert (waiting, deleted, outcome) == ("early", "done", "published")
    assert old is not None and new is not None and old.state == "unpublished"
    [post] = fx.posts
    assert post.id == new.remote_id != old.remote_id and "A corrected summary" in post.text and post.reply_to is None


def test_x_unpublish_deletes_the_post_and_another_accounts_post_is_refused(
    config_dir: Callable[..., Path], fx: FakeX, sqlite_url: str
) -> None:
    # Given a post of ours, and a post by another account that the ledger (wrongly) holds for another item
    with x_runtime(config_dir, fx, sqlite_url) as rt:
        pid = enqueued_one(rt)
        do_publish(rt, pid)
        [op] = unpublish("item-1", runtime=rt, actor="test").deleting
        outcome = do_unpublish(rt, op.id)
        foreign = fx.add_foreign("Someone else's post")
        other = enqueued_one(rt, id="item-2", summary="Another item.")
        do_publish(rt, other)
        with rt.ledger.begin() as conn:
            conn.execute(update(publications).where(publications.c.id == other).values(remote_id=foreign.id))
        [op2] = unpublish("item-2", runtime=rt, actor="test").deleting
        refused = do_unpublish(rt, op2.id)
        failed = rt.ledger.operation(op2.id)
    # Then our post is gone after one DELETE, and the other account's post is refused with X's 403
    assert outcome == "done" and all(p.id != op.remote_id for p in fx.posts)
    assert refused == "failed" and failed is not None and "403" in (failed.last_error or "")
    assert any(p.id == foreign.id for p in fx.posts)
