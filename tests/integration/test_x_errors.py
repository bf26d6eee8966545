"""Each of X's error answers (and each network fault) lands in the right ledger state, with X's words."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from syndicate import Runtime, submit
from syndicate.ledger.schema import publications
from syndicate.localization.step import do_localize
from syndicate.publishing.content import render_publication
from syndicate.publishing.steps import do_publish, do_reconcile
from tests.fakes.base import Fault
from tests.fakes.x import DUPLICATE_BODY, FakeX, x_account, x_environ
from tests.helpers import item_data, simple_route

PROBLEM = {"Content-Type": "application/problem+json"}


@pytest.fixture
def fx() -> Iterator[FakeX]:
    with FakeX() as fake:
        yield fake


def _runtime(config_dir: Callable[..., Path], fx: FakeX, url: str, **account: Any) -> Runtime:
    acc = x_account(fx, username="example", read_timeout_s=0.5, reconcile_settle_s=0, **account)
    cfg = config_dir(accounts={"x-na": acc}, routes=[simple_route("na", ["en-US"], ["x-na"])])
    return Runtime.create(config=cfg, database_url=url, redis_url="", environ=x_environ(fx))


@pytest.fixture
def rt(config_dir: Callable[..., Path], fx: FakeX, sqlite_url: str) -> Iterator[Runtime]:
    with _runtime(config_dir, fx, sqlite_url) as runtime:
        yield runtime


def enqueued(rt: Runtime) -> int:
    sub = submit(item_data(), runtime=rt, ignore_schedule=True)
    rt.ledger.mark_localizations_requested(sub.item_id, sub.revision)
    do_localize(rt, sub.item_id, sub.revision, "en-US")
    [pub] = rt.ledger.take_due(horizon=timedelta(seconds=5), limit=10, actor="test")
    return pub.id


def make_due(rt: Runtime, pid: int) -> None:
    with rt.ledger.begin() as conn:
        conn.execute(update(publications).where(publications.c.id == pid)
                     .values(scheduled_for=rt.ledger.now() - timedelta(seconds=1)))


def _create_fault(status: int, body: Any, headers: dict[str, str] | None = None, when: str = "before") -> Fault:
    return Fault("status", when=when, method="POST", path="^/2/tweets$", status=status, body=body,
                 headers={**PROBLEM, **(headers or {})})


def test_401_fails_the_publication_and_holds_the_account(rt: Runtime, fx: FakeX) -> None:
    # Given X refuses the credentials
    fx.fail_next(_create_fault(401, {"title": "Unauthorized", "type": "about:blank", "status": 401,
                                     "detail": "Unauthorized"}))
    pid = enqueued(rt)
    # When published / Then failed, the account needs new credentials, and X's words are kept
    assert do_publish(rt, pid) == "failed"
    pub = rt.ledger.publication(pid)
    assert pub is not None and pub.state == "failed" and "(HTTP 401): Unauthorized" in (pub.last_error or "")
    assert rt.ledger.account_status("x-na")[0] == "needs_credentials"
    assert fx.posts == []


def test_duplicate_text_fails_with_xs_duplicate_message(rt: Runtime, fx: FakeX) -> None:
    # Given the account already posted exactly this text
    pid = enqueued(rt)
    pub = rt.ledger.publication(pid)
    assert pub is not None
    fx.add_post(render_publication(rt, pub).text)
    # When published / Then X answers 403 and the publication fails with X's own message
    assert do_publish(rt, pid) == "failed"
    pub = rt.ledger.publication(pid)
    assert pub is not None and pub.state == "failed"
    assert "duplicate" in (pub.last_error or "") and DUPLICATE_BODY["detail"] in (pub.last_error or "")
    assert len(fx.posts) == 1
    assert rt.ledger.account_status("x-na")[0] == "ok"


def test_another_403_fails_with_xs_message(rt: Runtime, fx: FakeX) -> None:
    # Given X forbids the request for another reason
    detail = "You are not permitted to perform this action."
    fx.fail_next(_create_fault(403, {"detail": detail, "type": "about:blank", "title": "Forbidden", "status": 403}))
    pid = enqueued(rt)
    # When published / Then failed with that message, the account still fine
    assert do_publish(rt, pid) == "failed"
    pub = rt.ledger.publication(pid)
    assert pub is not None and detail in (pub.last_error or "") and "(HTTP 403)" in (pub.last_error or "")
    assert rt.ledger.account_status("x-na")[0] == "ok"


def test_400_fails_with_xs_message(rt: Runtime, fx: FakeX) -> None:
    # Given X rejects the request as invalid
    fx.fail_next(_create_fault(400, {"errors": [{"message": "Invalid reply target"}], "title": "Invalid Request",
                                     "detail": "One or more parameters to your request was invalid.",
                                     "type": "https://api.twitter.com/2/problems/invalid-request"}))
    pid = enqueued(rt)
    # When published / Then failed, keeping X's message
    assert do_publish(rt, pid) == "failed"
    pub = rt.ledger.publication(pid)
    assert pub is not None and "Invalid reply target" in (pub.last_error or "")


def test_429_reschedules_at_the_rate_limit_reset_without_counting_an_attempt(rt: Runtime, fx: FakeX) -> None:
    # Given X's rate limit is spent until a reset time
    reset = int((datetime.now(UTC) + timedelta(minutes=7)).timestamp())
    fx.rate_limit(reset_epoch=reset)
    pid = enqueued(rt)
    # When published
    assert do_publish(rt, pid) == "deferred"
    # Then the row waits, scheduled at x-rate-limit-reset, with no attempt counted
    pub = rt.ledger.publication(pid)
    assert pub is not None and pub.state == "scheduled" and pub.attempts == 0
    assert pub.scheduled_for == datetime.fromtimestamp(reset, UTC)
    assert "Too Many Requests" in (pub.last_error or "")
    [create] = fx.requests_to("POST", "/2/tweets")
    assert fx.verify_oauth1(create) and fx.posts == []


def test_429_on_the_daily_cap_waits_for_the_24_hour_reset(rt: Runtime, fx: FakeX) -> None:
    # Given the 15-minute window has room but the user's 24-hour cap is spent
    soon, tomorrow = (int((datetime.now(UTC) + timedelta(minutes=m)).timestamp()) for m in (3, 600))
    fx.fail_next(_create_fault(429, {"title": "Too Many Requests", "detail": "Too Many Requests",
                                     "type": "about:blank", "status": 429},
                               {"x-rate-limit-remaining": "50", "x-rate-limit-reset": str(soon),
                                "x-user-limit-24hour-remaining": "0", "x-user-limit-24hour-reset": str(tomorrow)}))
    pid = enqueued(rt)
    # When published / Then it waits until the daily reset
    assert do_publish(rt, pid) == "deferred"
    pub = rt.ledger.publication(pid)
    assert pub is not None and pub.scheduled_for == datetime.fromtimestamp(tomorrow, UTC)


@pytest.mark.parametrize("status", [502, 503, 504])
def test_gateway_errors_are_retried_later(rt: Runtime, fx: FakeX, status: int) -> None:
    # Given X's front end answers with a gateway error before the request reached the service
    fx.fail_next(_create_fault(status, {"title": "Service Unavailable", "detail": "Service Unavailable",
                                        "type": "about:blank", "status": status}))
    pid = enqueued(rt)
    # When published / Then the row is retried later (nothing was created)
    assert do_publish(rt, pid) == "retrying"
    pub = rt.ledger.publication(pid)
    assert pub is not None and f"(HTTP {status})" in (pub.last_error or "") and pub.scheduled_for > rt.ledger.now()


def test_500_on_the_create_goes_in_doubt_and_reconcile_decides(rt: Runtime, fx: FakeX) -> None:
    # Given X answers 500 to the create without having made the post
    fx.fail_next(_create_fault(500, {"title": "Internal Server Error", "type": "about:blank", "status": 500}))
    pid = enqueued(rt)
    # When published / Then it is in doubt, not retried blindly
    assert do_publish(rt, pid) == "in_doubt"
    pub = rt.ledger.publication(pid)
    assert pub is not None and pub.state == "in_doubt" and "(HTTP 500)" in (pub.last_error or "")
    # And reconciliation searches the account's posts, finds none, and retries
    assert do_reconcile(rt, pid) == "retrying"
    [search] = fx.requests_to("GET", f"/2/users/{FakeX.user_id}/tweets")
    assert fx.verify_oauth1(search) and search.query["max_results"] == ["100"]
    assert "entities" in search.query["tweet.fields"][0] and search.query["start_time"]
    make_due(rt, pid)
    assert do_publish(rt, pid) == "published" and len(fx.posts) == 1


def test_500_after_the_post_was_made_is_reconciled_to_published(rt: Runtime, fx: FakeX) -> None:
    # Given X makes the post, then answers 500
    fx.fail_next(_create_fault(500, {"title": "Internal Server Error"}, when="after"))
    pid = enqueued(rt)
    # When published and reconciled / Then the post X has is recorded: one post, its permalink
    assert do_publish(rt, pid) == "in_doubt"
    assert do_reconcile(rt, pid) == "published"
    pub = rt.ledger.publication(pid)
    assert len(fx.posts) == 1 and pub is not None and pub.remote_id == fx.posts[0].id
    assert pub.permalink == f"https://x.com/example/status/{fx.posts[0].id}"


def test_connection_refused_is_retried_later(config_dir: Callable[..., Path], fx: FakeX, sqlite_url: str) -> None:
    # Given nothing listens where the account points
    with _runtime(config_dir, fx, sqlite_url) as rt:
        pid = enqueued(rt)
        fx.stop()
        # When published / Then it is retried later: nothing can have been created
        assert do_publish(rt, pid) == "retrying"
        pub = rt.ledger.publication(pid)
        assert pub is not None and "cannot reach X" in (pub.last_error or "")


@pytest.mark.parametrize(("fault", "reason"), [
    (Fault("stall", when="after", method="POST", path="^/2/tweets$", seconds=1.5), "ReadTimeout"),
    (Fault("close", when="after", method="POST", path="^/2/tweets$"), "ConnectionError"),
    (Fault("malformed", when="after", method="POST", path="^/2/tweets$"), "could not be read"),
])
def test_a_lost_answer_after_the_post_was_made_is_in_doubt_then_found(rt: Runtime, fx: FakeX, fault: Fault,
                                                                      reason: str) -> None:
    # Given X makes the post but its answer is lost (read timeout, reset, or an unreadable 201)
    fx.fail_next(fault)
    pid = enqueued(rt)
    # When published / Then in doubt, with why
    assert do_publish(rt, pid) == "in_doubt"
    pub = rt.ledger.publication(pid)
    assert pub is not None and reason in (pub.last_error or "")
    # And reconciliation finds the post by its tagged link: published, exactly one post at X
    assert do_reconcile(rt, pid) == "published"
    pub = rt.ledger.publication(pid)
    assert len(fx.posts) == 1 and pub is not None and pub.state == "published" and pub.remote_id == fx.posts[0].id
    assert fx.posts[0].urls[0]["expanded_url"] == pub.tagged_url


def test_a_reset_before_anything_was_made_is_retried_after_reconcile(rt: Runtime, fx: FakeX) -> None:
    # Given the connection closes after X read the request but before it made anything
    fx.fail_next(Fault("close", when="before", method="POST", path="^/2/tweets$"))
    pid = enqueued(rt)
    # When published and reconciled / Then nothing is found and it retries; one post in the end
    assert do_publish(rt, pid) == "in_doubt"
    assert do_reconcile(rt, pid) == "retrying"
    make_due(rt, pid)
    assert do_publish(rt, pid) == "published"
    assert len(fx.posts) == 1


def test_reconcile_right_after_the_attempt_waits_for_xs_timeline(config_dir: Callable[..., Path], fx: FakeX,
                                                                 sqlite_url: str) -> None:
    # Given the default settle time (X's timeline can lag a post by seconds) and a lost answer
    acc = x_account(fx, username="example", read_timeout_s=0.5)
    cfg = config_dir(accounts={"x-na": acc}, routes=[simple_route("na", ["en-US"], ["x-na"])])
    with Runtime.create(config=cfg, database_url=sqlite_url, redis_url="", environ=x_environ(fx)) as rt:
        fx.fail_next(Fault("stall", when="after", method="POST", path="^/2/tweets$", seconds=1.0))
        pid = enqueued(rt)
        assert do_publish(rt, pid) == "in_doubt"
        # When reconciled at once / Then it defers instead of declaring the post absent
        assert do_reconcile(rt, pid) == "deferred"
        pub = rt.ledger.publication(pid)
        assert pub is not None and pub.state == "in_doubt"
        assert fx.requests_to("GET", f"/2/users/{FakeX.user_id}/tweets") == []


def test_a_post_over_the_limit_is_never_sent(rt: Runtime, fx: FakeX) -> None:
    # Given a rendered post that somehow measures over 280 (a hand-edited record)
    from syndicate.channels.contract import Rendered
    from syndicate.errors import PermanentError
    from syndicate.publishing.content import publication_ref

    pid = enqueued(rt)
    pub = rt.ledger.publication(pid)
    assert pub is not None
    too_long = Rendered(text="x" * 281, length=281, limit=280, link=pub.tagged_url)
    # When the adapter is asked to publish it / Then it refuses without a request
    with pytest.raises(PermanentError, match="281 weighted characters"):
        rt.adapter("x-na").publish(too_long, publication_ref(rt, pub))
    assert fx.requests_to("POST", "/2/tweets") == []


def test_an_older_post_with_the_same_link_is_not_taken_for_this_publication(rt: Runtime, fx: FakeX) -> None:
    # Given the account posted the same tagged link ten minutes ago (an earlier revision of the item)
    pid = enqueued(rt)
    pub = rt.ledger.publication(pid)
    assert pub is not None
    fx.add_post(f"Earlier words {pub.tagged_url}", created_at=datetime.now(UTC) - timedelta(minutes=10))
    # And this attempt's connection drops before X made anything
    fx.fail_next(Fault("close", when="before", method="POST", path="^/2/tweets$"))
    assert do_publish(rt, pid) == "in_doubt"
    # When reconciled / Then the older post is outside the search window: retried, not "found"
    assert do_reconcile(rt, pid) == "retrying"
    make_due(rt, pid)
    assert do_publish(rt, pid) == "published"
    pub = rt.ledger.publication(pid)
    assert pub is not None and pub.remote_id == fx.posts[-1].id and len(fx.posts) == 2
