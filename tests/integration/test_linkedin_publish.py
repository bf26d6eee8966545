"""LinkedIn end to end: the example items through the real pipeline to a loopback LinkedIn.

Success runs the embedded worker (threads, dispatcher, reconcile actor); error paths step the same
pipeline functions one at a time (claim → call → record, then reconcile) so each outcome is exact.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from syndicate import Runtime, submit
from syndicate.localization.step import do_localize
from syndicate.model.item import load_item_file
from syndicate.publishing.content import render_publication
from syndicate.publishing.steps import do_publish, do_reconcile
from syndicate.worker.host import run_until_settled
from tests.fakes.base import Fault, refused_url
from tests.fakes.linkedin import FakeLinkedIn, TokenGrant, visible_text
from tests.helpers import REPO, item_data, simple_route

TOKEN = "AQV-li-test-token-4f9a2c"
AUTHOR = "urn:li:organization:2414183"
EXAMPLES = REPO / "examples" / "content"


@pytest.fixture
def linkedin() -> Iterator[FakeLinkedIn]:
    with FakeLinkedIn({TOKEN: TokenGrant({AUTHOR})}) as fake:
        yield fake


def make_runtime(config_dir: Callable[..., Path], database_url: str, base_url: str, *,
                 locales: tuple[str, ...] = ("en-US",), translation: dict[str, Any] | None = None,
                 **options: Any) -> Runtime:
    """An embedded runtime with one LinkedIn account ``li`` at ``base_url``."""
    route = simple_route("na", list(locales), ["li"])
    if translation:
        route["translation"] = translation
    cfg = config_dir(
        accounts={"li": {"adapter": "linkedin", "base_url": base_url, "connect_timeout_s": 1, "read_timeout_s": 0.5,
                         "credentials": {"access_token": "${LI_TOKEN}"},
                         "options": {"author": AUTHOR, **options}}},
        routes=[route])
    return Runtime.create(config=cfg, database_url=database_url, redis_url="", environ={"LI_TOKEN": TOKEN})


def body(commentary: str, source: str, title: str, description: str) -> dict[str, Any]:
    """The Posts API create body for an organization's public link share."""
    return {
        "author": AUTHOR, "commentary": commentary, "visibility": "PUBLIC",
        "distribution": {"feedDistribution": "MAIN_FEED", "targetEntities": [], "thirdPartyDistributionChannels": []},
        "lifecycleState": "PUBLISHED", "isReshareDisabledByAuthor": False,
        "content": {"article": {"source": source, "title": title, "description": description}},
    }


def enqueue(rt: Runtime, data: dict[str, Any] | None = None) -> int:
    """Submit an item and bring its one en-US publication to ``enqueued``; returns its id."""
    sub = submit(data or item_data(), runtime=rt, ignore_schedule=True)
    rt.ledger.mark_localizations_requested(sub.item_id, sub.revision)
    do_localize(rt, sub.item_id, sub.revision, "en-US")
    [pub] = rt.ledger.take_due(horizon=timedelta(seconds=5), limit=10, actor="test")
    return pub.id


WEBINAR_LINK = ("https://example.com/events/webinar-attribution-2026?utm_source=linkedin&utm_medium=social"
                "&utm_campaign=webinar-2026-12&utm_content=webinar-2026-12-attribution.r1.en-US.li.0")
LAUNCH_LINK = ("https://example.com/blog/introducing-analytics?ref=launch&utm_source=linkedin&utm_medium=social"
               "&utm_campaign=analytics-launch-2026&utm_content=launch-2026-analytics.r1.en-US.li.0#top")
CASE_LINK = ("https://example.com/customers/northwind?utm_source=linkedin&utm_medium=social"
             "&utm_campaign=customer-stories&utm_content=case-study-northwind.r1.en-US.li.0")

