"""Operator decisions: ``resolve`` settles an unconfirmed publication, ``replay`` re-queues failed ones.

Each test brings real publications to the state at issue through the pipeline and the board fake
(a 500 after the post was made, a board that cannot be searched, a refused post), then acts as an
operator would, through the Python API or the command line.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from syndicate import Decision, ResolveError, Runtime, replay, resolve, submit
from syndicate.ledger import Ledger
from syndicate.localization.step import do_localize
from syndicate.model.states import PublicationState as S
from syndicate.publishing.steps import do_publish, do_reconcile
from tests.fakes.base import Fault
from tests.fakes.board import FakeBoard
from tests.helpers import REPO, item_data
from tests.reliability.support import board_runtime, enqueued, make_due


@pytest.fixture
def board() -> Iterator[FakeBoard]:
    with FakeBoard() as b:
        yield b


@pytest.fixture
def rt(config_dir: Callable[..., Path], board: FakeBoard, ledger_url: str) -> Iterator[Runtime]:
    with board_runtime(config_dir, board, ledger_url, accounts=("b", "c")) as runtime:
        yield runtime


def unconfirmed(rt: Runtime, board: FakeBoard, *, post_made: bool) -> int:
    """One publication left unconfirmed: the create's answer was a 500 and the board cannot be searched."""
    [pid, _] = enqueued(rt)
    board.fail_next(Fault("status", when="after" if post_made else "before", method="POST", path="^/posts$",
                          status=500))
    assert do_publish(rt, pid) == "in_doubt"
    board.fail_next(Fault("status", method="GET", path="^/posts$", status=500))
    assert do_reconcile(rt, pid) == "unconfirmed"
    return pid


def failed(rt: Runtime, board: FakeBoard, **item: object) -> list[int]:
    """Publications the board refused for good (422)."""
    ids = enqueued(rt, **item)
    for pid in ids:
        board.fail_next(Fault("status", method="POST", path="^/posts$", status=422, body={"error": "nope"}))
        assert do_publish(rt, pid) == "failed"
    return ids


def test_resolving_as_published_records_the_url_the_remote_id_and_who_and_why(rt: Runtime, board: FakeBoard) -> None:
    # Given an unconfirmed publication whose post the operator found on the board
    pid = unconfirmed(rt, board, post_made=True)
    url = board.posts[0]["url"]
    # When the operator resolves it as published with the URL and the remote id
    pub = resolve(pid, "published", runtime=rt, by="anna", reason="found it by hand", permalink=url, remote_id="1")
    # Then it is published with that back-link, and the event names the operator and the reason
    assert pub.state == "published" and pub.permalink == url and pub.remote_id == "1"
    assert pub.published_at is not None and pub.rendered is not None and pub.text_hash
    [event] = [e for e in rt.ledger.events(publication_id=pid) if e["kind"] == "resolved"]
    assert event["actor"] == "operator:anna" and event["from_state"] == "unconfirmed"
    assert event["detail"]["reason"] == "found it by hand" and event["detail"]["permalink"] == url
    assert len(board.posts) == 1


@pytest.mark.parametrize("url", ["javascript:alert(1)", "/p/1", "https://user:pw@board.example/p/1",
                                 "https://board.example/p 1", "ftp://board.example/p/1", "", "https://" + "a" * 2100])
def test_resolving_as_published_refuses_a_url_that_is_not_an_absolute_web_url(
    rt: Runtime, board: FakeBoard, url: str
) -> None:
    # Given an unconfirmed publication
    pid = unconfirmed(rt, board, post_made=True)
    # When the operator gives a URL that is not a usable permalink / Then it is refused and nothing changes
    with pytest.raises(ResolveError):
        resolve(pid, Decision.PUBLISHED, runtime=rt, by="anna", permalink=url)
    pub = rt.ledger.publication(pid)
    assert pub is not None and pub.state == "unconfirmed" and pub.permalink is None


