"""First comments: a publication of their own under a post, released when the post is published,
localized, tagged with their own ``utm_content``, within each channel's limit, exactly once even
when the comment call times out after it was sent (X and LinkedIn fakes on loopback)."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from syndicate import Runtime, submit
from syndicate.errors import AuthError, ContentError, PermanentError
from syndicate.ledger import Publication
from syndicate.localization.step import do_localize
from syndicate.model.item import InvalidItem, parse_item
from syndicate.model.states import PublicationState
from syndicate.operations.preview import preview_item
from syndicate.publishing.content import publication_ref
from syndicate.publishing.steps import do_publish, do_reconcile
from tests.fakes.base import Fault
from tests.fakes.linkedin import FakeLinkedIn, TokenGrant
from tests.fakes.x import FakeX, x_account, x_environ
from tests.helpers import item_data, simple_route

S = PublicationState
AUTHOR = "urn:li:organization:2414183"
COMMENT = "Questions? Ask us below, or read the details: https://example.com/post"


@pytest.fixture
def fx() -> Iterator[FakeX]:
    with FakeX() as fake:
        yield fake


@pytest.fixture
def fl() -> Iterator[FakeLinkedIn]:
    with FakeLinkedIn({"li-token": TokenGrant({AUTHOR})}) as fake:
        yield fake


def x_runtime(config_dir: Callable[..., Path], fx: FakeX, url: str, **route: Any) -> Runtime:
    acc = x_account(fx, username="example", read_timeout_s=0.5, reconcile_settle_s=0, hashtag_style="none")
    cfg = config_dir(accounts={"x-na": acc}, routes=[simple_route("na", ["en-US"], ["x-na"], **route)])
    return Runtime.create(config=cfg, database_url=url, redis_url="", environ=x_environ(fx))


def linkedin_runtime(config_dir: Callable[..., Path], fl: FakeLinkedIn, url: str, **route: Any) -> Runtime:
    acc = {"adapter": "linkedin", "base_url": fl.url, "credentials": {"access_token": "${LI_TOKEN}"},
           "read_timeout_s": 0.5, "options": {"author": AUTHOR}}
    cfg = config_dir(accounts={"li": acc}, routes=[simple_route("na", ["en-US"], ["li"], **route)])
    return Runtime.create(config=cfg, database_url=url, redis_url="", environ={"LI_TOKEN": "li-token"})


def localized(rt: Runtime, locales: tuple[str, ...] = ("en-US",), **item: Any) -> tuple[Publication, Publication]:
    """Submit an item with a first comment and localize it; returns (post, comment) of the first locale."""
    sub = submit(item_data(**{"first_comment": COMMENT, **item}), runtime=rt, ignore_schedule=True)
    rt.ledger.mark_localizations_requested(sub.item_id, sub.revision)
    for locale in locales:
        do_localize(rt, sub.item_id, sub.revision, locale)
    pubs = rt.ledger.publications(item_id=sub.item_id, locale=locales[0])
    [post] = [p for p in pubs if not p.is_comment]
    [comment] = [p for p in pubs if p.is_comment]
    return post, comment


def due_ids(rt: Runtime) -> list[int]:
    return [p.id for p in rt.ledger.take_due(horizon=timedelta(seconds=5), limit=50, actor="test")]


def state(rt: Runtime, pid: int) -> Publication:
    pub = rt.ledger.publication(pid)
    assert pub is not None
    return pub


# -- X ------------------------------------------------------------------------------------------


def test_x_first_comment_waits_for_its_post_then_replies_to_it_once(
        config_dir: Callable[..., Path], fx: FakeX, ledger_url: str) -> None:
    with x_runtime(config_dir, fx, ledger_url) as rt:
        post, comment = localized(rt)
        # Given a post and its first comment, planned together: the comment is its own publication
        assert comment.parent_id == post.id and comment.key == post.key + "/first-comment"
        # Then only the post is dispatched while it is unpublished
        assert due_ids(rt) == [post.id]
        assert due_ids(rt) == []
        # When the post is published
        assert do_publish(rt, post.id) == "published"
        # Then the comment is released (an audit event says so), dispatched, and posted as a reply to the post
        released = [e for e in rt.ledger.events(publication_id=comment.id) if e["kind"] == "released"]
        assert len(released) == 1 and released[0]["to_state"] == "scheduled"
        assert due_ids(rt) == [comment.id]
        assert do_publish(rt, comment.id) == "published"
        assert do_publish(rt, comment.id) == "not-claimable"  # a second message does nothing
        posted_post, posted_comment = fx.posts
        assert state(rt, post.id).remote_id == posted_post.id
        assert posted_comment.reply_to == posted_post.id
        done = state(rt, comment.id)
        assert done.remote_id == posted_comment.id and done.permalink == f"https://x.com/example/status/{done.remote_id}"
        # And the comment's link is tagged with its own utm_content, told apart from the post's
        sent = json.loads(fx.requests_to("POST", "/2/tweets")[1].body)["text"]
        [link] = [w for w in sent.split() if w.startswith("https://example.com/post")]
        assert parse_qs(urlsplit(link).query)["utm_content"] == [post.utm["utm_content"] + ".comment"]
        assert comment.utm["utm_content"] == post.utm["utm_content"] + ".comment"
        assert sent.startswith("Questions? Ask us below")


def test_x_first_comment_whose_answer_is_lost_is_found_not_repeated(
        config_dir: Callable[..., Path], fx: FakeX, ledger_url: str) -> None:
    with x_runtime(config_dir, fx, ledger_url) as rt:
        post, comment = localized(rt)
        due_ids(rt)
        assert do_publish(rt, post.id) == "published"
        due_ids(rt)
        # Given X makes the reply but its answer never arrives (read timeout after sending)
        fx.fail_next(Fault("stall", when="after", method="POST", path="^/2/tweets$", seconds=1.5))
        # When the comment is published / Then it is in doubt, not retried blindly
        assert do_publish(rt, comment.id) == "in_doubt"
        assert len(fx.posts) == 2
        # When reconciled / Then the reply is found among the account's posts and recorded
        assert do_reconcile(rt, comment.id) == "published"
        assert state(rt, comment.id).remote_id == fx.posts[1].id
        # And the comment appears exactly once under the post
        assert [p.reply_to for p in fx.posts] == [None, fx.posts[0].id]


def test_x_first_comment_of_a_failed_post_is_skipped_with_the_reason(
        config_dir: Callable[..., Path], fx: FakeX, ledger_url: str) -> None:
    with x_runtime(config_dir, fx, ledger_url) as rt:
        post, comment = localized(rt)
        due_ids(rt)
        # Given X refuses the post
        fx.fail_next(Fault("status", method="POST", path="^/2/tweets$", status=403,
                           body={"detail": "You are not allowed to create a Tweet with duplicate content.",
                                 "title": "Forbidden", "status": 403}))
        # When it is published / Then the post fails and its comment is skipped, saying why
        assert do_publish(rt, post.id) == "failed"
        skipped = state(rt, comment.id)
        assert skipped.state == S.SKIPPED
        assert skipped.last_error is not None and skipped.last_error.startswith("its post was failed")
        assert due_ids(rt) == [] and fx.posts == []


def test_x_first_comment_of_a_post_in_doubt_waits(config_dir: Callable[..., Path], fx: FakeX,
                                                  sqlite_url: str) -> None:
    with x_runtime(config_dir, fx, sqlite_url) as rt:
        post, comment = localized(rt)
        due_ids(rt)
        # Given the post's answer is lost
        fx.fail_next(Fault("close", when="after", method="POST", path="^/2/tweets$"))
        assert do_publish(rt, post.id) == "in_doubt"
        # Then the comment waits: not dispatched, not skipped
        assert due_ids(rt) == []
        assert state(rt, comment.id).state == S.SCHEDULED and not state(rt, comment.id).ready
        # When the post is found by reconciliation / Then the comment goes out under it
        assert do_reconcile(rt, post.id) == "published"
        assert due_ids(rt) == [comment.id]
        assert do_publish(rt, comment.id) == "published"
        assert fx.posts[1].reply_to == fx.posts[0].id


def test_route_first_comment_link_moves_the_link_from_the_post_to_the_comment(
        config_dir: Callable[..., Path], fx: FakeX, sqlite_url: str) -> None:
    with x_runtime(config_dir, fx, sqlite_url, first_comment="link") as rt:
        # Given an item without first_comment text, on a route that puts links in the first comment
        post, comment = localized(rt, first_comment=None)
        due_ids(rt)
        assert do_publish(rt, post.id) == "published"
        due_ids(rt)
        assert do_publish(rt, comment.id) == "published"
        # Then the post carries no link, and the comment is the tagged link alone
        post_text, comment_text = (json.loads(r.body)["text"] for r in fx.requests_to("POST", "/2/tweets"))
        assert "https://" not in post_text and "Read more" not in post_text
        assert comment_text == comment.tagged_url
        assert parse_qs(urlsplit(comment_text).query)["utm_content"] == [post.utm["utm_content"] + ".comment"]


def test_a_machine_translation_too_long_for_the_comment_fails_it_with_a_clear_error(
        config_dir: Callable[..., Path], fx: FakeX, sqlite_url: str) -> None:
    acc = x_account(fx, username="example", read_timeout_s=0.5, reconcile_settle_s=0, hashtag_style="none")
    cfg = config_dir(accounts={"x-de": acc}, routes=[simple_route("de", ["de-DE"], ["x-de"],
                                                                  translation={"engine": "pseudo"})])
    with Runtime.create(config=cfg, database_url=sqlite_url, redis_url="", environ=x_environ(fx)) as rt:
        # Given a comment that fits X in English (254) but not once translated (about 30 % longer)
        post, comment = localized(rt, ("de-DE",), first_comment="Long words here. " * 15)
        due_ids(rt)
        assert do_publish(rt, post.id) == "published"
        due_ids(rt)
        # When the comment is rendered / Then it fails, naming the field and the limit; nothing is cut or sent
        assert do_publish(rt, comment.id) == "failed"
        error = state(rt, comment.id).last_error or ""
        assert "first_comment" in error and "an X reply takes at most 280" in error
        assert len(fx.posts) == 1


def test_first_comment_is_localized_per_locale(config_dir: Callable[..., Path], fx: FakeX, sqlite_url: str) -> None:
    acc = x_account(fx, username="example", read_timeout_s=0.5, reconcile_settle_s=0, hashtag_style="none")
    cfg = config_dir(accounts={"x-eu": acc}, routes=[simple_route("eu", ["de-DE", "fr-FR"], ["x-eu"],
                                                                  translation={"engine": "pseudo"})])
    with Runtime.create(config=cfg, database_url=sqlite_url, redis_url="", environ=x_environ(fx)) as rt:
        # Given a human translation of the comment for fr-FR, and machine translation for de-DE
        overrides = {"locales": {"fr-FR": {"first_comment": "Des questions ? https://example.com/post"}}}
        _de_post, de_comment = localized(rt, ("de-DE", "fr-FR"), overrides=overrides)
        fr_comment = next(p for p in rt.ledger.publications(item_id="item-1", locale="fr-FR") if p.is_comment)
        due_ids(rt)
        for pub in rt.ledger.publications(item_id="item-1"):
            if not pub.is_comment:
                assert do_publish(rt, pub.id) == "published"
        due_ids(rt)
        assert do_publish(rt, de_comment.id) == "published"
        assert do_publish(rt, fr_comment.id) == "published"
        de_text = (state(rt, de_comment.id).rendered or {})["text"]
        fr_text = (state(rt, fr_comment.id).rendered or {})["text"]
        # Then fr-FR uses the human text and de-DE a machine translation; both links kept and tagged
        assert fr_text.startswith("Des questions ? https://example.com/post?")
        assert not de_text.startswith("Questions? Ask us below") and "https://example.com/post?" in de_text
        assert "utm_content=item-1.r1.de-DE.x-eu.0.comment" in de_text
        assert "utm_content=item-1.r1.fr-FR.x-eu.0.comment" in fr_text


# -- LinkedIn -----------------------------------------------------------------------------------


def test_linkedin_first_comment_goes_under_the_post_as_the_author(
        config_dir: Callable[..., Path], fl: FakeLinkedIn, ledger_url: str) -> None:
    with linkedin_runtime(config_dir, fl, ledger_url) as rt:
        post, comment = localized(rt)
        assert due_ids(rt) == [post.id]
        assert do_publish(rt, post.id) == "published"
        assert due_ids(rt) == [comment.id]
        assert do_publish(rt, comment.id) == "published"
        urn = state(rt, post.id).remote_id
        assert urn is not None
        [made] = fl.comments_on(urn)
        assert made["actor"] == AUTHOR and made["object"] == urn
        assert made["message"]["text"].startswith("Questions? Ask us below")
        done = state(rt, comment.id)
        assert done.remote_id == made["$URN"] and done.permalink is not None and urn in done.permalink
        req = fl.requests[-1]
        assert req.path.startswith("/rest/socialActions/urn%3Ali%3Ashare%3A") and req.path.endswith("/comments")


def test_linkedin_first_comment_whose_answer_is_lost_is_found_not_repeated(
        config_dir: Callable[..., Path], fl: FakeLinkedIn, ledger_url: str) -> None:
    with linkedin_runtime(config_dir, fl, ledger_url) as rt:
        post, comment = localized(rt)
        due_ids(rt)
        assert do_publish(rt, post.id) == "published"
        due_ids(rt)
        # Given LinkedIn makes the comment but the answer times out
        fl.fail_next(Fault("stall", when="after", method="POST", path="/comments$", seconds=1.5))
        assert do_publish(rt, comment.id) == "in_doubt"
        # When reconciled / Then the comment is found by our author's text under the post
        assert do_reconcile(rt, comment.id) == "published"
        urn = state(rt, post.id).remote_id
        assert urn is not None
        [made] = fl.comments_on(urn)
        assert state(rt, comment.id).remote_id == made["$URN"]


def test_linkedin_link_mode_posts_no_card_and_links_in_the_comment(
        config_dir: Callable[..., Path], fl: FakeLinkedIn, sqlite_url: str) -> None:
    with linkedin_runtime(config_dir, fl, sqlite_url, first_comment="link") as rt:
        post, comment = localized(rt)
        due_ids(rt)
        assert do_publish(rt, post.id) == "published"
        due_ids(rt)
        assert do_publish(rt, comment.id) == "published"
        [made_post] = fl.created()
        assert "content" not in made_post and "https://" not in made_post["commentary"]
        [made] = fl.comments_on(made_post["id"])
        assert made["message"]["text"].endswith("\n\n" + comment.tagged_url)


def test_linkedin_refuses_a_comment_on_an_unknown_post_or_as_another_actor(
        config_dir: Callable[..., Path], fl: FakeLinkedIn, sqlite_url: str) -> None:
    li = {"adapter": "linkedin", "base_url": fl.url, "credentials": {"access_token": "${LI_TOKEN}"},
          "read_timeout_s": 0.5, "options": {"author": AUTHOR}}
    other = {**copy.deepcopy(li), "options": {"author": "urn:li:organization:1"}}
    cfg = config_dir(accounts={"li": li, "li-other": other}, routes=[simple_route("na", ["en-US"], ["li"])])
    with Runtime.create(config=cfg, database_url=sqlite_url, redis_url="", environ={"LI_TOKEN": "li-token"}) as rt:
        post, _comment = localized(rt)
        adapter = rt.adapter("li")
        ref = publication_ref(rt, post)
        rendered = adapter.render_comment("Hello", None)
        # A comment on a post LinkedIn does not have is refused (404): a permanent error, nothing made
        with pytest.raises(PermanentError, match="404"):
            adapter.publish(rendered, replace(ref, parent_remote_id="urn:li:share:1"))
        # The actor must be one the token may act as (403: the token lacks the permission)
        urn = fl.add_existing(AUTHOR, "An earlier post")
        with pytest.raises(AuthError, match="403"):
            rt.adapter("li-other").publish(rendered, replace(ref, parent_remote_id=urn))
        assert fl.comments_on(urn) == []
        # The adapter never sends a comment over 1,250 characters: rendering refuses it, uncut
        with pytest.raises(ContentError, match=r"1251 characters.*1250"):
            adapter.render_comment("x" * 1251, None)


def test_x_refuses_a_reply_to_an_unknown_post(config_dir: Callable[..., Path], fx: FakeX, sqlite_url: str) -> None:
    with x_runtime(config_dir, fx, sqlite_url) as rt:
        post, _comment = localized(rt)
        adapter = rt.adapter("x-na")
        with pytest.raises(PermanentError):
            adapter.publish(adapter.render_comment("Hello", None),
                            replace(publication_ref(rt, post), parent_remote_id="1234"))
        assert fx.posts == []


# -- intake and preview -------------------------------------------------------------------------


def test_a_first_comment_too_long_for_a_channel_is_refused_at_intake(
        config_dir: Callable[..., Path], fx: FakeX, fl: FakeLinkedIn, sqlite_url: str) -> None:
    li = {"adapter": "linkedin", "base_url": fl.url, "credentials": {"access_token": "${LI_TOKEN}"},
          "options": {"author": AUTHOR}}
    cfg = config_dir(accounts={"x-na": x_account(fx, username="example"), "li": li},
                     routes=[simple_route("na", ["en-US"], ["x-na", "li"])])
    with Runtime.create(config=cfg, database_url=sqlite_url, redis_url="",
                        environ={**x_environ(fx), "LI_TOKEN": "li-token"}) as rt:
        # Given a comment of 300 characters: fine for LinkedIn (1,250), too long for X (280)
        with pytest.raises(InvalidItem) as refused:
            submit(item_data(first_comment="a" * 300), runtime=rt, ignore_schedule=True)
        # Then the item is refused, naming the field, the account and X's limit; nothing is stored
        message = str(refused.value)
        assert "first_comment: on account 'x-na' (x, en-US): the first comment measures 300" in message
        assert "280" in message and "'li'" not in message
        assert rt.ledger.item("item-1") is None


def test_preview_shows_the_first_comment_after_its_post_with_its_length(
        config_dir: Callable[..., Path], fx: FakeX, sqlite_url: str, tmp_path: Path) -> None:
    with x_runtime(config_dir, fx, sqlite_url) as rt:
        item = parse_item(item_data(first_comment=COMMENT))
        posts = preview_item(rt, item, now=rt.ledger.now(), ignore_schedule=True)
        assert [p.kind for p in posts] == ["post", "first_comment"]
        comment = posts[1]
        assert comment.error is None and comment.text.startswith("Questions? Ask us below")
        assert comment.limit == 280 and comment.length == 23 + len("Questions? Ask us below, or read the details: ")
        assert "utm_content=item-1.r1.en-US.x-na.0.comment" in comment.text


# -- with revisions and unpublish ----------------------------------------------------------------


def _published_with_comment(rt: Runtime) -> tuple[Publication, Publication]:
    post, comment = localized(rt)
    due_ids(rt)
    assert do_publish(rt, post.id) == "published"
    due_ids(rt)
    assert do_publish(rt, comment.id) == "published"
    return state(rt, post.id), state(rt, comment.id)


def test_unpublish_on_linkedin_deletes_the_post_which_takes_its_comment(
        config_dir: Callable[..., Path], fl: FakeLinkedIn, ledger_url: str) -> None:
    from syndicate.intake.unpublish import unpublish
    from syndicate.publishing.unpublish import do_unpublish

    with linkedin_runtime(config_dir, fl, ledger_url) as rt:
        # Given a LinkedIn post and its first comment, both out
        post, comment = _published_with_comment(rt)
        # When the item is unpublished
        [op] = unpublish("item-1", runtime=rt, actor="t").deleting
        assert do_unpublish(rt, op.id) == "done"
        # Then the post itself is deleted (its comment goes with it) and both rows are unpublished
        assert op.remote_id == post.remote_id and post.remote_id not in fl.posts
        assert {state(rt, post.id).state, state(rt, comment.id).state} == {"unpublished"}


def test_unpublish_on_x_deletes_the_post_and_its_reply(config_dir: Callable[..., Path], fx: FakeX,
                                                      ledger_url: str) -> None:
    from syndicate.intake.unpublish import unpublish
    from syndicate.publishing.unpublish import do_unpublish

    with x_runtime(config_dir, fx, ledger_url) as rt:
        # Given an X post and its first comment (a reply, which outlives its parent on X), both out
        post, comment = _published_with_comment(rt)
        # When the item is unpublished / Then both are deleted, each by its own recorded delete
        ops = unpublish("item-1", runtime=rt, actor="t").deleting
        assert sorted(op.remote_id or "" for op in ops) == sorted([post.remote_id or "", comment.remote_id or ""])
        assert all(do_unpublish(rt, op.id) == "done" for op in ops)
        assert fx.posts == []


def test_a_revision_posts_its_first_comment_anew_under_the_updated_post(
        config_dir: Callable[..., Path], fl: FakeLinkedIn, ledger_url: str) -> None:
    with linkedin_runtime(config_dir, fl, ledger_url) as rt:
        # Given revision 1's post and comment out on LinkedIn (whose posts update in place)
        post, _ = _published_with_comment(rt)
        # When revision 2, with a new summary, is localized and published
        sub = submit(item_data(first_comment=COMMENT, revision=2, summary="A new summary for revision 2."),
                     runtime=rt, ignore_schedule=True)
        rt.ledger.mark_localizations_requested(sub.item_id, sub.revision)
        do_localize(rt, sub.item_id, sub.revision, "en-US")
        pubs = rt.ledger.publications(item_id=sub.item_id, revision=2)
        [post2] = [p for p in pubs if not p.is_comment]
        [comment2] = [p for p in pubs if p.is_comment]
        assert due_ids(rt) == [post2.id]
        assert do_publish(rt, post2.id) == "published"
        # Then the post is updated in place (same URN), not matched to the comment of revision 1
        assert state(rt, post2.id).remote_id == post.remote_id
        # And the new comment goes under that post once the post is recorded
        assert due_ids(rt) == [comment2.id]
        assert do_publish(rt, comment2.id) == "published"
        assert len(fl.comments_on(post.remote_id or "")) == 2