EXPECTED = {
    WEBINAR_LINK: body(
        "Webinar, Dec 10: Attribution for multi-region B2B marketing\n\nJoin our product team for 45 minutes on "
        "tracing pipeline back to the posts, partners and languages that created it. Live Q&A included.\n\n"
        f"Save your seat {WEBINAR_LINK}\n#Webinar #Attribution",
        WEBINAR_LINK, "Webinar, Dec 10: Attribution for multi-region B2B marketing",
        "Join our product team for 45 minutes on tracing pipeline back to the posts, partners and languages that "
        "created it. Live Q&A included."),
    LAUNCH_LINK: body(
        "Introducing Syndicate Analytics: every lead, traced to the post that brought it\n\nSyndicate Analytics "
        "joins your posts on X, LinkedIn and partner communities to the leads they bring. See which region, "
        "language and channel drive pipeline, and double down on what works.\n\n"
        f"Read the announcement {LAUNCH_LINK}\n#MarketingAnalytics #LeadAttribution #B2B",
        LAUNCH_LINK, "Introducing Syndicate Analytics: every lead, traced to the post that brought it",
        "Syndicate Analytics joins your posts on X, LinkedIn and partner communities to the leads they bring. See "
        "which region, language and channel drive pipeline, and double down on what works."),
    CASE_LINK: body(
        "How Northwind doubled partner-sourced pipeline in two quarters\n\nNorthwind's field marketing team "
        "publishes every approved story in six languages to twelve channels. Here is how they did it, and what it "
        f"did for pipeline.\n\nRead the case study {CASE_LINK}\n#CaseStudy #PartnerMarketing",
        CASE_LINK, "How Northwind doubled partner-sourced pipeline in two quarters",
        "Northwind's field marketing team publishes every approved story in six languages to twelve channels. Here "
        "is how they did it, and what it did for pipeline."),
}


def test_linkedin_publishes_the_example_items_with_the_exact_requests(
    config_dir: Callable[..., Path], ledger_url: str, linkedin: FakeLinkedIn
) -> None:
    # Given a LinkedIn page account on the loopback LinkedIn and the three example items
    with make_runtime(config_dir, ledger_url, linkedin.url) as rt:
        for path in sorted(EXAMPLES.glob("*.yaml")):
            submit(load_item_file(path), runtime=rt, ignore_schedule=True)
        # When the embedded worker runs until everything due has settled
        pubs = run_until_settled(rt, lambda: rt.ledger.publications(account="li"), threads=2,
                                 timeout=timedelta(seconds=60))
    # Then one post per item went out (the case study's later evergreen slots wait for their time)
    published = {p.tagged_url: p for p in pubs if p.state == "published"}
    assert sorted(published) == sorted(EXPECTED)
    assert sorted(p.state for p in pubs) == ["published"] * 3 + ["scheduled"] * 2
    creates = [r for r in linkedin.requests if r.method == "POST"]
    assert len(creates) == 3
    for req in creates:
        # each request is exactly the documented one: path, headers, bearer token, body
        assert req.path == "/rest/posts" and req.query == {}
        assert req.header("Authorization") == f"Bearer {TOKEN}"
        assert req.header("LinkedIn-Version") == "202610"
        assert req.header("X-Restli-Protocol-Version") == "2.0.0"
        assert req.header("Content-Type") == "application/json"
        sent = req.json()
        assert sent == EXPECTED[sent["content"]["article"]["source"]]
        # and the ledger holds the URN from x-restli-id, its permalink and the text that was sent
        pub = published[sent["content"]["article"]["source"]]
        assert pub.remote_id is not None and pub.remote_id.startswith("urn:li:share:")
        assert pub.permalink == f"https://www.linkedin.com/feed/update/{pub.remote_id}"
        assert pub.rendered is not None and pub.rendered["text"] == sent["commentary"]
        assert linkedin.visible(pub.remote_id) == sent["commentary"]  # nothing to escape, nothing cut


def test_linkedin_escapes_text_after_translation_so_nothing_is_cut(
    config_dir: Callable[..., Path], sqlite_url: str, linkedin: FakeLinkedIn
) -> None:
    # Given a German route whose engine (pseudo-localization) wraps text in [ ... ~~~ ], reserved characters
    with make_runtime(config_dir, sqlite_url, linkedin.url, locales=("de-DE",), translation={"engine": "pseudo"}) as rt:
        submit(item_data(title="Q&A (live)", summary="Ask @us_team anything: *really*."), runtime=rt,
               ignore_schedule=True)
        [pub] = run_until_settled(rt, lambda: rt.ledger.publications(account="li"), threads=2,
                                  timeout=timedelta(seconds=60))
    # When the post is made, Then the commentary was escaped after translation
    assert pub.state == "published", pub.last_error
    [post] = linkedin.created()
    assert post["commentary"].startswith("\\[")
    # and a reader sees the whole translated text, link and hashtag included, nothing cut
    seen = linkedin.visible(pub.remote_id or "")
    assert seen == visible_text(post["commentary"])
    assert seen.startswith("[") and "~]" in seen and seen.endswith(f"{pub.tagged_url}\n#Testing")
    assert "@" in seen and "(" in seen


