"""utm_content names the revision: each revision's posts carry their own link, reconciliation tells
them apart, and ``syndicate report --utm-content`` finds the post a value belongs to."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from syndicate import Runtime, submit
from syndicate.ledger.schema import publications
from syndicate.localization.step import do_localize
from syndicate.operations.report import report_rows
from syndicate.publishing.steps import do_publish, do_reconcile
from syndicate.worker.host import run_until_settled
from tests.fakes.base import Fault
from tests.fakes.linkedin import FakeLinkedIn, TokenGrant
from tests.fakes.x import FakeX, x_account, x_environ
from tests.helpers import item_data, sandbox_accounts, simple_route

LI_TOKEN = "li-test-token-0123456789"
AUTHOR = "urn:li:organization:2414183"


def enqueue(rt: Runtime, revision: int, **changes: Any) -> int:
    """Submit revision ``revision`` of ``item-1`` (same words every time unless ``changes``) and
    bring its one publication to ``enqueued``; returns its id."""
    sub = submit(item_data(revision=revision, body=f"Body of revision {revision}.", **changes), runtime=rt,
                 ignore_schedule=True)
    rt.ledger.mark_localizations_requested(sub.item_id, sub.revision)
    do_localize(rt, sub.item_id, sub.revision, "en-US")
    [pub] = rt.ledger.take_due(horizon=timedelta(seconds=5), limit=10, actor="test")
    return pub.id


def make_due(rt: Runtime, pid: int) -> None:
    with rt.ledger.begin() as conn:
        conn.execute(update(publications).where(publications.c.id == pid)
                     .values(scheduled_for=rt.ledger.now() - timedelta(seconds=1)))


# -- reconciliation across revisions --------------------------------------------------------------


@pytest.fixture
def fx() -> Iterator[FakeX]:
    with FakeX() as fake:
        yield fake


def test_x_reconcile_does_not_take_the_previous_revisions_post_that_went_out_a_moment_ago(
    config_dir: Callable[..., Path], fx: FakeX, sqlite_url: str
) -> None:
    # Given revision 1 went out on X moments ago, inside the window reconciliation searches
    # (on an account whose revisions are posted as replies to the earlier post)
    acc = {**x_account(fx, username="example", read_timeout_s=0.5, reconcile_settle_s=0), "on_revision": "reply"}
    cfg = config_dir(accounts={"x-na": acc}, routes=[simple_route("na", ["en-US"], ["x-na"])])
    with Runtime.create(config=cfg, database_url=sqlite_url, redis_url="", environ=x_environ(fx)) as rt:
        first = enqueue(rt, 1)
        assert do_publish(rt, first) == "published"
        # And revision 2, a corrected summary (a revision that reads the same makes no call at all),
        # loses its connection before X made anything
        second = enqueue(rt, 2, summary="A corrected summary.")
        fx.fail_next(Fault("close", when="before", method="POST", path="^/2/tweets$"))
        assert do_publish(rt, second) == "in_doubt"
        # When reconciled / Then revision 1's post is not taken for it (its link names r1): retried
        assert do_reconcile(rt, second) == "retrying"
        make_due(rt, second)
        assert do_publish(rt, second) == "published"
        old, new = rt.ledger.publication(first), rt.ledger.publication(second)
    assert old is not None and new is not None and len(fx.posts) == 2
    assert (old.remote_id, new.remote_id) == (fx.posts[0].id, fx.posts[1].id)
    assert [p.urls[0]["expanded_url"] for p in fx.posts] == [old.tagged_url, new.tagged_url]
    assert ".r1." in old.tagged_url and ".r2." in new.tagged_url


def test_linkedin_revision_2_whose_update_answer_was_lost_is_sent_again_to_the_same_post(
    config_dir: Callable[..., Path], sqlite_url: str
) -> None:
    with FakeLinkedIn({LI_TOKEN: TokenGrant({AUTHOR})}) as linkedin:
        cfg = config_dir(
            accounts={"li": {"adapter": "linkedin", "base_url": linkedin.url, "connect_timeout_s": 1,
                             "read_timeout_s": 0.5, "credentials": {"access_token": "${LI_TOKEN}"},
                             "options": {"author": AUTHOR}}},
            routes=[simple_route("na", ["en-US"], ["li"])])
        with Runtime.create(config=cfg, database_url=sqlite_url, redis_url="", environ={"LI_TOKEN": LI_TOKEN}) as rt:
            # Given revision 1 is on the page
            first = enqueue(rt, 1)
            assert do_publish(rt, first) == "published"
            # And revision 2's update of that post was made but LinkedIn's answer was lost
            second = enqueue(rt, 2, summary="A corrected summary.")
            linkedin.fail_next(Fault("close", when="after", method="POST"))
            # When it is published: an update by id is idempotent, so it is retried, not reconciled
            outcome = do_publish(rt, second)
            make_due(rt, second)
            again = do_publish(rt, second)
            old, new = rt.ledger.publication(first), rt.ledger.publication(second)
        posts = linkedin.created()
    # Then there is still one post, revision 2's row stands for it, and the update went out twice
    assert (outcome, again) == ("retrying", "published") and old is not None and new is not None
    assert len(posts) == 1 and new.remote_id == old.remote_id == posts[0]["id"]
    updates = [r for r in linkedin.requests if r.method == "POST" and r.path.startswith("/rest/posts/")]
    assert len(updates) == 2 and all(r.header("X-RestLi-Method") == "PARTIAL_UPDATE" for r in updates)


# -- syndicate report --utm-content ----------------------------------------------------------------


def _published_revisions(config_dir: Callable[..., Path], url: str) -> tuple[Path, Runtime]:
    cfg = config_dir(accounts=sandbox_accounts("a", "b"), routes=[simple_route("na", ["en-US"], ["a", "b"])])
    rt = Runtime.create(config=cfg, database_url=url, redis_url="")
    for revision in (1, 2):
        submit(item_data(revision=revision, title=f"Title of revision {revision}"), runtime=rt,
               ignore_schedule=True)
        run_until_settled(rt, lambda r=revision: rt.ledger.publications(item_id="item-1", revision=r), threads=2,
                          timeout=timedelta(seconds=60))
    return cfg, rt


def test_report_finds_the_one_publication_a_utm_content_value_belongs_to(
    config_dir: Callable[..., Path], ledger_url: str, outbox: Path
) -> None:
    # Given two revisions of an item published on two accounts
    _, rt = _published_revisions(config_dir, ledger_url)
    with rt:
        values = {p.utm["utm_content"] for p in rt.ledger.publications(item_id="item-1")}
        # When each value is looked up
        found = {v: report_rows(rt.ledger, utm_content=v) for v in sorted(values)}
        nothing = report_rows(rt.ledger, utm_content="item-1.en-US.a.0")
        # and a row planned before utm_content named the revision keeps its stored value, found by it
        [old] = rt.ledger.publications(item_id="item-1", revision=1, account="a")
        with rt.ledger.begin() as conn:
            conn.execute(update(publications).where(publications.c.id == old.id)
                         .values(utm={**old.utm, "utm_content": "item-1.en-US.a.0"}))
        legacy = report_rows(rt.ledger, utm_content="item-1.en-US.a.0")
    # Then the four posts have four values, and each value leads to exactly its post
    assert values == {"item-1.r1.en-US.a.0", "item-1.r1.en-US.b.0", "item-1.r2.en-US.a.0", "item-1.r2.en-US.b.0"}
    for value, rows in found.items():
        [row] = rows
        assert row["utm_content"] == value and value in row["tagged_url"]
        assert (f"item-1.r{row['revision']}.en-US.{row['account']}.0") == value
    # And a value no publication carries finds nothing, while an old row is found by its old value
    assert nothing == []
    assert [(r["revision"], r["account"]) for r in legacy] == [(1, "a")]


def test_report_utm_content_on_the_command_line_prints_the_post_or_exits_1(
    config_dir: Callable[..., Path], sqlite_url: str, outbox: Path
) -> None:
    # Given two published revisions in an SQLite ledger
    cfg, rt = _published_revisions(config_dir, sqlite_url)
    rt.close()
    base = [sys.executable, "-m", "syndicate", "report", "--config", str(cfg), "--format", "json"]
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("SYNDICATE_")},
           "SYNDICATE_DATABASE_URL": sqlite_url}
    # When the report is asked for revision 2's value on account b
    out = subprocess.run([*base, "--utm-content", "item-1.r2.en-US.b.0"], capture_output=True, text=True,
                         env=env, timeout=120)
    # Then it shows that one post, with its back-link
    assert out.returncode == 0, out.stderr
    [row] = json.loads(out.stdout)
    assert (row["revision"], row["account"], row["state"]) == (2, "b", "published")
    assert row["permalink"].startswith("file://")
    # And an unknown value says so and exits 1
    missing = subprocess.run([*base, "--utm-content", "nope"], capture_output=True, text=True, env=env,
                             timeout=120)
    assert missing.returncode == 1 and "no publication has utm_content 'nope'" in missing.stderr
