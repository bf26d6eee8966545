"""A thread interrupted mid-way resumes after its last posted part: no part is ever posted twice."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from syndicate import Runtime, submit
from syndicate.ledger.schema import publications
from syndicate.localization.step import do_localize
from syndicate.publishing.steps import do_publish, do_reconcile
from tests.fakes.base import Fault
from tests.fakes.x import FakeX, XPost, x_account, x_environ
from tests.helpers import item_data, simple_route

SUMMARY = " ".join(f"Step {i}: publish once, translate per region, attribute every lead to its post." for i in range(9))


@pytest.fixture
def fx() -> Iterator[FakeX]:
    with FakeX() as fake:
        yield fake


@pytest.fixture
def rt(config_dir: Callable[..., Path], fx: FakeX, sqlite_url: str) -> Iterator[Runtime]:
    acc = x_account(fx, username="example", read_timeout_s=0.5, reconcile_settle_s=0, thread=True,
                    hashtag_style="none")
    cfg = config_dir(accounts={"x-na": acc}, routes=[simple_route("na", ["en-US"], ["x-na"])])
    with Runtime.create(config=cfg, database_url=sqlite_url, redis_url="", environ=x_environ(fx)) as runtime:
        yield runtime


def enqueued(rt: Runtime) -> int:
    sub = submit(item_data(summary=SUMMARY), runtime=rt, ignore_schedule=True)
    rt.ledger.mark_localizations_requested(sub.item_id, sub.revision)
    do_localize(rt, sub.item_id, sub.revision, "en-US")
    [pub] = rt.ledger.take_due(horizon=timedelta(seconds=5), limit=10, actor="test")
    return pub.id


def make_due(rt: Runtime, pid: int) -> None:
    with rt.ledger.begin() as conn:
        conn.execute(update(publications).where(publications.c.id == pid)
                     .values(scheduled_for=rt.ledger.now() - timedelta(seconds=1)))


def fault_after_post(fx: FakeX, number: int, fault: Fault) -> None:
    """Queue ``fault`` for the create that follows the fake's ``number``-th post."""
    def hook(post: XPost) -> None:
        if len(fx.posts) == number:
            fx.fail_next(fault)

    fx.after_create = hook


def test_a_thread_that_fails_mid_way_resumes_without_reposting_earlier_parts(rt: Runtime, fx: FakeX) -> None:
    # Given X becomes unavailable right after the thread's first part was posted
    fault_after_post(fx, 1, Fault("status", method="POST", path="^/2/tweets$", status=503,
                                  body={"title": "Service Unavailable", "status": 503}))
    pid = enqueued(rt)
    # When published / Then it is retried later, with the first part already out
    assert do_publish(rt, pid) == "retrying"
    assert len(fx.posts) == 1
    pub = rt.ledger.publication(pid)
    assert pub is not None and "part 2 of" in (pub.last_error or "") and fx.posts[0].id in (pub.last_error or "")
    # When the retry runs
    make_due(rt, pid)
    assert do_publish(rt, pid) == "published"
    # Then it continued with part 2 as a reply to part 1: every part posted exactly once, in order
    pub = rt.ledger.publication(pid)
    assert pub is not None and pub.rendered is not None
    parts = pub.rendered["parts"]
    assert len(parts) >= 3 and [p.text for p in fx.posts] == parts
    assert [p.reply_to for p in fx.posts] == [None] + [p.id for p in fx.posts[:-1]]
    assert pub.remote_id == fx.posts[0].id
    bodies = [json.loads(r.body)["text"] for r in fx.requests_to("POST", "/2/tweets")]
    assert bodies == [parts[0], parts[1], *parts[1:]]  # part 2 was asked twice: refused once, then made


def test_a_thread_part_whose_answer_is_lost_is_found_and_the_rest_posted(rt: Runtime, fx: FakeX) -> None:
    # Given X makes part 2 but the answer is lost (read timeout)
    fault_after_post(fx, 1, Fault("stall", when="after", method="POST", path="^/2/tweets$", seconds=1.5))
    pid = enqueued(rt)
    # When published / Then it is in doubt after part 2
    assert do_publish(rt, pid) == "in_doubt"
    assert len(fx.posts) == 2
    # When reconciled / Then part 2 is found as the reply to part 1, but the thread is not complete
    assert do_reconcile(rt, pid) == "retrying"
    # And the retry posts only the remaining parts
    make_due(rt, pid)
    assert do_publish(rt, pid) == "published"
    pub = rt.ledger.publication(pid)
    assert pub is not None and pub.rendered is not None
    assert [p.text for p in fx.posts] == pub.rendered["parts"]
    assert [p.reply_to for p in fx.posts] == [None] + [p.id for p in fx.posts[:-1]]


def test_a_lost_answer_on_the_last_part_reconciles_the_whole_thread(rt: Runtime, fx: FakeX) -> None:
    # Given the whole thread is made but the answer to the last part is lost
    pid = enqueued(rt)
    pub = rt.ledger.publication(pid)
    assert pub is not None
    from syndicate.publishing.content import render_publication

    n = len(render_publication(rt, pub).parts)
    fault_after_post(fx, n - 1, Fault("close", when="after", method="POST", path="^/2/tweets$"))
    assert do_publish(rt, pid) == "in_doubt"
    # When reconciled / Then the thread is published, the back-link is its first post, nothing repeated
    assert do_reconcile(rt, pid) == "published"
    pub = rt.ledger.publication(pid)
    assert pub is not None and pub.remote_id == fx.posts[0].id and len(fx.posts) == n