def test_resolving_for_a_retry_publishes_once_with_a_fresh_retry_budget(rt: Runtime, board: FakeBoard) -> None:
    # Given an unconfirmed publication whose post is not on the board
    pid = unconfirmed(rt, board, post_made=False)
    # When the operator asks for a retry (by key)
    key = rt.ledger.publication(pid).key  # type: ignore[union-attr]
    pub = resolve(key, "retry", runtime=rt, by="anna", reason="not there")
    # Then it is due now with its failures reset, and the next publish makes exactly one post
    assert pub.state == "retrying" and pub.failures == 0 and pub.scheduled_for <= rt.ledger.now()
    assert do_publish(rt, pid) == "published"
    assert len(board.posts) == 1


def test_resolving_as_failed_keeps_the_reason_as_the_last_error(rt: Runtime, board: FakeBoard) -> None:
    pid = unconfirmed(rt, board, post_made=False)
    pub = resolve(pid, "failed", runtime=rt, by="anna", reason="campaign over")
    assert pub.state == "failed" and pub.last_error == "resolved as failed by anna: campaign over"
    assert board.posts == []


def test_only_unconfirmed_or_in_doubt_publications_are_resolved(rt: Runtime, board: FakeBoard) -> None:
    # Given a published and a failed publication
    [ok, _] = enqueued(rt)
    assert do_publish(rt, ok) == "published"
    [bad, _] = failed(rt, board, id="item-2")
    # When an operator tries to resolve them / Then both are refused, saying why
    with pytest.raises(ResolveError, match="is published"):
        resolve(ok, "failed", runtime=rt, by="anna")
    with pytest.raises(ResolveError, match="use replay"):
        resolve(bad, "retry", runtime=rt, by="anna")
    with pytest.raises(ResolveError, match="no publication"):
        resolve("item-9/1/en-US/b/0", "retry", runtime=rt, by="anna")


def test_replay_requeues_failed_rows_of_one_account_and_a_dry_run_changes_nothing(
    rt: Runtime, board: FakeBoard
) -> None:
    # Given four failed publications on two accounts
    ids = failed(rt, board) + failed(rt, board, id="item-2")
    on_b = [p.id for p in rt.ledger.publications(account="b")]
    before = rt.ledger.events()
    # When a dry run asks what replaying account b would do / Then it lists them and changes nothing
    plan = replay(runtime=rt, by="anna", account="b", dry_run=True)
    assert [p.id for p in plan.replayed] == sorted(on_b) and plan.skipped == []
    assert rt.ledger.events() == before
    assert {rt.ledger.publication(i).state for i in ids} == {"failed"}  # type: ignore[union-attr]
    # When replayed for real / Then only account b's rows are retried, each with an event, and publish once
    plan = replay(runtime=rt, by="anna", account="b", reason="board fixed")
    assert sorted(p.id for p in plan.replayed) == sorted(on_b)
    for pid in on_b:
        [event] = [e for e in rt.ledger.events(publication_id=pid) if e["kind"] == "replayed"]
        assert event["actor"] == "operator:anna" and event["detail"]["reason"] == "board fixed"
        assert do_publish(rt, pid) == "published"
    assert [e["kind"] for e in rt.ledger.events() if e["publication_id"] is None][-1] == "replay"
    assert {p.state for p in rt.ledger.publications(account="c")} == {"failed"}
    assert len(board.posts) == 2


def test_replay_skips_a_held_account_and_says_so_unless_asked_to_queue_behind_it(
    rt: Runtime, board: FakeBoard
) -> None:
    # Given failed publications, and account c marked as needing new credentials
    failed(rt, board)
    rt.ledger.set_account_status("c", "needs_credentials", "token expired", actor="test")
    # When replayed / Then c's row is skipped with the account's status and what to do
    plan = replay(runtime=rt, by="anna", item="item-1")
    [skip] = plan.skipped
    assert skip.publication.account == "c" and "needs_credentials (token expired)" in (skip.reason or "")
    assert "syndicate accounts reset c" in (skip.reason or "")
    assert [p.account for p in plan.replayed] == ["b"]
    # When replayed again including held accounts / Then it is queued, with a note that it waits
    plan = replay(runtime=rt, by="anna", item="item-1", include_held=True)
    [row] = plan.rows
    assert row.action == "replay" and "waits until the account is reset" in (row.reason or "")
    # And the dispatcher sends b's row but not c's while the account is held
    due = rt.ledger.take_due(horizon=timedelta(seconds=5), limit=10, actor="t")
    assert [p.account for p in due] == ["b"]


