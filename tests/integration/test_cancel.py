"""Cancel, expire, revise: what has not gone out can be stopped; what has stays recorded."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import syndicate
from syndicate import ContentError, Runtime, submit
from syndicate.cli import main
from syndicate.localization.step import do_localize
from syndicate.model.states import PublicationState as S
from syndicate.publishing.content import publication_ref
from syndicate.publishing.steps import do_publish
from tests.helpers import ManualClock, item_data, sandbox_accounts, simple_route

T0 = datetime(2026, 6, 1, 7, 0, tzinfo=UTC)  # 09:00 in Berlin


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture
def cfg(config_dir: Callable[..., Path]) -> Path:
    return config_dir(accounts=sandbox_accounts("a", "b"),
                      routes=[simple_route("dach", ["en-US", "en-GB"], ["a", "b"], timezone="Europe/Berlin")])


@pytest.fixture
def rt(cfg: Path, ledger_url: str, outbox: Path, clock: ManualClock) -> Iterator[Runtime]:
    with Runtime.create(config=cfg, database_url=ledger_url, redis_url="", clock=clock) as runtime:
        yield runtime


def submitted(rt: Runtime, **item: Any) -> list[int]:
    """Submit, localize, and return the publication ids in key order."""
    sub = submit(item_data(**item), runtime=rt)
    for loc in rt.ledger.mark_localizations_requested(sub.item_id, sub.revision):
        do_localize(rt, sub.item_id, sub.revision, loc)
    return [p.id for p in sub.publications]


def state(rt: Runtime, pid: int) -> str:
    pub = rt.ledger.publication(pid)
    assert pub is not None
    return pub.state


def by_key(rt: Runtime, item_id: str, revision: int) -> dict[tuple[str, str], Any]:
    return {(p.locale, p.account): p for p in rt.ledger.publications(item_id=item_id, revision=revision)}


def test_cancel_stops_every_publication_not_yet_out_and_keeps_the_published_one(rt: Runtime, outbox: Path) -> None:
    # Given four publications: one published, the others enqueued (a message is in the queue)
    submitted(rt)
    due = rt.ledger.take_due(horizon=timedelta(0), limit=10, actor="t")
    assert do_publish(rt, due[0].id) == "published"
    # When the item is cancelled through the Python API
    done = syndicate.cancel("item-1", runtime=rt, actor="test")
    # Then the three that had not gone out are cancelled, the published one stays, the item is cancelled
    assert sorted(p.id for p in done.cancelled) == sorted(p.id for p in due[1:])
    assert [p.id for p in done.published] == [due[0].id] and done.in_flight == []
    assert [state(rt, p.id) for p in due] == ["published", "cancelled", "cancelled", "cancelled"]
    stored = rt.ledger.item("item-1")
    assert stored is not None and stored.state == "cancelled"
    # And the queued messages find their rows cancelled and post nothing
    assert [do_publish(rt, p.id) for p in due[1:]] == ["not-claimable"] * 3
    assert len(list(outbox.rglob("*.txt"))) == 1


def test_cancel_by_locale_or_account_leaves_the_other_publications(rt: Runtime) -> None:
    # Given an item for two locales on two accounts
    submitted(rt)
    # When its en-GB publications are cancelled, then its publications on account b
    gb = syndicate.cancel("item-1", locale="en-GB", runtime=rt)
    acc = syndicate.cancel("item-1", account="b", runtime=rt)
    # Then only those rows were cancelled, and the item stays active for the rest
    assert sorted((p.locale, p.account) for p in gb.cancelled) == [("en-GB", "a"), ("en-GB", "b")]
    assert [(p.locale, p.account) for p in acc.cancelled] == [("en-US", "b")]
    rows = by_key(rt, "item-1", 1)
    assert rows["en-US", "a"].state == "scheduled"
    assert rows["en-GB", "a"].last_error == "cancelled by api"
    assert rt.ledger.item("item-1").state == "active"  # type: ignore[union-attr]


def test_cancel_reports_a_publication_in_the_middle_of_its_call_as_in_flight(rt: Runtime) -> None:
    # Given one publication claimed by a worker that is calling the platform
    submitted(rt, locales=["en-US"], channels=["a"])
    [pub] = rt.ledger.take_due(horizon=timedelta(0), limit=10, actor="t")
    rt.ledger.claim(pub.id, worker="w", lease=timedelta(minutes=2))
    # When the item is cancelled / Then that publication is reported in flight and left to finish
    done = syndicate.cancel("item-1", runtime=rt)
    assert done.cancelled == [] and [p.id for p in done.in_flight] == [pub.id]
    assert state(rt, pub.id) == "calling"


def test_cancelling_an_unknown_item_is_an_error(rt: Runtime) -> None:
    with pytest.raises(ContentError, match="not found"):
        syndicate.cancel("no-such-item", runtime=rt)


def test_a_publication_that_comes_due_after_the_item_expired_is_skipped_at_claim(
    rt: Runtime, clock: ManualClock, outbox: Path
) -> None:
    # Given an item that expires in an hour, planned now
    [pid, *_] = submitted(rt, locales=["en-US"], channels=["a"], expires_at="2026-06-01T08:00:00Z")
    assert state(rt, pid) == "scheduled"
    # When no worker ran for two hours and the row is dispatched late
    clock.t = T0 + timedelta(hours=2)
    [pub] = rt.ledger.take_due(horizon=timedelta(0), limit=10, actor="t")
    # Then the claim-time check skips it with the reason, and nothing is posted
    assert do_publish(rt, pub.id) == "skipped"
    row = rt.ledger.publication(pid)
    assert row is not None and row.state == "skipped" and row.attempts == 0
    assert row.last_error is not None and "expired" in row.last_error
    assert [e["kind"] for e in rt.ledger.events(publication_id=pid)][-1] == "expired"
    assert list(outbox.rglob("*.txt")) == []


def test_a_new_revision_replaces_the_unpublished_rows_and_keeps_the_published_one(rt: Runtime) -> None:
    # Given revision 1 published on (en-US, a) and waiting elsewhere, one of them enqueued
    submitted(rt)
    r1 = by_key(rt, "item-1", 1)
    rt.ledger.take_due(horizon=timedelta(0), limit=10, actor="t")
    assert do_publish(rt, r1["en-US", "a"].id) == "published"
    # When revision 2 is submitted
    sub = submit(item_data(revision=2, title="An edited title"), runtime=rt)
    # Then revision 1's unpublished rows are cancelled as superseded; its published row stays
    old = by_key(rt, "item-1", 1)
    assert old["en-US", "a"].state == "published"
    assert {k: p.state for k, p in old.items() if k != ("en-US", "a")} == {
        ("en-US", "b"): "cancelled", ("en-GB", "a"): "cancelled", ("en-GB", "b"): "cancelled"}
    assert "superseded by revision 2" in (old["en-GB", "a"].last_error or "")
    assert sorted(sub.superseded) == sorted(p.id for k, p in old.items() if k != ("en-US", "a"))
    # And revision 2 plans all four again; the one already posted is handed the old post's id to update
    new = by_key(rt, "item-1", 2)
    assert {p.state for p in new.values()} == {"scheduled"}
    assert publication_ref(rt, new["en-US", "a"]).previous_remote_id == old["en-US", "a"].remote_id
    assert publication_ref(rt, new["en-GB", "a"]).previous_remote_id is None
    # And the old revision's queued messages do nothing
    assert do_publish(rt, old["en-GB", "a"].id) == "not-claimable"


def test_cli_cancel_prints_what_it_cancelled_and_exits_zero(rt: Runtime, cfg: Path, ledger_url: str) -> None:
    # Given a stored item
    submitted(rt)
    env = {"SYNDICATE_DATABASE_URL": ledger_url, "SYNDICATE_CONFIG": str(cfg)}
    # When `syndicate cancel item-1 --account b` runs
    out = CliRunner().invoke(main, ["cancel", "item-1", "--account", "b", "--reason", "wrong audience"], env=env)
    # Then it names what it cancelled, with times in UTC and Berlin time
    assert out.exit_code == 0, out.output
    assert "cancelled 2 publication(s)" in out.output
    assert "2026-06-01 07:00 UTC / 2026-06-01 09:00 CEST" in out.output
    rows = by_key(rt, "item-1", 1)
    assert rows["en-US", "b"].state == "cancelled" and rows["en-US", "b"].last_error == "wrong audience"
    assert rows["en-US", "a"].state == S.SCHEDULED
    # And an unknown item exits 1
    missing = CliRunner().invoke(main, ["cancel", "nope"], env=env)
    assert missing.exit_code == 1 and "not found" in missing.output


def test_status_shows_the_planned_time_in_utc_and_in_the_route_local_time(
    rt: Runtime, cfg: Path, ledger_url: str
) -> None:
    # Given an item to publish on 1 December at 08:00 UTC (09:00 in Berlin, winter time)
    submitted(rt, publish_at="2026-12-01T08:00:00Z")
    # When `syndicate status` runs / Then each row shows both times
    out = CliRunner().invoke(main, ["status", "item-1"],
                             env={"SYNDICATE_DATABASE_URL": ledger_url, "SYNDICATE_CONFIG": str(cfg)})
    assert out.exit_code == 0, out.output
    assert out.output.count("2026-12-01 08:00 UTC / 2026-12-01 09:00 CET") == 4
