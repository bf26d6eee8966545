"""The pipeline's common case in one statement per step on PostgreSQL (``syndicate/ledger/hotpath.py``),
and the rare cases still decided as before: each test runs on SQLite (the general path) and on
PostgreSQL (the one-statement path) and expects the same states and events from both."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from syndicate import Runtime, submit
from syndicate.intake.steps import do_intake
from syndicate.localization.step import do_localize
from syndicate.model.states import PublicationState as S
from syndicate.publishing.dispatcher import Dispatcher, TickReport
from syndicate.publishing.steps import do_publish
from tests.helpers import ManualClock, item_data, sandbox_accounts, simple_route

T0 = datetime(2026, 6, 1, 7, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture
def rt(config_dir: Callable[..., Path], ledger_url: str, outbox: Path, clock: ManualClock) -> Iterator[Runtime]:
    cfg = config_dir(accounts=sandbox_accounts("a", "b"), routes=[simple_route("r", ["en-US", "en-GB"], ["a", "b"])])
    with Runtime.create(config=cfg, database_url=ledger_url, redis_url="", clock=clock) as runtime:
        yield runtime


@contextmanager
def _listening(rt: Runtime, name: str, keep: Callable[..., Any]) -> Iterator[list[Any]]:
    """What ``keep`` takes from each of the ledger engine's ``name`` events inside the block."""
    seen: list[Any] = []

    def _on(*args: Any) -> None:
        seen.append(keep(*args))

    event.listen(rt.ledger.engine, name, _on)
    try:
        yield seen
    finally:
        event.remove(rt.ledger.engine, name, _on)


def statements(rt: Runtime) -> AbstractContextManager[list[str]]:
    """The SQL statements the ledger runs inside the block."""
    return _listening(rt, "before_cursor_execute", lambda _conn, _cursor, statement, *_a: statement)


def executed(rt: Runtime) -> AbstractContextManager[list[object]]:
    """The statement objects (SQLAlchemy constructs) the ledger executes inside the block."""
    return _listening(rt, "before_execute", lambda _conn, clause, *_a: clause)


def localized(rt: Runtime, **item: Any) -> list[int]:
    """Submit and localize an item; its publication ids."""
    sub = submit(item_data(**item), runtime=rt, ignore_schedule=True)
    for loc in rt.ledger.mark_localizations_requested(sub.item_id, sub.revision):
        do_localize(rt, sub.item_id, sub.revision, loc)
    return [p.id for p in sub.publications]


def enqueued(rt: Runtime, **item: Any) -> int:
    """One localized publication, enqueued by the dispatcher's query."""
    localized(rt, locales=["en-US"], channels=["a"], **item)
    [pub] = rt.ledger.take_due(horizon=timedelta(seconds=5), limit=10, actor="t")
    return pub.id


def kinds(rt: Runtime, pid: int) -> list[str]:
    return [e["kind"] for e in rt.ledger.events(publication_id=pid)]


def test_a_publication_costs_one_claim_and_one_record_and_leaves_the_same_trail(rt: Runtime, outbox: Path) -> None:
    # Given an enqueued publication whose localization is done
    pid = enqueued(rt)
    # When its message is processed
    with statements(rt) as seen:
        assert do_publish(rt, pid) == "published"
    # Then it is published with the claim's and the record's events, on either ledger
    pub = rt.ledger.publication(pid)
    assert pub is not None and pub.state == "published" and pub.attempts == 1 and pub.claimed_by
    assert kinds(rt, pid)[-2:] == ["claimed", "published"]
    assert len(list(outbox.rglob("*.txt"))) == 1
    # And on PostgreSQL it took two statements: the claim (with the localization) and the record
    if rt.ledger.dialect == "postgresql":
        assert len(seen) == 2, seen


