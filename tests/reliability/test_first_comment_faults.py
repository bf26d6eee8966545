"""The fault matrix for first comments: on X and LinkedIn, a comment call that fails in any way
ends with the comment under its post exactly once (or not at all when the platform refused it).

Each case publishes a post, releases its first comment, queues the fault on the comment's create
(X: the reply, ``POST /2/tweets``; LinkedIn: ``POST /rest/socialActions/{urn}/comments``), publishes
the comment through the real pipeline and drives it to a terminal state as the worker would
(:func:`tests.reliability.matrix.settle`). The fake is the oracle: the comments it holds under the post.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from syndicate import Runtime, submit
from syndicate.localization.step import do_localize
from syndicate.publishing.steps import do_publish
from tests.fakes.base import Fault
from tests.fakes.linkedin import FakeLinkedIn
from tests.fakes.x import FakeX
from tests.helpers import item_data, simple_route
from tests.reliability.channels import Channel, make_channel
from tests.reliability.matrix import settle

#: The comment's create on each channel.
COMMENT_CREATE = {"x": r"^/2/tweets$", "linkedin": r"^/rest/socialActions/[^/]+/comments$"}

#: fault → (what the first publish of the comment records, its terminal state).
FAULTS: dict[str, tuple[Callable[[Channel, str], Fault], str, str]] = {
    "read timeout after the comment was made": (
        lambda ch, path: Fault("stall", when="after", method="POST", path=path, seconds=ch.read_timeout_s * 2.5),
        "in_doubt", "published"),
    "connection closed after the comment was made": (
        lambda ch, path: Fault("close", when="after", method="POST", path=path), "in_doubt", "published"),
    "500 after the comment was made": (
        lambda ch, path: Fault("status", when="after", method="POST", path=path, status=500,
                               body={"status": 500, "message": "Internal Server Error"}), "in_doubt", "published"),
    "500 before anything was made": (
        lambda ch, path: Fault("status", method="POST", path=path, status=500,
                               body={"status": 500, "message": "Internal Server Error"}), "in_doubt", "published"),
    "connection closed before anything was made": (
        lambda ch, path: Fault("close", method="POST", path=path), "in_doubt", "published"),
    "422 the comment is invalid": (
        lambda ch, path: Fault("status", method="POST", path=path, status=422,
                               body={"status": 422, "message": "Unprocessable"}), "failed", "failed"),
}


@pytest.fixture(params=sorted(COMMENT_CREATE))
def channel(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Channel]:
    ch = make_channel(request.param, "comment-credential-5e1d07", tmp_path)
    ch.start()
    yield ch
    ch.stop()


def comments_under(ch: Channel, post_remote_id: str) -> int:
    """How many comments (X: replies) the fake holds under the post."""
    if isinstance(ch.fake, FakeX):
        return sum(1 for p in ch.fake.posts if p.reply_to == post_remote_id)
    assert isinstance(ch.fake, FakeLinkedIn)
    return len(ch.fake.comments_on(post_remote_id))


@pytest.mark.parametrize("fault", list(FAULTS))
def test_a_failing_comment_call_leaves_the_comment_under_its_post_once_or_not_at_all(
    channel: Channel, fault: str, config_dir: Callable[..., Path], sqlite_url: str
) -> None:
    build, first, final = FAULTS[fault]
    cfg = config_dir(accounts={channel.account_id: channel.account(channel.fake.url)},
                     routes=[simple_route("r", ["en-US"], [channel.account_id])])
    with Runtime.create(config=cfg, database_url=sqlite_url, redis_url="", environ=channel.environ()) as rt:
        # Given a published post whose first comment was released
        sub = submit(item_data(first_comment="Questions? Ask below: https://example.com/post"), runtime=rt,
                     ignore_schedule=True)
        rt.ledger.mark_localizations_requested(sub.item_id, sub.revision)
        do_localize(rt, sub.item_id, sub.revision, "en-US")
        [post] = rt.ledger.take_due(horizon=timedelta(seconds=5), limit=10, actor="test")
        assert do_publish(rt, post.id) == "published"
        [comment] = rt.ledger.take_due(horizon=timedelta(seconds=5), limit=10, actor="test")
        assert comment.parent_id == post.id
        posted = rt.ledger.publication(post.id)
        assert posted is not None and posted.remote_id
        # When the comment's call meets the fault
        channel.fake.fail_next(build(channel, COMMENT_CREATE[channel.name]))
        assert do_publish(rt, comment.id) == first
        # And the comment is driven on as the worker would (reconciled, retried)
        settle(rt, comment.id)
        done = rt.ledger.publication(comment.id)
        assert done is not None and done.state == final, done.last_error
        # Then the platform holds the comment under the post exactly once (none when it was refused)
        assert comments_under(channel, posted.remote_id) == (1 if final == "published" else 0)
        if final == "published":
            assert done.remote_id and done.permalink
