"""Deletes (``unpublish``) under faults: every channel that deletes over the network × every fault
on the delete, each ending with the post gone exactly once, recorded, nothing left open.

For X, LinkedIn and WordPress one publication is published cleanly, then unpublished while the
fake answers its delete with a fault from the socket: a read timeout after deleting, a reset, a
500 after deleting (in doubt: the platform is asked whether the post still exists), a gateway's
502 (nothing done: retried), or 404 (already gone: done). The delete operation is then driven to a
terminal state the way the worker would. The fake is the oracle: no post left, no second post ever
made, the delete ``done`` and the publication ``unpublished``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import update

from syndicate import Runtime
from syndicate.intake.unpublish import unpublish
from syndicate.ledger.schema import operations
from syndicate.publishing.steps import do_publish
from syndicate.publishing.unpublish import do_unpublish
from tests.fakes.base import Fault
from tests.reliability.channels import Channel, make_channel
from tests.reliability.matrix import enqueued_one, runtime_for, settle

#: The delete request of each channel (method, path).
DELETES = {"x": ("DELETE", r"^/2/tweets/\d+$"), "linkedin": ("DELETE", r"^/rest/posts/.+$"),
           "wordpress": ("DELETE", r"^/wp-json/wp/v2/posts/\d+$")}


@dataclass(frozen=True)
class DeleteFault:
    """A fault on the delete, and what the first attempt records."""

    build: Callable[[str, str, Channel], Fault | None]
    first: str


DELETE_FAULTS: dict[str, DeleteFault] = {
    "read timeout after the delete was made": DeleteFault(
        lambda m, p, ch: Fault("stall", when="after", method=m, path=p, seconds=ch.read_timeout_s * 2.5), "in_doubt"),
    "connection reset after the delete was made": DeleteFault(
        lambda m, p, ch: Fault("close", when="after", method=m, path=p), "in_doubt"),
    "500 after the delete was made": DeleteFault(
        lambda m, p, ch: Fault("status", when="after", method=m, path=p, status=500,
                               body={"status": 500, "message": "Internal Server Error"}), "in_doubt"),
    "502 from a gateway before anything was done": DeleteFault(
        lambda m, p, ch: Fault("status", method=m, path=p, status=502, body=b"<html>Bad Gateway</html>",
                               headers={"Content-Type": "text/html"}), "retrying"),
    "the post was already gone": DeleteFault(lambda m, p, ch: None, "done"),
}


@pytest.fixture(params=sorted(DELETES))
def channel(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Channel]:
    ch = make_channel(request.param, "delete-credential-7d1e2b", tmp_path)
    ch.start()
    yield ch
    ch.stop()


def _make_due(rt: Runtime, op_id: int) -> None:
    with rt.ledger.begin() as conn:
        conn.execute(update(operations).where(operations.c.id == op_id).values(scheduled_for=rt.ledger.now()))


def _settle(rt: Runtime, op_id: int, *, steps: int = 8) -> list[str]:
    """Drive a delete to a terminal state as the worker would, without waiting for backoffs."""
    outcomes: list[str] = []
    for _ in range(steps):
        op = rt.ledger.operation(op_id)
        assert op is not None
        if op.state in ("done", "failed", "unconfirmed"):
            return outcomes
        if op.state == "retrying":
            _make_due(rt, op_id)
        outcomes.append(do_unpublish(rt, op_id))
    raise AssertionError(f"delete {op_id} not terminal after {steps} steps: {outcomes}")


def _remove_on_platform(ch: Channel) -> None:
    fake = ch.fake
    if ch.name == "x" or ch.name == "linkedin":
        fake.posts.clear()  # type: ignore[attr-defined]
    else:
        for post_id in list(fake.posts):  # type: ignore[attr-defined]
            fake.delete_post(post_id)  # type: ignore[attr-defined]


def _live_posts(ch: Channel) -> int:
    if ch.name == "wordpress":
        return sum(1 for p in ch.fake.posts.values() if p["status"] != "trash")  # type: ignore[attr-defined]
    return ch.posts()


@pytest.mark.parametrize("fault", list(DELETE_FAULTS))
def test_each_delete_fault_ends_with_the_post_gone_once_and_recorded(
    channel: Channel, fault: str, config_dir: Callable[..., Path], sqlite_url: str
) -> None:
    case = DELETE_FAULTS[fault]
    method, path = DELETES[channel.name]
    with runtime_for(channel, config_dir, sqlite_url, channel.fake.url) as rt:
        # Given one published post
        pid = enqueued_one(rt)
        assert do_publish(rt, pid) == "published" and channel.posts() == 1
        # And the fault queued on its delete (or the post already removed on the platform)
        f = case.build(method, path, channel)
        if f is None:
            _remove_on_platform(channel)
        else:
            channel.fake.fail_next(f)
        # When the item is unpublished and its delete runs
        [op] = unpublish("item-1", runtime=rt, actor="test").deleting
        first = do_unpublish(rt, op.id)
        # Then the first attempt records what the fault means
        assert first == case.first, rt.ledger.operation(op.id)
        # And driven on as the worker would, the delete is done and the publication unpublished
        later = _settle(rt, op.id)
        done, pub = rt.ledger.operation(op.id), rt.ledger.publication(pid)
        assert done is not None and done.state == "done", (later, done)
        assert pub is not None and pub.state == "unpublished"
        # And the platform shows no post (WordPress keeps it in the trash), and no second post was made
        assert _live_posts(channel) == 0
        creates = [r for r in channel.fake.requests if r.method == channel.create_method
                   and re.search(channel.create_path, r.path)]
        assert len(creates) == 1
        # And a repeat makes no call
        calls = len(channel.fake.requests)
        again = unpublish("item-1", runtime=rt, actor="test")
        assert again.nothing_to_do and len(channel.fake.requests) == calls


#: The update request of each channel that updates a post in place over the network.
UPDATES = {"linkedin": r"^/rest/posts/.+$", "wordpress": r"^/wp-json/wp/v2/posts/\d+$"}
UPDATE_FAULTS = {k: v for k, v in DELETE_FAULTS.items() if k != "the post was already gone"}


@pytest.mark.parametrize("name", sorted(UPDATES))
@pytest.mark.parametrize("fault", list(UPDATE_FAULTS))
def test_each_update_fault_ends_with_the_one_post_showing_the_new_revision(
    name: str, fault: str, config_dir: Callable[..., Path], sqlite_url: str, tmp_path: Path
) -> None:
    ch = make_channel(name, "update-credential-5b2c8e", tmp_path)
    ch.start()
    try:
        with runtime_for(ch, config_dir, sqlite_url, ch.fake.url) as rt:
            # Given revision 1 published, and a fault queued on revision 2's update of that post
            first_pid = enqueued_one(rt)
            assert do_publish(rt, first_pid) == "published"
            pid = enqueued_one(rt, revision=2, title="A corrected title", summary="A corrected summary.")
            f = UPDATE_FAULTS[fault].build("POST", UPDATES[name], ch)
            assert f is not None
            ch.fake.fail_next(f)
            # When revision 2 is published: an update by id is idempotent, so any doubt is retried
            first = do_publish(rt, pid)
            later = settle(rt, pid)
            pub, old = rt.ledger.publication(pid), rt.ledger.publication(first_pid)
        # Then it ends published as the same post, and the platform holds exactly that one post
        assert first == "retrying", first
        assert pub is not None and old is not None and pub.state == "published", (later, pub)
        assert pub.remote_id == old.remote_id and ch.posts() == 1
        if name == "wordpress":
            [post] = ch.fake.posts.values()  # type: ignore[attr-defined]
            assert post["title"] == "A corrected title"
        else:
            [post] = ch.fake.created()  # type: ignore[attr-defined]
            assert "A corrected" in post["commentary"]
    finally:
        ch.stop()