def test_on_postgresql_every_publication_runs_the_same_prebuilt_claim_and_record(
        config_dir: Callable[..., Path], pg_url: str, outbox: Path, clock: ManualClock) -> None:
    # Given two enqueued publications on PostgreSQL (the one-statement path)
    cfg = config_dir(accounts=sandbox_accounts("a"), routes=[simple_route("r", ["en-US"], ["a"])])
    with Runtime.create(config=cfg, database_url=pg_url, redis_url="", clock=clock) as rt:
        first, second = enqueued(rt, id="one"), enqueued(rt, id="two")
        # When each is published
        with executed(rt) as one:
            assert do_publish(rt, first) == "published"
        with executed(rt) as two:
            assert do_publish(rt, second) == "published"
    # Then both ran a claim and a record, and the second ran the very statements the first did:
    # built once per shape, not per call (building the record per call cost 2 ms of CPU per post)
    assert len(one) == len(two) == 2
    assert [id(s) for s in two] == [id(s) for s in one]


def test_a_duplicate_publish_message_claims_nothing_and_posts_nothing(rt: Runtime, outbox: Path) -> None:
    # Given a publication already published
    pid = enqueued(rt)
    assert do_publish(rt, pid) == "published"
    # When its message comes again / Then nothing is claimed, nothing is posted, no event is added
    before = kinds(rt, pid)
    assert do_publish(rt, pid) == "not-claimable"
    assert kinds(rt, pid) == before and len(list(outbox.rglob("*.txt"))) == 1


def test_a_publication_of_a_held_account_is_held_by_the_step_not_claimed(rt: Runtime, outbox: Path) -> None:
    # Given an enqueued publication whose account was then marked as needing credentials
    pid = enqueued(rt)
    rt.ledger.set_account_status("a", "needs_credentials", "token revoked", actor="t")
    # When its message is processed / Then it waits in scheduled, no attempt counted, nothing posted
    assert do_publish(rt, pid) == "held"
    pub = rt.ledger.publication(pid)
    assert pub is not None and pub.state == "scheduled" and pub.attempts == 0
    assert kinds(rt, pid)[-1] == "held" and "claimed" not in kinds(rt, pid)
    assert list(outbox.rglob("*.txt")) == []


def test_an_early_message_is_sent_again_for_the_due_time_not_claimed(rt: Runtime, clock: ManualClock,
                                                                    outbox: Path) -> None:
    # Given a publication taken by the dispatcher 3 s ahead of its time
    pid = enqueued(rt)
    pub = rt.ledger.publication(pid)
    assert pub is not None
    clock.t = pub.scheduled_for - timedelta(seconds=3)
    # When its message arrives now / Then it is not claimed (the general path sends it again)
    assert do_publish(rt, pid) == "early"
    again = rt.ledger.publication(pid)
    assert again is not None and again.state == "enqueued" and again.attempts == 0
    assert list(outbox.rglob("*.txt")) == []


def test_an_expired_item_is_skipped_at_claim_time_on_either_ledger(rt: Runtime, clock: ManualClock,
                                                                   outbox: Path) -> None:
    # Given an enqueued publication of an item that expires a minute after now
    pid = enqueued(rt, expires_at=(T0 + timedelta(minutes=1)).isoformat())
    # When its message is processed two minutes later
    clock.t = T0 + timedelta(minutes=2)
    # Then it is skipped with the reason, never claimed, nothing posted
    assert do_publish(rt, pid) == "skipped"
    pub = rt.ledger.publication(pid)
    assert pub is not None and pub.state == "skipped" and pub.attempts == 0
    assert kinds(rt, pid)[-1] == "expired" and "claimed" not in kinds(rt, pid)
    assert list(outbox.rglob("*.txt")) == []


def test_an_item_that_expires_later_is_published(rt: Runtime, outbox: Path) -> None:
    # Given an enqueued publication of an item that expires tomorrow
    pid = enqueued(rt, expires_at=(T0 + timedelta(days=1)).isoformat())
    # When its message is processed / Then it goes out
    assert do_publish(rt, pid) == "published"
    assert len(list(outbox.rglob("*.txt"))) == 1