# -- error answers land in the right ledger state, with LinkedIn's message -------------------------


def test_linkedin_expired_token_answer_fails_the_publication_and_holds_the_account(
    config_dir: Callable[..., Path], sqlite_url: str, linkedin: FakeLinkedIn
) -> None:
    # Given LinkedIn considers the token expired (401)
    linkedin.tokens[TOKEN].expired = True
    with make_runtime(config_dir, sqlite_url, linkedin.url) as rt:
        pid = enqueue(rt)
        # When publishing
        outcome = do_publish(rt, pid)
        pub = rt.ledger.publication(pid)
        status = rt.ledger.account_status("li")
    # Then it failed with LinkedIn's words and the account needs new credentials
    assert outcome == "failed" and pub is not None and pub.state == "failed"
    error = pub.last_error or ""
    assert "HTTP 401" in error and "The token used in the request has expired" in error
    assert status[0] == "needs_credentials"
    assert TOKEN not in (pub.last_error or "")


def test_linkedin_token_past_its_expiry_date_fails_without_calling(
    config_dir: Callable[..., Path], sqlite_url: str, linkedin: FakeLinkedIn
) -> None:
    # Given the account's token expiry date has passed
    past = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    with make_runtime(config_dir, sqlite_url, linkedin.url, token_expires_at=past) as rt:
        pid = enqueue(rt)
        # When publishing
        outcome = do_publish(rt, pid)
        pub = rt.ledger.publication(pid)
        status = rt.ledger.account_status("li")
    # Then it fails as an auth problem, holds the account, and LinkedIn was never called
    assert outcome == "failed" and pub is not None and "expired" in (pub.last_error or "")
    assert status[0] == "needs_credentials"
    assert linkedin.requests == []


def test_linkedin_token_close_to_expiry_publishes_and_records_the_warning(
    config_dir: Callable[..., Path], sqlite_url: str, linkedin: FakeLinkedIn
) -> None:
    # Given the token expires in five days and the account warns ten days ahead
    soon = (datetime.now(UTC) + timedelta(days=5, hours=2)).isoformat()
    with make_runtime(config_dir, sqlite_url, linkedin.url, token_expires_at=soon, token_warning="10d") as rt:
        pid = enqueue(rt)
        # When publishing
        assert do_publish(rt, pid) == "published"
        pub = rt.ledger.publication(pid)
    # Then the post went out and the recorded render carries the warning for the operator
    assert pub is not None and pub.rendered is not None
    assert any("expires in 5 days" in w for w in pub.rendered["warnings"])


def test_linkedin_duplicate_answer_fails_with_linkedins_message(
    config_dir: Callable[..., Path], sqlite_url: str, linkedin: FakeLinkedIn
) -> None:
    # Given the page already carries a post with exactly the commentary we are about to send
    with make_runtime(config_dir, sqlite_url, linkedin.url) as rt:
        pid = enqueue(rt)
        pending = rt.ledger.publication(pid)
        assert pending is not None
        existing = linkedin.add_existing(AUTHOR, str(render_publication(rt, pending).text))
        # When it is published
        outcome = do_publish(rt, pid)
        pub = rt.ledger.publication(pid)
    # Then LinkedIn's 422 DUPLICATE_POST fails it, naming the post it duplicates
    assert outcome == "failed" and pub is not None
    assert "HTTP 422" in (pub.last_error or "") and "DUPLICATE_POST" in (pub.last_error or "")
    assert f"Content is a duplicate of {existing}" in (pub.last_error or "")
    assert len(linkedin.created()) == 1  # only the post that was there


