"""A post's whole life on WordPress: revisions reach the published post, ``unpublish`` trashes it.

Each step runs the pipeline functions one at a time (claim → call → record), against the loopback
WordPress of ``tests/fakes/wordpress.py``, which refuses an update or delete of an unknown id.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from syndicate.intake.unpublish import unpublish
from syndicate.publishing.steps import do_publish
from syndicate.publishing.unpublish import do_unpublish
from tests.fakes.base import Fault
from tests.fakes.wordpress import FakeWordPress
from tests.helpers import item_data
from tests.integration.test_wordpress_publish import enqueue, make_runtime, site

__all__ = ["site"]


def deletes(wp: FakeWordPress) -> list[str]:
    return [r.path for r in wp.requests if r.method == "DELETE"]


def test_wordpress_revision_updates_the_post_in_place_and_records_each_version(
    config_dir: Callable[..., Path], sqlite_url: str, site: FakeWordPress
) -> None:
    # Given revision 1 was published as a post
    with make_runtime(config_dir, sqlite_url, site.url) as rt:
        first = enqueue(rt)
        assert do_publish(rt, first) == "published"
        # When revision 2 (a typo fixed in the title) is published
        second = enqueue(rt, item_data(revision=2, title="A fixed title"))
        assert do_publish(rt, second) == "published"
        old, new = rt.ledger.publication(first), rt.ledger.publication(second)
        kinds = [e["kind"] for e in rt.ledger.events(publication_id=second)]
    # Then the one post shows the new title under the same id and permalink
    [post] = site.posts.values()
    assert post["title"] == "A fixed title"
    assert old is not None and new is not None
    assert new.remote_id == old.remote_id == str(post["id"]) and new.permalink == old.permalink
    # And each version keeps its own text hash and utm_content; the change is recorded as an update
    assert new.text_hash != old.text_hash
    assert (old.utm["utm_content"], new.utm["utm_content"]) == ("item-1.r1.en-US.blog.0", "item-1.r2.en-US.blog.0")
    assert "updated" in kinds


def test_wordpress_revision_that_changes_nothing_the_blog_shows_makes_no_call(
    config_dir: Callable[..., Path], sqlite_url: str, site: FakeWordPress
) -> None:
    # Given revision 1 was published
    with make_runtime(config_dir, sqlite_url, site.url) as rt:
        first = enqueue(rt)
        assert do_publish(rt, first) == "published"
        calls = len(site.requests)
        # When revision 2 changes only the text of another channel (X), which a blog never shows
        second = enqueue(rt, item_data(revision=2, overrides={"channels": {"x": {"en-US": "Only on X."}}}))
        outcome = do_publish(rt, second)
        old, new = rt.ledger.publication(first), rt.ledger.publication(second)
        kinds = [e["kind"] for e in rt.ledger.events(publication_id=second)]
    # Then nothing was sent, and the revision stands for the same post with revision 1's link
    assert outcome == "published" and len(site.requests) == calls
    assert old is not None and new is not None and "unchanged" in kinds
    assert (new.remote_id, new.permalink, new.tagged_url) == (old.remote_id, old.permalink, old.tagged_url)


def test_wordpress_unpublish_trashes_the_post_and_a_repeat_makes_no_call(
    config_dir: Callable[..., Path], sqlite_url: str, site: FakeWordPress
) -> None:
    # Given revisions 1 and 2 of an item went out as one post (updated in place)
    with make_runtime(config_dir, sqlite_url, site.url) as rt:
        first = enqueue(rt)
        do_publish(rt, first)
        second = enqueue(rt, item_data(revision=2, title="Edited"))
        do_publish(rt, second)
        # When the item is unpublished and the delete runs
        asked = unpublish("item-1", runtime=rt, actor="cli")
        [op] = asked.deleting
        assert do_unpublish(rt, op.id) == "done"
        # And it is unpublished again
        again = unpublish("item-1", runtime=rt, actor="cli")
        states = {p.revision: p.state for p in rt.ledger.publications(item_id="item-1")}
    # Then the post is in the trash after exactly one DELETE with force=false
    [post] = site.posts.values()
    assert post["status"] == "trash"
    [path] = deletes(site)
    assert path.endswith(f"/wp/v2/posts/{post['id']}")
    assert [r.query.get("force") for r in site.requests if r.method == "DELETE"] == [["false"]]
    # And both revisions' rows are unpublished; the repeat asked for nothing and says so
    assert states == {1: "unpublished", 2: "unpublished"}
    assert again.nothing_to_do and not again.deleting and len(again.already_unpublished) == 2
    assert len(deletes(site)) == 1


def test_wordpress_delete_timeout_is_reconciled_by_asking_whether_the_post_exists(
    config_dir: Callable[..., Path], sqlite_url: str, site: FakeWordPress
) -> None:
    # Given a published post, and WordPress trashes it but answers only after the read timeout
    with make_runtime(config_dir, sqlite_url, site.url, read_timeout_s=0.5) as rt:
        pub = enqueue(rt)
        do_publish(rt, pub)
        site.fail_next(Fault("stall", when="after", method="DELETE", path=r"/wp/v2/posts/\d+$", seconds=1.5))
        [op] = unpublish("item-1", runtime=rt, actor="cli").deleting
        # When the delete runs (in doubt), then its reconciliation
        first = do_unpublish(rt, op.id)
        second = do_unpublish(rt, op.id)
        done = rt.ledger.operation(op.id)
        row = rt.ledger.publication(pub)
        kinds = [e["kind"] for e in rt.ledger.events(publication_id=pub)]
    # Then the platform was asked (GET), not sent a second DELETE, and the post is recorded gone
    assert (first, second) == ("in_doubt", "done")
    assert done is not None and done.state == "done" and row is not None and row.state == "unpublished"
    assert len(deletes(site)) == 1
    assert any(r.method == "GET" and r.path.endswith(f"/wp/v2/posts/{op.remote_id}") for r in site.requests)
    assert "unpublish-in-doubt" in kinds and "unpublish-reconciled" in kinds


def test_wordpress_delete_of_a_post_already_gone_is_done(
    config_dir: Callable[..., Path], sqlite_url: str, site: FakeWordPress
) -> None:
    # Given a published post that an editor deleted for good on the site
    with make_runtime(config_dir, sqlite_url, site.url) as rt:
        pub = enqueue(rt)
        do_publish(rt, pub)
        [post_id] = site.posts
        site.delete_post(post_id)
        # When the item is unpublished
        [op] = unpublish("item-1", runtime=rt, actor="cli").deleting
        outcome = do_unpublish(rt, op.id)
        row = rt.ledger.publication(pub)
    # Then the 404 counts as done
    assert outcome == "done" and row is not None and row.state == "unpublished"


def test_wordpress_server_error_on_delete_is_retried_then_done(
    config_dir: Callable[..., Path], sqlite_url: str, site: FakeWordPress
) -> None:
    # Given a published post, and WordPress answers the first DELETE with a 502 (nothing done)
    with make_runtime(config_dir, sqlite_url, site.url) as rt:
        pub = enqueue(rt)
        do_publish(rt, pub)
        site.fail_next(Fault("status", method="DELETE", path=r"/wp/v2/posts/\d+$", status=502))
        [op] = unpublish("item-1", runtime=rt, actor="cli").deleting
        first = do_unpublish(rt, op.id)
        waiting = rt.ledger.operation(op.id)
        assert waiting is not None
        rt.ledger.clock = _at(waiting.scheduled_for)  # type: ignore[assignment]
        second = do_unpublish(rt, op.id)
    # Then it was retried and the post is in the trash once
    assert (first, second) == ("retrying", "done")
    assert [p["status"] for p in site.posts.values()] == ["trash"]


class _at:
    """A clock stopped at one instant (the retry's due time)."""

    def __init__(self, when: object) -> None:
        self.when = when

    def now(self) -> object:
        return self.when
