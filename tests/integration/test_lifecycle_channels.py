"""A post's whole life on partner webhooks, partner feeds and LinkedIn: a revision reaches the post
that went out, ``unpublish`` withdraws it, a repeat makes no call.

Each step runs the pipeline functions one at a time against the loopback fakes of ``tests/fakes/``
(the webhook receiver verifies signatures and dedupes on ``webhook-id``; the LinkedIn fake refuses a
partial update or delete without its ``X-RestLi-Method`` header and another author's post).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from adapters.feeds import entry_id_for
from syndicate import Runtime, submit
from syndicate.intake.unpublish import unpublish
from syndicate.publishing.steps import do_publish
from syndicate.publishing.unpublish import do_unpublish
from tests.fakes.base import Fault
from tests.fakes.linkedin import FakeLinkedIn, TokenGrant
from tests.fakes.webhook_receiver import FakeWebhookReceiver
from tests.helpers import item_data, simple_route
from tests.integration.test_feeds_pipeline import Setup as FeedSetup
from tests.integration.test_feeds_pipeline import read_atom
from tests.integration.test_feeds_pipeline import setup as feeds_setup
from tests.integration.test_linkedin_publish import AUTHOR, TOKEN, linkedin
from tests.integration.test_linkedin_publish import enqueue as li_enqueue
from tests.integration.test_linkedin_publish import make_runtime as li_runtime
from tests.integration.test_webhooks_pipeline import ENV, hook_account, receiver

__all__ = ["feeds_setup", "linkedin", "receiver"]


def _run_one(rt: Runtime) -> None:
    """Localize and publish every due publication, one step at a time."""
    from datetime import timedelta

    from syndicate.localization.step import do_localize
    for item_id, revision, locale in rt.ledger.localizations_to_request(stale_after=timedelta(0), limit=10):
        do_localize(rt, item_id, revision, locale)
    for pub in rt.ledger.take_due(horizon=timedelta(seconds=5), limit=10, actor="test"):
        do_publish(rt, pub.id)


def hooks_runtime(config_dir: Callable[..., Path], url: str, database_url: str) -> Runtime:
    cfg = config_dir(accounts={"partner-hook": hook_account(url)},
                     routes=[simple_route("partners", ["en-US"], ["partner-hook"])])
    return Runtime.create(config=cfg, database_url=database_url, redis_url="", environ=ENV)


def test_webhooks_revision_is_an_updated_message_naming_the_same_publication(
    config_dir: Callable[..., Path], sqlite_url: str, receiver: FakeWebhookReceiver
) -> None:
    # Given revision 1 was delivered to a partner
    with hooks_runtime(config_dir, receiver.endpoint, sqlite_url) as rt:
        submit(item_data(), runtime=rt, ignore_schedule=True)
        _run_one(rt)
        # When revision 2 is submitted and published
        submit(item_data(revision=2, title="Corrected title"), runtime=rt, ignore_schedule=True)
        _run_one(rt)
        pubs = {p.revision: p for p in rt.ledger.publications(item_id="item-1")}
    # Then the partner got a second, distinct message of type content.updated naming the first one
    first, second = receiver.deliveries
    assert json.loads(first.body)["type"] == "content.published"
    update = json.loads(second.body)
    assert update["type"] == "content.updated" and update["data"]["title"] == "Corrected title"
    assert update["data"]["publication_id"] == first.webhook_id != second.webhook_id
    assert receiver.duplicates == [] and receiver.rejected == []
    # And both rows stand for the same publication on the partner's side
    assert pubs[1].remote_id == pubs[2].remote_id == first.webhook_id and pubs[2].state == "published"


def test_webhooks_unpublish_sends_one_deleted_message_and_a_repeat_sends_none(
    config_dir: Callable[..., Path], sqlite_url: str, receiver: FakeWebhookReceiver
) -> None:
    # Given two revisions delivered to a partner (one publication there)
    with hooks_runtime(config_dir, receiver.endpoint, sqlite_url) as rt:
        submit(item_data(), runtime=rt, ignore_schedule=True)
        _run_one(rt)
        submit(item_data(revision=2, title="Corrected title"), runtime=rt, ignore_schedule=True)
        _run_one(rt)
        # When the item is unpublished, the first answer being a 503 (retried with the same webhook-id)
        receiver.fail_next(Fault("status", method="POST", path="/hooks$", status=503))
        [op] = unpublish("item-1", runtime=rt, actor="cli").deleting
        first = do_unpublish(rt, op.id)
        waiting = rt.ledger.operation(op.id)
        assert waiting is not None
        rt.ledger.clock = _Stopped(waiting.scheduled_for)  # type: ignore[assignment]
        second = do_unpublish(rt, op.id)
        again = unpublish("item-1", runtime=rt, actor="cli")
        states = {p.revision: p.state for p in rt.ledger.publications(item_id="item-1")}
    # Then exactly one deleted message arrived, naming the publication
    deleted = [json.loads(d.body) for d in receiver.deliveries if json.loads(d.body)["type"] == "content.deleted"]
    assert (first, second) == ("retrying", "done")
    assert [d["data"]["publication_id"] for d in deleted] == [receiver.deliveries[0].webhook_id]
    assert states == {1: "unpublished", 2: "unpublished"}
    assert again.nothing_to_do and len(receiver.deliveries) == 3


def test_feeds_unpublish_removes_the_entry_from_both_files(feeds_setup: Callable[..., FeedSetup]) -> None:
    # Given a feed with two items
    s = feeds_setup()
    submit(item_data(id="other"), runtime=s.rt, ignore_schedule=True)
    submit(item_data(id="launch"), runtime=s.rt, ignore_schedule=True)
    s.run()
    # When one is unpublished
    [op] = unpublish("launch", runtime=s.rt, actor="cli").deleting
    outcome = do_unpublish(s.rt, op.id)
    again = unpublish("launch", runtime=s.rt, actor="cli")
    # Then only the other entry is left, in Atom and in RSS, and a repeat asks for nothing
    _, entries = read_atom(s.files("en-US")[0])
    rss = s.files("en-US")[1].read_text(encoding="utf-8")
    assert outcome == "done" and [e.id for e in entries] == [entry_id_for("other", "en-US")]
    assert op.remote_id not in rss
    assert again.nothing_to_do


def test_linkedin_revision_updates_the_commentary_in_place(
    config_dir: Callable[..., Path], sqlite_url: str, linkedin: FakeLinkedIn
) -> None:
    # Given revision 1 was posted
    with li_runtime(config_dir, sqlite_url, linkedin.url) as rt:
        first = li_enqueue(rt)
        do_publish(rt, first)
        # When revision 2 (a new summary) is published
        second = li_enqueue(rt, item_data(revision=2, summary="A corrected summary."))
        outcome = do_publish(rt, second)
        old, new = rt.ledger.publication(first), rt.ledger.publication(second)
    # Then the one post shows the new text under the same URN and permalink, sent as a partial update
    assert outcome == "published" and old is not None and new is not None
    [post] = linkedin.created()
    assert "A corrected summary" in linkedin.visible(post["id"])
    assert new.remote_id == old.remote_id == post["id"] and new.permalink == old.permalink
    [update] = [r for r in linkedin.requests if r.method == "POST" and r.path.startswith("/rest/posts/")]
    assert update.header("X-RestLi-Method") == "PARTIAL_UPDATE"
    assert list(update.json()["patch"]["$set"]) == ["commentary"]


def test_linkedin_revision_with_keep_policy_leaves_the_post(
    config_dir: Callable[..., Path], sqlite_url: str, linkedin: FakeLinkedIn, tmp_path: Path
) -> None:
    # Given an account whose revisions keep the post as it is
    cfg = config_dir(
        accounts={"li": {"adapter": "linkedin", "base_url": linkedin.url, "on_revision": "keep",
                         "credentials": {"access_token": "${LI_TOKEN}"}, "options": {"author": AUTHOR}}},
        routes=[simple_route("na", ["en-US"], ["li"])])
    with Runtime.create(config=cfg, database_url=sqlite_url, redis_url="", environ={"LI_TOKEN": TOKEN}) as rt:
        first = li_enqueue(rt)
        do_publish(rt, first)
        calls = len(linkedin.requests)
        second = li_enqueue(rt, item_data(revision=2, summary="A corrected summary."))
        outcome = do_publish(rt, second)
        new = rt.ledger.publication(second)
    # Then no call was made and the revision is recorded as skipped, naming the policy
    assert outcome == "skipped" and len(linkedin.requests) == calls
    assert new is not None and new.state == "skipped" and new.last_error and "on_revision: keep" in new.last_error


def test_linkedin_unpublish_deletes_the_post_with_the_delete_method(
    config_dir: Callable[..., Path], sqlite_url: str, linkedin: FakeLinkedIn
) -> None:
    # Given a posted item
    with li_runtime(config_dir, sqlite_url, linkedin.url) as rt:
        pub = li_enqueue(rt)
        do_publish(rt, pub)
        # When it is unpublished
        [op] = unpublish("item-1", runtime=rt, actor="cli").deleting
        outcome = do_unpublish(rt, op.id)
    # Then the post is gone after one DELETE carrying X-RestLi-Method: DELETE
    [delete] = [r for r in linkedin.requests if r.method == "DELETE"]
    assert outcome == "done" and linkedin.created() == []
    assert delete.header("X-RestLi-Method") == "DELETE" and delete.path.endswith(op.remote_id.replace(":", "%3A"))


def test_linkedin_delete_of_another_authors_post_fails_with_the_platforms_message(
    config_dir: Callable[..., Path], sqlite_url: str, linkedin: FakeLinkedIn
) -> None:
    # Given a posted item whose token later lost the right to act for the author
    with li_runtime(config_dir, sqlite_url, linkedin.url) as rt:
        pub = li_enqueue(rt)
        do_publish(rt, pub)
        linkedin.tokens[TOKEN] = TokenGrant({"urn:li:organization:999"})
        [op] = unpublish("item-1", runtime=rt, actor="cli").deleting
        outcome = do_unpublish(rt, op.id)
        failed = rt.ledger.operation(op.id)
        row = rt.ledger.publication(pub)
    # Then the delete failed, keeping LinkedIn's message, and the post stays recorded as published
    assert outcome == "failed" and failed is not None and failed.last_error
    assert "ACCESS_DENIED" in failed.last_error or "permissions" in failed.last_error
    assert row is not None and row.state == "published" and len(linkedin.created()) == 1


class _Stopped:
    """A clock stopped at one instant (a retry's due time)."""

    def __init__(self, when: object) -> None:
        self.when = when

    def now(self) -> object:
        return self.when


def test_a_failed_delete_is_tried_again_by_the_next_unpublish(
    config_dir: Callable[..., Path], sqlite_url: str, linkedin: FakeLinkedIn
) -> None:
    # Given a delete that failed because the token lost the right to act for the author
    with li_runtime(config_dir, sqlite_url, linkedin.url) as rt:
        pub = li_enqueue(rt)
        do_publish(rt, pub)
        linkedin.tokens[TOKEN] = TokenGrant({"urn:li:organization:999"})
        [op] = unpublish("item-1", runtime=rt, actor="cli").deleting
        assert do_unpublish(rt, op.id) == "failed"
        # When the right is back and the item is unpublished again
        linkedin.tokens[TOKEN] = TokenGrant({AUTHOR})
        [again] = unpublish("item-1", runtime=rt, actor="cli").deleting
        outcome = do_unpublish(rt, again.id)
        row = rt.ledger.publication(pub)
    # Then the same delete row was armed again and is done; the post is gone
    assert again.id == op.id and outcome == "done"
    assert row is not None and row.state == "unpublished" and linkedin.created() == []