def test_replay_never_requeues_a_superseded_revision(rt: Runtime, board: FakeBoard) -> None:
    # Given failed publications of revision 1, then revision 2 of the item
    old = failed(rt, board)
    submit(item_data(revision=2, title="A new title"), runtime=rt, ignore_schedule=True)
    # When replayed / Then revision 1's rows are skipped: they would post stale content
    plan = replay(runtime=rt, by="anna", item="item-1")
    assert plan.replayed == [] and sorted(r.publication.id for r in plan.skipped) == sorted(old)
    assert all("no longer active" in (r.reason or "") for r in plan.skipped)


def test_replay_chooses_rows_by_the_time_they_failed(rt: Runtime, board: FakeBoard) -> None:
    # Given two batches of failures, one after the other
    early = failed(rt, board)
    cut = rt.ledger.now() + timedelta(microseconds=1)
    late = failed(rt, board, id="item-2")
    # When replaying only what failed since the cut / Then only the later rows are re-queued
    plan = replay(runtime=rt, by="anna", since=cut)
    assert sorted(p.id for p in plan.replayed) == sorted(late)
    plan = replay(runtime=rt, by="anna", until=cut, dry_run=True)
    assert sorted(p.id for p in plan.replayed) == sorted(early)


def test_replay_refuses_states_it_does_not_replay(rt: Runtime) -> None:
    for state in ("published", "retrying", "nonsense"):
        with pytest.raises(ResolveError):
            replay(runtime=rt, by="anna", states=[state])
    with pytest.raises(ResolveError, match="needs an item"):
        replay(runtime=rt, by="anna", localizations=True)


def test_unconfirmed_rows_are_replayed_only_when_asked_for(rt: Runtime, board: FakeBoard) -> None:
    pid = unconfirmed(rt, board, post_made=False)
    assert replay(runtime=rt, by="anna", item="item-1").replayed == []
    plan = replay(runtime=rt, by="anna", item="item-1", states=["unconfirmed"], reason="checked: not there")
    assert [p.id for p in plan.replayed] == [pid] and plan.replayed[0].state == S.RETRYING


def test_replay_asks_again_for_an_items_failed_localizations(
    config_dir: Callable[..., Path], board: FakeBoard, sqlite_url: str
) -> None:
    # Given an item whose de-DE localization failed for good (the engine refused the text)
    with board_runtime(config_dir, board, sqlite_url, locales=("de-DE",)) as rt:
        sub = submit(item_data(), runtime=rt, ignore_schedule=True)
        rt.ledger.record_localization_failure(sub.item_id, 1, "de-DE", error="engine refused the text", actor="test",
                                              retry=False)
        assert rt.ledger.failed_localizations("item-1", 1) == ["de-DE"]
        # When a dry run asks / Then it names the localization and leaves it failed
        plan = replay(runtime=rt, by="anna", item="item-1", localizations=True, dry_run=True)
        assert plan.localizations == [("item-1", 1, "de-DE")]
        assert rt.ledger.localization("item-1", 1, "de-DE")["state"] == "failed"  # type: ignore[index]
        # When replayed with localizations
        plan = replay(runtime=rt, by="anna", item="item-1", localizations=True)
        # Then the localization is pending and never requested, so the dispatcher asks for it; an event says who
        assert plan.localizations == [("item-1", 1, "de-DE")]
        loc = rt.ledger.localization("item-1", 1, "de-DE")
        assert loc is not None and loc["state"] == "pending" and loc["requested_at"] is None
        assert any(e["kind"] == "localization-requeued" and e["actor"] == "operator:anna"
                   for e in rt.ledger.events(item_id="item-1"))
        assert rt.ledger.localizations_to_request(stale_after=timedelta(minutes=2), limit=10) == [
            ("item-1", 1, "de-DE")]