def test_a_localization_costs_one_claim_and_one_record_and_releases_its_publications(rt: Runtime) -> None:
    # Given a submitted item in two locales for two accounts
    sub = submit(item_data(locales=["en-US", "en-GB"], channels=["a", "b"]), runtime=rt, ignore_schedule=True)
    rt.ledger.mark_localizations_requested(sub.item_id, sub.revision)
    rt.ledger.item_content(sub.item_id, sub.revision)  # the process has parsed it (intake did, in a worker)
    # When one locale is localized
    with statements(rt) as seen:
        do_localize(rt, sub.item_id, sub.revision, "en-GB")
    # Then it is done, its two publications are ready, the claim is given up, one event says so
    loc = rt.ledger.localization(sub.item_id, sub.revision, "en-GB")
    assert loc is not None and loc["state"] == "done" and loc["fields"]
    ready = {p.account: p.ready for p in rt.ledger.publications(item_id=sub.item_id, locale="en-GB")}
    assert ready == {"a": True, "b": True}
    assert rt.ledger.publications(item_id=sub.item_id, locale="en-US")[0].ready is False
    assert [e["kind"] for e in rt.ledger.events(item_id=sub.item_id)].count("localized") == 1
    assert rt.ledger.kv_get("localize-claim", f"{sub.item_id}/1/en-GB") is None
    # And on PostgreSQL it took two statements
    if rt.ledger.dialect == "postgresql":
        assert len(seen) == 2, seen


def test_a_localization_held_by_another_owner_is_left_to_it_until_its_lease_ends(rt: Runtime,
                                                                              clock: ManualClock) -> None:
    # Given a localization whose claim another message holds for a minute
    sub = submit(item_data(locales=["en-US"], channels=["a"]), runtime=rt, ignore_schedule=True)
    assert rt.ledger.claim_localization(sub.item_id, 1, "en-US", worker="message:other", lease=timedelta(minutes=1))
    # When this message runs within the lease / Then it leaves the localization alone
    do_localize(rt, sub.item_id, 1, "en-US", claim_owner="message:this")
    loc = rt.ledger.localization(sub.item_id, 1, "en-US")
    assert loc is not None and loc["state"] == "pending"
    # When it runs again after the lease / Then it takes the claim, localizes and gives the claim up
    clock.t = T0 + timedelta(minutes=2)
    do_localize(rt, sub.item_id, 1, "en-US", claim_owner="message:this")
    loc = rt.ledger.localization(sub.item_id, 1, "en-US")
    assert loc is not None and loc["state"] == "done"
    assert rt.ledger.kv_get("localize-claim", f"{sub.item_id}/1/en-US") is None


def test_a_localization_done_or_of_a_cancelled_item_is_not_claimed_again(rt: Runtime) -> None:
    # Given one item localized, and another cancelled before its localization ran
    done = submit(item_data(id="done", locales=["en-US"], channels=["a"]), runtime=rt, ignore_schedule=True)
    do_localize(rt, done.item_id, 1, "en-US")
    gone = submit(item_data(id="gone", locales=["en-US"], channels=["a"]), runtime=rt, ignore_schedule=True)
    rt.ledger.cancel_item("gone", actor="t")
    events_before = len(rt.ledger.events())
    # When their localize messages come (again) / Then nothing is claimed, recorded or changed
    do_localize(rt, done.item_id, 1, "en-US")
    do_localize(rt, gone.item_id, 1, "en-US")
    assert len(rt.ledger.events()) == events_before
    for key in ("done/1/en-US", "gone/1/en-US"):
        assert rt.ledger.kv_get("localize-claim", key) is None
    gone_loc = rt.ledger.localization("gone", 1, "en-US")
    assert gone_loc is not None and gone_loc["state"] == "pending"


