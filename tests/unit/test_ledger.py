"""The ledger: allowed transitions only, one event per change, idempotent submission, claims."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from syndicate.ledger import Ledger, NewPublication
from syndicate.model.item import parse_item
from syndicate.model.states import ALLOWED, PublicationState
from tests.helpers import ManualClock, item_data

S = PublicationState
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def plan(locales: list[str], when: datetime = T0) -> list[NewPublication]:
    return [NewPublication(locale=loc, account="acc", slot=0, region="r", channel="sandbox", scheduled_for=when,
                           tagged_url=f"https://ex.com/?utm_content={loc}", utm={"utm_source": "sandbox"})
            for loc in locales]


@pytest.fixture
def ledger(ledger_url: str) -> Ledger:
    led = Ledger(ledger_url, clock=ManualClock(T0))
    led.migrate()
    return led


def test_resubmitting_the_same_revision_returns_the_existing_plan(ledger: Ledger) -> None:
    item = parse_item(item_data())
    first = ledger.submit(item, plan(["en-US", "en-GB"]), actor="t")
    again = ledger.submit(item, plan(["en-US", "en-GB", "fr-FR"]), actor="t")
    assert first.status == "created" and again.status == "unchanged"
    assert [p.id for p in again.publications] == [p.id for p in first.publications]
    assert len(ledger.publications(item_id="item-1")) == 2


def test_same_revision_with_other_content_is_refused(ledger: Ledger) -> None:
    ledger.submit(parse_item(item_data()), plan(["en-US"]), actor="t")
    with pytest.raises(Exception, match="already submitted with different content"):
        ledger.submit(parse_item(item_data(title="Edited")), plan(["en-US"]), actor="t")


def test_a_higher_revision_supersedes_open_rows_and_keeps_published_ones(ledger: Ledger) -> None:
    r1 = ledger.submit(parse_item(item_data()), plan(["en-US", "en-GB"]), actor="t")
    done, waiting = r1.publications
    ledger.transition(done.id, S.ENQUEUED, expect=[S.SCHEDULED], actor="t")
    ledger.transition(done.id, S.CALLING, expect=[S.ENQUEUED], actor="t")
    ledger.transition(done.id, S.PUBLISHED, expect=[S.CALLING], actor="t", permalink="https://p/1")
    r2 = ledger.submit(parse_item(item_data(revision=2, title="Edited")), plan(["en-US", "en-GB"]), actor="t")
    assert r2.superseded == [waiting.id]
    assert ledger.publication(done.id).state == "published"  # type: ignore[union-attr]
    assert ledger.publication(waiting.id).state == "cancelled"  # type: ignore[union-attr]
    assert ledger.item("item-1", 1).state == "superseded"  # type: ignore[union-attr]
    # an identical old revision again is a no-op that revives nothing
    assert ledger.submit(parse_item(item_data()), plan(["en-US"]), actor="t").status == "unchanged"
    assert ledger.publication(waiting.id).state == "cancelled"  # type: ignore[union-attr]


def test_a_revision_lower_than_the_newest_stored_is_refused(ledger: Ledger) -> None:
    ledger.submit(parse_item(item_data(revision=3)), plan(["en-US"]), actor="t")
    with pytest.raises(Exception, match="revision 2 is older than revision 3"):
        ledger.submit(parse_item(item_data(revision=2, title="Other")), plan(["en-US"]), actor="t")


def test_transitions_outside_the_state_machine_are_refused(ledger: Ledger) -> None:
    pub = ledger.submit(parse_item(item_data()), plan(["en-US"]), actor="t").publications[0]
    with pytest.raises(ValueError, match="illegal transition to published"):
        ledger.transition(pub.id, S.PUBLISHED, expect=[S.SCHEDULED], actor="t")
    assert all(S.PUBLISHED not in ALLOWED[s] for s in ALLOWED if s in (S.PUBLISHED,))


def test_a_transition_from_the_wrong_state_changes_nothing(ledger: Ledger) -> None:
    pub = ledger.submit(parse_item(item_data()), plan(["en-US"]), actor="t").publications[0]
    assert ledger.transition(pub.id, S.CALLING, expect=[S.ENQUEUED], actor="t") is None
    assert ledger.publication(pub.id).state == "scheduled"  # type: ignore[union-attr]


def test_a_transition_from_one_of_several_states_and_from_none(ledger: Ledger) -> None:
    pub = ledger.submit(parse_item(item_data()), plan(["en-US"]), actor="t").publications[0]
    # Given a scheduled row / When moved from no state at all / Then nothing changes
    assert ledger.transition(pub.id, S.CANCELLED, expect=[], actor="t") is None
    assert ledger.publication(pub.id).state == "scheduled"  # type: ignore[union-attr]
    # When moved from either of two states, its own among them / Then it moves
    moved = ledger.transition(pub.id, S.CANCELLED, expect=[S.RETRYING, S.SCHEDULED], actor="t")
    assert moved is not None and moved.state == "cancelled"


def test_every_transition_writes_one_event(ledger: Ledger) -> None:
    pub = ledger.submit(parse_item(item_data()), plan(["en-US"]), actor="t").publications[0]
    ledger.transition(pub.id, S.ENQUEUED, expect=[S.SCHEDULED], actor="w1")
    ledger.transition(pub.id, S.CALLING, expect=[S.ENQUEUED], actor="w1")
    ledger.transition(pub.id, S.RETRYING, expect=[S.CALLING], actor="w1", error="HTTP 503 secret=abcdef123")
    evs = [(e["kind"], e["from_state"], e["to_state"]) for e in ledger.events(publication_id=pub.id)]
    assert evs == [("planned", None, "scheduled"), ("transition", "scheduled", "enqueued"),
                   ("transition", "enqueued", "calling"), ("transition", "calling", "retrying")]
    last = ledger.events(publication_id=pub.id)[-1]
    assert last["error"] == "HTTP 503 secret=[REDACTED]"
    assert ledger.publication(pub.id).last_error == "HTTP 503 secret=[REDACTED]"  # type: ignore[union-attr]


def test_claim_requires_a_due_enqueued_row(ledger: Ledger) -> None:
    later = T0 + timedelta(hours=1)
    pub = ledger.submit(parse_item(item_data()), plan(["en-US"], when=later), actor="t").publications[0]
    ledger.transition(pub.id, S.ENQUEUED, expect=[S.SCHEDULED], actor="t")
    assert ledger.claim(pub.id, worker="w", lease=timedelta(minutes=1)) is None  # not due yet
    ledger.clock.t = later  # type: ignore[attr-defined]
    claimed = ledger.claim(pub.id, worker="w", lease=timedelta(minutes=1))
    assert claimed is not None and claimed.state == "calling" and claimed.attempts == 1
    assert claimed.lease_until == later + timedelta(minutes=1)
    assert ledger.claim(pub.id, worker="w2", lease=timedelta(minutes=1)) is None


def test_racing_claims_let_exactly_one_worker_through(ledger: Ledger) -> None:
    # Given 20 enqueued publications and 8 threads that all try to claim every one of them
    pubs = ledger.submit(parse_item(item_data()), plan([f"en-{c}" for c in
                                                        ["US", "GB", "CA", "AU", "NZ", "IE", "IN", "ZA", "SG",
                                                         "PH", "NG", "KE", "MT", "HK", "JM", "BZ", "BW",
                                                         "GH", "PK", "MY"]]), actor="t").publications
    for p in pubs:
        ledger.transition(p.id, S.ENQUEUED, expect=[S.SCHEDULED], actor="t")
    wins: list[tuple[int, str]] = []
    lock = threading.Lock()
    barrier = threading.Barrier(8)

    def worker(name: str) -> None:
        barrier.wait()
        for p in pubs:
            if ledger.claim(p.id, worker=name, lease=timedelta(minutes=1)) is not None:
                with lock:
                    wins.append((p.id, name))

    threads = [threading.Thread(target=worker, args=(f"w{i}",)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # Then each publication was claimed exactly once
    assert sorted(pid for pid, _ in wins) == sorted(p.id for p in pubs)


def test_take_due_holds_accounts_that_need_credentials(ledger: Ledger) -> None:
    pub = ledger.submit(parse_item(item_data()), plan(["en-US"]), actor="t").publications[0]
    with ledger.begin() as conn:
        from sqlalchemy import update

        from syndicate.ledger.schema import publications
        conn.execute(update(publications).values(ready=True))
    ledger.set_account_status("acc", "needs_credentials", "token expired", actor="t")
    assert ledger.take_due(horizon=timedelta(0), limit=10, actor="d") == []
    ledger.set_account_status("acc", "ok", None, actor="t")
    assert [p.id for p in ledger.take_due(horizon=timedelta(0), limit=10, actor="d")] == [pub.id]


def test_expired_claims_become_in_doubt(ledger: Ledger) -> None:
    pub = ledger.submit(parse_item(item_data()), plan(["en-US"]), actor="t").publications[0]
    ledger.transition(pub.id, S.ENQUEUED, expect=[S.SCHEDULED], actor="t")
    ledger.claim(pub.id, worker="w", lease=timedelta(seconds=30))
    assert ledger.expired_claims(limit=10, actor="d") == []
    ledger.clock.t = T0 + timedelta(seconds=31)  # type: ignore[attr-defined]
    [doubt] = ledger.expired_claims(limit=10, actor="d")
    assert doubt.state == "in_doubt" and "claim expired" in (doubt.last_error or "")


def test_kv_compare_and_set(ledger: Ledger) -> None:
    assert ledger.kv_put("ns", "k", {"v": 1}, expect_version=None)
    assert not ledger.kv_put("ns", "k", {"v": 2}, expect_version=None)
    assert ledger.kv_get("ns", "k") == ({"v": 1}, 1)
    assert not ledger.kv_put("ns", "k", {"v": 3}, expect_version=5)
    assert ledger.kv_put("ns", "k", {"v": 3}, expect_version=1)
    assert ledger.kv_get("ns", "k") == ({"v": 3}, 2)