# -- the command line ---------------------------------------------------------------------------


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SYNDICATE_")}
    env["SYNDICATE_OUTBOX"] = str(cwd / "outbox")
    return subprocess.run([sys.executable, "-m", "syndicate", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=120)


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    shutil.copytree(REPO / "config", tmp_path / "config")
    return tmp_path


def cli_rows(workdir: Path) -> tuple[Ledger, list[int]]:
    """The example config's ledger with item-1 planned and two of its rows failed, one unconfirmed."""
    with Runtime.create(config=workdir / "config", database_url=f"sqlite:///{workdir / 'syndicate.db'}",
                        redis_url="", environ={}) as rt:
        sub = submit(item_data(), runtime=rt, ignore_schedule=True)
        for loc in rt.ledger.mark_localizations_requested(sub.item_id, sub.revision):
            do_localize(rt, sub.item_id, sub.revision, loc)
        pubs = [p for p in rt.ledger.publications(item_id="item-1") if p.state == "scheduled"][:3]
        ids = [p.id for p in pubs]
        for pid in ids:
            make_due(rt, pid)
        rt.ledger.take_due(horizon=timedelta(seconds=5), limit=100, actor="t")
        for i, pid in enumerate(ids):
            rt.ledger.claim(pid, worker="t", lease=timedelta(minutes=1))
            if i < 2:
                rt.ledger.transition(pid, S.FAILED, expect=(S.CALLING,), actor="t", error="HTTP 503 for an hour")
            else:
                rt.ledger.transition(pid, S.IN_DOUBT, expect=(S.CALLING,), actor="t", error="read timeout")
                rt.ledger.transition(pid, S.UNCONFIRMED, expect=(S.IN_DOUBT,), actor="t", error="cannot search")
    led = Ledger(f"sqlite:///{workdir / 'syndicate.db'}")
    return led, ids


def test_the_resolve_command_settles_an_unconfirmed_row_and_refuses_bad_requests(workdir: Path) -> None:
    led, [_, bad, pid] = cli_rows(workdir)
    # Neither or two decisions, or a bad URL: usage errors, nothing changes
    assert cli("resolve", str(pid), cwd=workdir).returncode == 2
    assert cli("resolve", str(pid), "--retry", "--fail", cwd=workdir).returncode == 2
    out = cli("resolve", str(pid), "--published", "javascript:alert(1)", cwd=workdir)
    assert out.returncode == 2 and "not usable" in out.stderr
    out = cli("resolve", str(bad), "--retry", cwd=workdir)
    assert out.returncode == 2 and "use replay" in out.stderr
    assert led.publication(pid).state == "unconfirmed"  # type: ignore[union-attr]
    # A good request is recorded with who and why
    url = "https://x.com/example/status/1790000000000000001"
    out = cli("resolve", str(pid), "--published", url, "--remote-id", "1790000000000000001", "--by", "anna",
              "--reason", "seen on X", cwd=workdir)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().endswith(f"published at {url}")
    pub = led.publication(pid)
    assert pub is not None and pub.permalink == url and pub.remote_id == "1790000000000000001"
    [event] = [e for e in led.events(publication_id=pid) if e["kind"] == "resolved"]
    assert event["actor"] == "operator:anna" and event["detail"]["reason"] == "seen on X"
    led.close()


def test_the_replay_command_lists_a_dry_run_then_replays(workdir: Path) -> None:
    led, [a, b, u] = cli_rows(workdir)
    assert cli("replay", cwd=workdir).returncode == 2  # no filter: refused
    out = cli("replay", "--item", "item-1", "--dry-run", cwd=workdir)
    assert out.returncode == 0, out.stderr
    assert f"#{a:<6}" in out.stdout and f"#{b:<6}" in out.stdout and f"#{u:<6}" not in out.stdout
    assert "would replay 2 publication(s); skipped 0; dry run: nothing changed" in out.stdout
    assert led.publication(a).state == "failed"  # type: ignore[union-attr]
    out = cli("replay", "--item", "item-1", "--since", "1h", "--by", "anna", cwd=workdir)
    assert out.returncode == 0 and "replayed 2 publication(s)" in out.stdout
    assert {led.publication(i).state for i in (a, b)} == {"retrying"}  # type: ignore[union-attr]
    assert cli("replay", "--item", "item-1", "--since", "yesterday", cwd=workdir).returncode == 2
    led.close()