def test_the_dispatcher_takes_due_ready_rows_of_unheld_accounts_with_one_event_each(rt: Runtime) -> None:
    # Given four localized publications (two accounts), one account then held, one row not yet due
    pids = localized(rt, locales=["en-US", "en-GB"], channels=["a", "b"])
    rows = {p.id: p for p in rt.ledger.publications(item_id="item-1")}
    rt.ledger.set_account_status("b", "disabled", "410 Gone", actor="t")
    late = next(pid for pid in pids if rows[pid].account == "a")
    rt.ledger.transition(late, S.SCHEDULED, expect=[S.SCHEDULED], actor="t", scheduled_for=T0 + timedelta(hours=1))
    # When the dispatcher takes what is due
    with statements(rt) as seen:
        due = rt.ledger.take_due(horizon=timedelta(seconds=5), limit=10, actor="dispatcher:t")
    # Then only the due row of the unheld account is enqueued, with its event, oldest first
    expected = [pid for pid in pids if rows[pid].account == "a" and pid != late]
    assert [p.id for p in due] == expected and all(p.state == "enqueued" for p in due)
    for p in due:
        last = rt.ledger.events(publication_id=p.id)[-1]
        assert (last["kind"], last["from_state"], last["to_state"], last["actor"]) == (
            "enqueued", "scheduled", "enqueued", "dispatcher:t")
    assert rt.ledger.take_due(horizon=timedelta(seconds=5), limit=10, actor="t") == []
    if rt.ledger.dialect == "postgresql":
        assert len(seen) == 1, seen


def test_the_dispatcher_requests_pending_localizations_once_until_stale(rt: Runtime, clock: ManualClock) -> None:
    # Given an item whose two localizations were never requested
    submit(item_data(locales=["en-US", "en-GB"], channels=["a"]), runtime=rt, ignore_schedule=True)
    # When the dispatcher asks twice, then again after they went stale
    first = rt.ledger.localizations_to_request(stale_after=timedelta(minutes=2), limit=10)
    again = rt.ledger.localizations_to_request(stale_after=timedelta(minutes=2), limit=10)
    clock.t = T0 + timedelta(minutes=3)
    stale = rt.ledger.localizations_to_request(stale_after=timedelta(minutes=2), limit=1)
    # Then each is requested once, and again only once stale, within the limit
    assert sorted(first) == [("item-1", 1, "en-GB"), ("item-1", 1, "en-US")]
    assert again == [] and len(stale) == 1 and stale[0] in first


def test_intake_requests_the_localizations_of_an_active_item_only(rt: Runtime, clock: ManualClock) -> None:
    # Given an active item in two locales, and a cancelled one
    live = submit(item_data(id="live", locales=["en-US", "en-GB"], channels=["a"]), runtime=rt, ignore_schedule=True)
    gone = submit(item_data(id="gone", locales=["en-US"], channels=["a"]), runtime=rt, ignore_schedule=True)
    rt.ledger.cancel_item("gone", actor="t")
    queue = rt.broker.queues["syndicate.localize"]  # type: ignore[attr-defined]
    # When the intake step runs for each
    with statements(rt) as seen:
        requested = do_intake(rt, live.item_id, live.revision)
    skipped = do_intake(rt, gone.item_id, gone.revision)
    # Then the active item's localizations are requested and one localize message sent for each
    assert requested == ["en-GB", "en-US"] and skipped == []
    assert queue.qsize() == 2
    pending = rt.ledger.localizations_to_request(stale_after=timedelta(minutes=5), limit=10)
    assert [key for key in pending if key[0] == "live"] == []  # marked requested
    # And a second intake message within the freshness window requests nothing again
    assert do_intake(rt, live.item_id, live.revision) == [] and queue.qsize() == 2
    if rt.ledger.dialect == "postgresql":
        assert len(seen) == 1, seen


def test_the_dispatcher_sweeps_only_when_a_probe_finds_work_and_then_does_it(rt: Runtime, clock: ManualClock) -> None:
    # Given one publication enqueued and one claimed, then nothing for a long time
    pids = localized(rt, locales=["en-US"], channels=["a", "b"])
    rt.ledger.take_due(horizon=timedelta(seconds=5), limit=10, actor="t")
    claimed = rt.ledger.claim(pids[1], worker="w", lease=timedelta(minutes=1))
    assert claimed is not None
    dispatcher = Dispatcher(rt, name="dispatcher:t")
    # When the dispatcher ticks at once / Then there is nothing to sweep, in three statements on PostgreSQL
    with statements(rt) as seen:
        assert dispatcher.tick() == TickReport()
    if rt.ledger.dialect == "postgresql":
        assert len(seen) == 3, seen
    # When it ticks after the claim's lease and the resend delay passed
    clock.t = T0 + rt.timing.resend_after + timedelta(minutes=2)
    report = dispatcher.tick()
    # Then the enqueued row is sent again and the claimed one is in doubt, to be reconciled
    assert (report.re_enqueued, report.expired) == (1, 1)
    assert [k for k in kinds(rt, pids[0]) if k == "re-enqueued"] == ["re-enqueued"]
    assert rt.ledger.publication(pids[1]).state == "in_doubt"  # type: ignore[union-attr]
    queues = rt.broker.queues  # type: ignore[attr-defined]
    assert queues["syndicate.reconcile"].qsize() == 1


