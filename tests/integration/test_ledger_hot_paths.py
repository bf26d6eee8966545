"""The ledger's per-publication statements, built once with bound parameters, and the localization
writes, in fewer statements and transactions, read and write what they did before, on SQLite and
PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from syndicate.ledger import Ledger, NewPublication
from syndicate.model.item import parse_item
from syndicate.model.states import PublicationState
from tests.helpers import ManualClock, item_data

S = PublicationState
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def plan(locales: list[str], accounts: tuple[str, ...] = ("acc",)) -> list[NewPublication]:
    return [NewPublication(locale=loc, account=acc, slot=0, region="r", channel="sandbox", scheduled_for=T0,
                           tagged_url=f"https://ex.com/?utm_content={loc}", utm={"utm_source": "sandbox"})
            for loc in locales for acc in accounts]


@pytest.fixture
def ledger(ledger_url: str) -> Ledger:
    led = Ledger(ledger_url, clock=ManualClock(T0))
    led.migrate()
    return led


def test_a_transition_event_keeps_every_field_redacts_the_error_and_bounds_the_actor(ledger: Ledger) -> None:
    # Given a planned publication
    pub = ledger.submit(parse_item(item_data()), plan(["en-US"]), actor="t").publications[0]
    # When it moves with an error, a detail and a very long actor name
    ledger.transition(pub.id, S.ENQUEUED, expect=[S.SCHEDULED], actor="w" * 300, kind="enqueued-test",
                      error="HTTP 401 token=abcdef123456", detail={"why": "test", "n": 1})
    # Then the event row holds each of them as given, the error redacted and the actor cut to 200
    event = ledger.events(publication_id=pub.id)[-1]
    assert (event["kind"], event["from_state"], event["to_state"]) == ("enqueued-test", "scheduled", "enqueued")
    assert (event["item_id"], event["revision"], event["publication_id"]) == ("item-1", 1, pub.id)
    assert event["actor"] == "w" * 200
    assert event["error"] == "HTTP 401 token=[REDACTED]"
    assert event["detail"] == {"why": "test", "n": 1}
    assert event["at"] == T0


def test_an_item_is_read_by_revision_or_newest_and_its_expiry_without_parsing(ledger: Ledger) -> None:
    # Given two revisions of an item, the second with an expiry
    ledger.submit(parse_item(item_data()), plan(["en-US"]), actor="t")
    ledger.submit(parse_item(item_data(revision=2, title="Second", expires_at="2026-04-01T00:00:00Z")),
                  plan(["en-US"]), actor="t")
    # When each is read / Then the revision asked for, or the newest, comes back
    first, newest = ledger.item("item-1", 1), ledger.item("item-1")
    assert first is not None and first.item.title == "A title" and first.state == "superseded"
    assert newest is not None and newest.item.revision == 2 and newest.state == "active"
    assert ledger.item("item-1", 3) is None and ledger.item("other") is None
    assert ledger.item_expires_at("item-1", 1) is None
    assert ledger.item_expires_at("item-1", 2) == datetime(2026, 4, 1, tzinfo=UTC)


def test_an_item_revision_is_parsed_once_while_its_state_is_read_fresh(ledger: Ledger) -> None:
    # Given an item read once (parsed and cached)
    ledger.submit(parse_item(item_data()), plan(["en-US"]), actor="t")
    first = ledger.item_content("item-1", 1)
    assert first is not None and first.title == "A title"
    # When it is read again, by content and as a stored item, after a new revision superseded it
    ledger.submit(parse_item(item_data(revision=2, title="Second")), plan(["en-US"]), actor="t")
    stored = ledger.item("item-1", 1)
    # Then the same parsed object comes back each time, while the state is the current one
    assert ledger.item_content("item-1", 1) is first
    assert stored is not None and stored.item is first and stored.state == "superseded"
    assert ledger.item_content("item-1", 2) is not None and ledger.item_content("item-1", 3) is None


def test_the_item_cache_is_bounded_by_bytes(ledger: Ledger, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a cache of about three items' worth of bytes
    import syndicate.ledger.items as items

    for n in range(6):
        ledger.submit(parse_item(item_data(id=f"item-{n}", body="x" * 2_000)), plan(["en-US"]), actor="t")
    monkeypatch.setattr(items, "CONTENT_CACHE_BYTES", 4 * 3_000)
    # When six are read
    for n in range(6):
        assert ledger.item_content(f"item-{n}", 1) is not None
    # Then only the newest few stay, within the budget
    kept = [key[0] for key in ledger._contents]
    assert 1 <= len(kept) <= 4 and kept[-1] == "item-5"
    assert ledger._contents.bytes <= 4 * 3_000


def test_a_publication_and_its_account_status_are_read_together(ledger: Ledger) -> None:
    # Given a publication on an account, read before and after the account is marked
    pub = ledger.submit(parse_item(item_data()), plan(["en-US"]), actor="t").publications[0]
    before = ledger.publication_for_publish(pub.id)
    ledger.set_account_status("acc", "disabled", "410 Gone", actor="t")
    # When it is read / Then the row comes with the account's current status
    assert before[0] == ledger.publication(pub.id) and before[1:] == ("ok", None)
    after = ledger.publication_for_publish(pub.id)
    assert after[0] is not None and after[0].id == pub.id and after[1:] == ("disabled", "410 Gone")
    assert ledger.publication_for_publish(pub.id + 1000) == (None, "ok", None)


def test_the_previous_remote_id_comes_from_an_earlier_published_revision_only(ledger: Ledger) -> None:
    # Given revision 1 published on an account, then revision 2 planned
    pub1 = ledger.submit(parse_item(item_data()), plan(["en-US"]), actor="t").publications[0]
    for to, frm in ((S.ENQUEUED, S.SCHEDULED), (S.CALLING, S.ENQUEUED)):
        ledger.transition(pub1.id, to, expect=[frm], actor="w")
    done = ledger.transition(pub1.id, S.PUBLISHED, expect=[S.CALLING], actor="w", remote_id="post-1")
    pub2 = ledger.submit(parse_item(item_data(revision=2, title="Second")), plan(["en-US", "de-DE"]),
                         actor="t").publications
    # When each asks for the post to update / Then revision 2's same locale finds it; nothing else does
    by_locale = {p.locale: p for p in pub2}
    assert done is not None and ledger.previous_remote_id(done) is None
    assert ledger.previous_remote_id(by_locale["en-US"]) == "post-1"
    assert ledger.previous_remote_id(by_locale["de-DE"]) is None


def test_the_account_status_and_the_localization_row_are_read_back(ledger: Ledger) -> None:
    # Given an item with a pending localization, and one marked account
    ledger.submit(parse_item(item_data()), plan(["de-DE"]), actor="t")
    ledger.set_account_status("acc", "needs_credentials", "token expired", actor="t")
    # When they are read / Then they are what was stored, and unknown ones are absent or ok
    assert ledger.account_status("acc") == ("needs_credentials", "token expired")
    assert ledger.account_status("never-marked") == ("ok", None)
    row = ledger.localization("item-1", 1, "de-DE")
    assert row is not None and row["state"] == "pending" and row["requested_at"] is None
    assert ledger.localization("item-1", 1, "fr-FR") is None


def test_intake_leaves_out_localizations_the_dispatcher_requested_moments_ago(ledger: Ledger) -> None:
    # Given an item with two pending localizations, one of them just requested by the dispatcher
    ledger.submit(parse_item(item_data()), plan(["de-DE", "fr-FR"]), actor="t")
    ledger.localizations_to_request(stale_after=timedelta(minutes=2), limit=1)
    # When intake asks for the ones nobody requested within two minutes
    fresh = ledger.mark_localizations_requested("item-1", 1, fresh_within=timedelta(minutes=2))
    # Then only the other one is returned; without the bound, both are (and both are marked requested)
    assert fresh == ["fr-FR"]
    assert ledger.mark_localizations_requested("item-1", 1) == ["de-DE", "fr-FR"]
    assert all(ledger.localization("item-1", 1, loc)["requested_at"] == T0  # type: ignore[index]
               for loc in ("de-DE", "fr-FR"))


def test_a_recorded_localization_readies_its_scheduled_publications_and_releases_the_claim(ledger: Ledger) -> None:
    # Given a claimed localization with two scheduled publications and one cancelled
    pubs = ledger.submit(parse_item(item_data()), plan(["de-DE"], ("a1", "a2", "a3")), actor="t").publications
    ledger.transition(pubs[2].id, S.CANCELLED, expect=[S.SCHEDULED], actor="t")
    assert ledger.claim_localization("item-1", 1, "de-DE", worker="w1", lease=timedelta(minutes=5))
    assert not ledger.claim_localization("item-1", 1, "de-DE", worker="w2", lease=timedelta(minutes=5))
    # When it is recorded with the claim released in the same transaction
    released = ledger.record_localization("item-1", 1, "de-DE", fields={"title": "Titel"},
                                          sources={"title": "human"}, engine="human", review_required=False,
                                          actor="w1", release_claim_of="w1")
    # Then the two scheduled rows are ready (the cancelled one untouched), one event, and the claim is free
    assert released == 2
    after = {p.account: p for p in ledger.publications(item_id="item-1")}
    assert [after[a].ready for a in ("a1", "a2", "a3")] == [True, True, False]
    assert [e["kind"] for e in ledger.events(item_id="item-1")].count("localized") == 1
    assert ledger.claim_localization("item-1", 1, "de-DE", worker="w2", lease=timedelta(minutes=5))


def test_a_claim_whose_lease_ran_out_can_be_taken_and_a_live_one_cannot(ledger: Ledger) -> None:
    # Given a localization claimed by w1 for a minute
    ledger.submit(parse_item(item_data()), plan(["de-DE"]), actor="t")
    assert ledger.claim_localization("item-1", 1, "de-DE", worker="w1", lease=timedelta(minutes=1))
    # When w2 tries while the lease runs, then after it ran out
    live = ledger.claim_localization("item-1", 1, "de-DE", worker="w2", lease=timedelta(minutes=1))
    ledger.clock.t = T0 + timedelta(minutes=2)  # type: ignore[attr-defined]
    expired = ledger.claim_localization("item-1", 1, "de-DE", worker="w2", lease=timedelta(minutes=1))
    # Then only the second succeeds, and the holder may renew its own claim
    assert (live, expired) == (False, True)
    assert ledger.claim_localization("item-1", 1, "de-DE", worker="w2", lease=timedelta(minutes=1))
    assert not ledger.claim_localization("item-1", 1, "de-DE", worker="w1", lease=timedelta(minutes=1))


def test_a_claim_records_the_state_it_moved_from_and_a_lost_race_writes_nothing(ledger: Ledger) -> None:
    # Given a publication that failed once and waits in retrying
    pub = ledger.submit(parse_item(item_data()), plan(["en-US"]), actor="t").publications[0]
    ledger.transition(pub.id, S.ENQUEUED, expect=[S.SCHEDULED], actor="d")
    ledger.transition(pub.id, S.CALLING, expect=[S.ENQUEUED], actor="w")
    ledger.transition(pub.id, S.RETRYING, expect=[S.CALLING], actor="w", error="HTTP 503", failures=1)
    # When two workers claim it, one after the other
    first = ledger.claim(pub.id, worker="w1", lease=timedelta(seconds=20))
    second = ledger.claim(pub.id, worker="w2", lease=timedelta(seconds=20))
    # Then the first holds it, having moved it from retrying, and the second got nothing and wrote nothing
    assert first is not None and second is None
    assert (first.state, first.claimed_by, first.attempts, first.failures) == ("calling", "w1", 1, 1)
    claims = [e for e in ledger.events(publication_id=pub.id) if e["kind"] == "claimed"]
    assert [(e["from_state"], e["to_state"], e["actor"]) for e in claims] == [("retrying", "calling", "w1")]
    assert (claims[0]["item_id"], claims[0]["revision"], claims[0]["at"]) == ("item-1", 1, T0)
    # And the whole history reads as a chain of states
    history = [(e["from_state"], e["to_state"]) for e in ledger.events(publication_id=pub.id) if e["to_state"]]
    assert history == [(None, "scheduled"), ("scheduled", "enqueued"), ("enqueued", "calling"),
                       ("calling", "retrying"), ("retrying", "calling")]