def test_linkedin_makes_no_call_for_a_revision_2_that_changes_nothing_it_shows(
    config_dir: Callable[..., Path], sqlite_url: str, linkedin: FakeLinkedIn
) -> None:
    # Given revision 1 of an item was posted, and revision 2 changes nothing LinkedIn shows
    with make_runtime(config_dir, sqlite_url, linkedin.url) as rt:
        first = enqueue(rt)
        assert do_publish(rt, first) == "published"
        calls = len(linkedin.requests)
        second = enqueue(rt, item_data(revision=2, body="A body edit LinkedIn never shows."))
        # When revision 2 is published
        outcome = do_publish(rt, second)
        old, new = rt.ledger.publication(first), rt.ledger.publication(second)
    # Then no call is made (its link would differ only in utm_content): the row stands for the
    # post of revision 1, with that post's id, permalink and link
    assert outcome == "published" and old is not None and new is not None
    assert len(linkedin.requests) == calls and len(linkedin.created()) == 1
    assert (new.remote_id, new.permalink, new.tagged_url) == (old.remote_id, old.permalink, old.tagged_url)
    assert new.utm["utm_content"] == old.utm["utm_content"] == "item-1.r1.en-US.li.0"


def test_linkedin_retired_version_fails_naming_the_linkedin_version_option(
    config_dir: Callable[..., Path], sqlite_url: str, linkedin: FakeLinkedIn
) -> None:
    # Given the account asks for a version LinkedIn has retired
    with make_runtime(config_dir, sqlite_url, linkedin.url, linkedin_version="202401") as rt:
        pid = enqueue(rt)
        outcome = do_publish(rt, pid)
        pub = rt.ledger.publication(pid)
    # Then it failed for good, with LinkedIn's 426 text and the option to change
    assert outcome == "failed" and pub is not None
    assert "HTTP 426" in (pub.last_error or "") and "'linkedin_version'" in (pub.last_error or "")
    assert "Requested version 202401 is not active" in (pub.last_error or "")