def test_the_dispatcher_takes_due_rows_as_ids_and_due_times_with_their_events(rt: Runtime) -> None:
    # Given two localized publications, due now
    pids = localized(rt, locales=["en-US"], channels=["a", "b"])
    # When the dispatcher takes them as (id, due time)
    due = rt.ledger.take_due_times(horizon=timedelta(seconds=5), limit=10, actor="dispatcher:t")
    # Then both come back, oldest first, enqueued, each with its event; a second call finds none
    assert due == [(pid, T0) for pid in sorted(pids)]
    for pid in pids:
        assert rt.ledger.publication(pid).state == "enqueued"  # type: ignore[union-attr]
        assert kinds(rt, pid)[-1] == "enqueued"
    assert rt.ledger.take_due_times(horizon=timedelta(seconds=5), limit=10, actor="t") == []


@pytest.mark.parametrize("policy, outcome, kind", [("keep", "skipped", "revision-kept"), ("update", "published", None)])
def test_a_revision_of_a_live_post_follows_its_accounts_policy_not_the_one_statement_claim(
        config_dir: Callable[..., Path], ledger_url: str, outbox: Path, clock: ManualClock,
        policy: str, outcome: str, kind: str | None) -> None:
    # Given revision 1 published on a sandbox account whose revision policy is `policy`
    accounts = {"a": {"adapter": "sandbox", "on_revision": policy, "options": {}}}
    cfg = config_dir(accounts=accounts, routes=[simple_route("r", ["en-US"], ["a"])])
    with Runtime.create(config=cfg, database_url=ledger_url, redis_url="", clock=clock) as rt:
        first = enqueued(rt, revision=1, title="First title")
        assert do_publish(rt, first) == "published"
        # When revision 2, with a new title, comes due and its message is processed
        localized(rt, locales=["en-US"], channels=["a"], revision=2, title="Second title")
        [second] = rt.ledger.take_due(horizon=timedelta(seconds=5), limit=10, actor="t")
        assert do_publish(rt, second.id) == outcome
        # Then the policy decided it on either ledger: kept without a call, or updated in place
        row, old = rt.ledger.publication(second.id), rt.ledger.publication(first)
        assert row is not None and old is not None
        if kind is not None:
            assert kinds(rt, second.id)[-1] == kind and "claimed" not in kinds(rt, second.id)
        else:
            assert row.remote_id == old.remote_id and row.permalink == old.permalink
        assert len(list(outbox.rglob("*.txt"))) == 1


def test_a_delete_whose_message_may_be_lost_is_sent_again_by_the_dispatcher(rt: Runtime, clock: ManualClock) -> None:
    from syndicate.intake.unpublish import unpublish

    # Given a published post whose delete was asked for (its message on the publish queue)
    pid = enqueued(rt)
    assert do_publish(rt, pid) == "published"
    assert len(unpublish("item-1", runtime=rt, actor="t").deleting) == 1
    queue = rt.broker.queues["syndicate.publish"]  # type: ignore[attr-defined]
    sent = queue.qsize()
    dispatcher = Dispatcher(rt, name="dispatcher:t")
    # When the dispatcher ticks at once / Then the delete is not sent again
    dispatcher.tick()
    assert queue.qsize() == sent
    # When it ticks after the resend delay passed / Then the delete is sent again, on either ledger
    clock.t = T0 + rt.timing.resend_after + timedelta(minutes=2)
    dispatcher.tick()
    assert queue.qsize() == sent + 1