@pytest.mark.parametrize(("retry_after_s", "expected_wait"), [(120, timedelta(seconds=120)), (None, None)])
def test_linkedin_rate_limit_defers_the_publication_without_counting_an_attempt(
    config_dir: Callable[..., Path], sqlite_url: str, linkedin: FakeLinkedIn,
    retry_after_s: int | None, expected_wait: timedelta | None
) -> None:
    # Given LinkedIn answers 429, with Retry-After or (as it usually does) without
    linkedin.fail_next(FakeLinkedIn.rate_limited(retry_after_s))
    with make_runtime(config_dir, sqlite_url, linkedin.url) as rt:
        pid = enqueue(rt)
        before = datetime.now(UTC)
        # When publishing
        outcome = do_publish(rt, pid)
        pub = rt.ledger.publication(pid)
    # Then it is rescheduled (not failed, no attempt counted) at Retry-After or the 00:00 UTC reset
    assert outcome == "deferred" and pub is not None and pub.state == "scheduled" and pub.attempts == 0
    assert "HTTP 429" in (pub.last_error or "") and "throttle" in (pub.last_error or "")
    when = pub.scheduled_for if pub.scheduled_for.tzinfo else pub.scheduled_for.replace(tzinfo=UTC)
    if expected_wait is not None:
        assert before + expected_wait - timedelta(seconds=5) <= when <= before + expected_wait + timedelta(seconds=5)
    else:
        midnight = (before + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
        assert when == midnight


def test_linkedin_bad_request_fails_with_linkedins_message(
    config_dir: Callable[..., Path], sqlite_url: str, linkedin: FakeLinkedIn
) -> None:
    linkedin.fail_next(Fault("status", method="POST", path="^/rest/posts$", status=400,
                             body={"status": 400, "message": "Invalid URN for author", "code": "INVALID_URN_ID"}))
    with make_runtime(config_dir, sqlite_url, linkedin.url) as rt:
        pid = enqueue(rt)
        outcome = do_publish(rt, pid)
        pub = rt.ledger.publication(pid)
    assert outcome == "failed" and pub is not None
    assert "HTTP 400" in (pub.last_error or "") and "INVALID_URN_ID: Invalid URN for author" in (pub.last_error or "")


@pytest.mark.parametrize("status", [502, 503, 504])
def test_linkedin_gateway_errors_are_retried(
    config_dir: Callable[..., Path], sqlite_url: str, linkedin: FakeLinkedIn, status: int
) -> None:
    linkedin.fail_next(FakeLinkedIn.server_error(status))
    with make_runtime(config_dir, sqlite_url, linkedin.url) as rt:
        pid = enqueue(rt)
        outcome = do_publish(rt, pid)
        pub = rt.ledger.publication(pid)
    assert outcome == "retrying" and pub is not None and pub.state == "retrying"
    assert f"HTTP {status}" in (pub.last_error or "") and linkedin.created() == []


def test_linkedin_connection_refused_is_retried(config_dir: Callable[..., Path], sqlite_url: str) -> None:
    # Given nothing listens at the account's base URL
    with make_runtime(config_dir, sqlite_url, refused_url()) as rt:
        pid = enqueue(rt)
        outcome = do_publish(rt, pid)
        pub = rt.ledger.publication(pid)
    # Then nothing can have been created: retry
    assert outcome == "retrying" and pub is not None and "cannot connect" in (pub.last_error or "")


def test_linkedin_server_error_on_create_goes_in_doubt_and_reconcile_retries_when_absent(
    config_dir: Callable[..., Path], sqlite_url: str, linkedin: FakeLinkedIn
) -> None:
    # Given LinkedIn answers 500 to the create (and made nothing)
    linkedin.fail_next(FakeLinkedIn.server_error(500))
    with make_runtime(config_dir, sqlite_url, linkedin.url) as rt:
        pid = enqueue(rt)
        # When publishing, Then the row is in doubt rather than retried blindly
        assert do_publish(rt, pid) == "in_doubt"
        # When reconciling, Then the author's recent posts are read, ours is absent: retry
        assert do_reconcile(rt, pid) == "retrying"
        pub = rt.ledger.publication(pid)
    assert pub is not None and "no post found" in (pub.last_error or "") and "HTTP 500" in (pub.last_error or "")
    assert [r.method for r in linkedin.requests] == ["POST", "GET"]


@pytest.mark.parametrize("fault", [Fault("stall", when="after", method="POST", seconds=1.5),
                                   Fault("close", when="after", method="POST")], ids=["stall", "reset"])
def test_linkedin_lost_answer_after_create_is_reconciled_to_exactly_one_post(
    config_dir: Callable[..., Path], sqlite_url: str, linkedin: FakeLinkedIn, fault: Fault
) -> None:
    # Given LinkedIn makes the post but the answer never arrives (stall past the read timeout, or reset)
    linkedin.fail_next(fault)
    with make_runtime(config_dir, sqlite_url, linkedin.url) as rt:
        submit(item_data(), runtime=rt, ignore_schedule=True)
        # When the embedded worker runs (publish → in doubt → reconcile)
        [pub] = run_until_settled(rt, lambda: rt.ledger.publications(account="li"), threads=2,
                                  timeout=timedelta(seconds=60))
        events = [e["kind"] for e in rt.ledger.events(publication_id=pub.id)]
    # Then the post found on LinkedIn is recorded, and there is exactly one
    [post] = linkedin.created()
    assert pub.state == "published" and pub.remote_id == post["id"]
    assert "reconciled" in events
    assert [r.method for r in linkedin.requests].count("POST") == 1


def test_linkedin_reconcile_without_read_permission_leaves_it_to_an_operator(
    config_dir: Callable[..., Path], sqlite_url: str, linkedin: FakeLinkedIn
) -> None:
    # Given a token that may post but not read the author's posts, and a lost answer
    linkedin.tokens[TOKEN].can_read = False
    linkedin.fail_next(Fault("close", when="after", method="POST"))
    with make_runtime(config_dir, sqlite_url, linkedin.url) as rt:
        pid = enqueue(rt)
        assert do_publish(rt, pid) == "in_doubt"
        # When reconciling, Then it cannot tell, and says why
        assert do_reconcile(rt, pid) == "unconfirmed"
        pub = rt.ledger.publication(pid)
    assert pub is not None and "HTTP 403" in (pub.last_error or "") and "ACCESS_DENIED" in (pub.last_error or "")
    assert len(linkedin.created()) == 1
