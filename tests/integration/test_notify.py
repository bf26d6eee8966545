"""Lifecycle webhooks to producers: written in the transaction of each change, delivered signed
(Standard Webhooks) to a loopback receiver that verifies them, retried with a stable webhook-id."""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from syndicate import Runtime, submit
from syndicate.channels.contract import AdapterRegistry
from syndicate.config.loading import load_config
from syndicate.localization.step import do_localize
from syndicate.model.states import PublicationState
from syndicate.operations.notify import Notifier, outbox_rows, retry_failed
from syndicate.publishing.steps import do_publish
from syndicate.worker.host import run_until_settled
from tests.fakes.base import Fault, Response
from tests.fakes.board import FakeBoard
from tests.fakes.webhook_receiver import FakeWebhookReceiver
from tests.helpers import ManualClock, item_data, sandbox_accounts, simple_route
from tests.support.board_adapter import BoardAdapter

SECRET = "whsec_" + base64.b64encode(b"producer-webhook-secret-32-bytes").decode()


@pytest.fixture
def receiver() -> Iterator[FakeWebhookReceiver]:
    with FakeWebhookReceiver(SECRET) as r:
        yield r


@pytest.fixture
def board() -> Iterator[FakeBoard]:
    with FakeBoard() as b:
        yield b


def notify_settings(url: str, **extra: Any) -> dict[str, Any]:
    return {"notifications": {"webhooks": {"cms": {"url": url, "secret": "${CMS_WEBHOOK_SECRET}", "timeout_s": 5}},
                              "min_backoff": "10s", "max_backoff": "1h", **extra}}


def runtime(config_dir: Callable[..., Path], ledger_url: str, settings: dict[str, Any] | None,
            clock: ManualClock | None = None, board: FakeBoard | None = None) -> Runtime:
    accounts = sandbox_accounts("a1", "a2")
    if board is not None:
        accounts = {"b1": {"adapter": "board", "base_url": board.url}}
    cfg_dir = config_dir(accounts=accounts, routes=[simple_route("na", ["en-US"], list(accounts))], settings=settings)
    registry = AdapterRegistry()
    registry.register("board", BoardAdapter)
    cfg = load_config(cfg_dir, registry=registry)
    return Runtime.create(config=cfg, database_url=ledger_url, redis_url="", clock=clock)


def test_every_state_change_reaches_the_producer_signed_with_its_permalink(
    config_dir: Callable[..., Path], ledger_url: str, outbox: Path, receiver: FakeWebhookReceiver,
    monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given producer webhooks configured, and an item for two accounts
    monkeypatch.setenv("CMS_WEBHOOK_SECRET", SECRET)
    with runtime(config_dir, ledger_url, notify_settings(receiver.endpoint, poll_interval="1s")) as rt:
        submit(item_data(), runtime=rt, ignore_schedule=True)
        # When the embedded worker publishes everything (its notifier loop delivers as it goes)
        pubs = run_until_settled(rt, lambda: rt.ledger.publications(item_id="item-1"), threads=2,
                                 timeout=timedelta(seconds=60))
        Notifier.for_runtime(rt).deliver_due()  # type: ignore[union-attr]  # whatever the loop had not sent yet
        rows = outbox_rows(rt.ledger)
    # Then the receiver verified a signature on every message and got each event once
    assert receiver.rejected == []
    events = sorted((d.payload["data"]["account"], d.payload["type"]) for d in receiver.deliveries)
    assert events == [("a1", "publication.published"), ("a1", "publication.scheduled"),
                      ("a2", "publication.published"), ("a2", "publication.scheduled")]
    # And the published events carry the permalink recorded in the ledger
    by_id = {p.id: p for p in pubs}
    for d in receiver.deliveries:
        data = d.payload["data"]
        if d.payload["type"] == "publication.published":
            assert data["permalink"] == by_id[data["publication_id"]].permalink
            assert data["previous_state"] == "calling" and data["error"] is None
    # And the ledger records each row delivered on the first attempt, under the id the receiver saw
    assert {(r["state"], r["attempts"], r["last_status"]) for r in rows} == {("delivered", 1, 200)}
    assert sorted(r["webhook_id"] for r in rows) == sorted(d.webhook_id for d in receiver.deliveries)


def test_a_failed_publication_is_announced_with_the_platform_error(
    config_dir: Callable[..., Path], sqlite_url: str, receiver: FakeWebhookReceiver, board: FakeBoard,
    monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a board that refuses the next post, and webhooks for failures only
    monkeypatch.setenv("CMS_WEBHOOK_SECRET", SECRET)
    settings = notify_settings(receiver.endpoint)
    settings["notifications"]["webhooks"]["cms"]["events"] = ["failed"]
    with runtime(config_dir, sqlite_url, settings, board=board) as rt:
        board.fail_next(Fault("status", method="POST", path="/posts", status=400, body={"detail": "text too long"}))
        submit(item_data(), runtime=rt, ignore_schedule=True)
        do_localize(rt, "item-1", 1, "en-US")
        [pub] = rt.ledger.take_due(horizon=timedelta(seconds=5), limit=10, actor="test")
        # When the publication is attempted and fails, and the notifier runs
        assert do_publish(rt, pub.id) == "failed"
        done = Notifier.for_runtime(rt).deliver_due()  # type: ignore[union-attr]
    # Then exactly one message went out: publication.failed with the platform's words
    assert done == {"delivered": 1}
    [d] = receiver.deliveries
    assert d.payload["type"] == "publication.failed"
    assert "text too long" in d.payload["data"]["error"] and "HTTP 400" in d.payload["data"]["error"]


def test_a_refused_delivery_is_retried_after_backoff_with_the_same_webhook_id(
    config_dir: Callable[..., Path], sqlite_url: str, outbox: Path, receiver: FakeWebhookReceiver,
    monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given one pending notification and a receiver that answers 503 once
    monkeypatch.setenv("CMS_WEBHOOK_SECRET", SECRET)
    clock = ManualClock()
    with runtime(config_dir, sqlite_url, notify_settings(receiver.endpoint), clock=clock) as rt:
        submit(item_data(locales=["en-US"]), runtime=rt, ignore_schedule=True)
        rt.ledger.cancel_item("item-1", actor="test", account="a2")  # + one publication.cancelled
        notifier = Notifier.for_runtime(rt)
        assert notifier is not None
        receiver.fail_next(Fault("status", method="POST", path="/hooks", status=503, times=1))
        # When the notifier runs now, again before the backoff ends, and after it
        first = notifier.deliver_due()
        early = notifier.deliver_due()
        after_first = {r["id"]: r for r in outbox_rows(rt.ledger)}
        clock.advance(timedelta(seconds=15))
        later = notifier.deliver_due()
        rows = outbox_rows(rt.ledger)
    # Then the 503 was recorded on its row and retried only after the backoff
    assert first == {"retry": 1, "delivered": 2}
    assert early == {}
    assert later == {"delivered": 1}
    retried = [r for r in after_first.values() if r["state"] == "pending"]
    assert len(retried) == 1 and retried[0]["last_status"] == 503 and "HTTP 503" in retried[0]["last_error"]
    # And both attempts carried the same webhook-id, each validly signed
    ids = [req.header("webhook-id") for req in receiver.requests]
    assert ids.count(retried[0]["webhook_id"]) == 2
    assert receiver.rejected == []
    assert {(r["state"], r["attempts"]) for r in rows if r["id"] == retried[0]["id"]} == {("delivered", 2)}


def test_a_lost_answer_leads_to_a_redelivery_the_receiver_dedupes(
    config_dir: Callable[..., Path], sqlite_url: str, outbox: Path, receiver: FakeWebhookReceiver,
    monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a receiver that processes the first message but whose answer is lost (connection closed)
    monkeypatch.setenv("CMS_WEBHOOK_SECRET", SECRET)
    clock = ManualClock()
    settings = notify_settings(receiver.endpoint)
    settings["notifications"]["webhooks"]["cms"]["events"] = ["scheduled"]
    with runtime(config_dir, sqlite_url, settings, clock=clock) as rt:
        submit(item_data(locales=["en-US"]), runtime=rt, ignore_schedule=True)
        notifier = Notifier.for_runtime(rt)
        assert notifier is not None
        receiver.fail_next(Fault("close", when="after", method="POST", path="/hooks"))
        # When the notifier sends, backs off, and sends again
        first = notifier.deliver_due()
        clock.advance(timedelta(minutes=5))
        second = notifier.deliver_due()
    # Then the sender retried the ones it could not confirm, and the receiver kept one copy of each
    assert first.get("retry") == 1 and second == {"delivered": 1}
    assert len(receiver.duplicates) == 1
    assert len({d.webhook_id for d in receiver.deliveries}) == len(receiver.deliveries) == 2


def test_410_fails_at_once_and_an_endpoint_that_keeps_failing_is_given_up(
    config_dir: Callable[..., Path], sqlite_url: str, outbox: Path, receiver: FakeWebhookReceiver,
    monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given two attempts at most, one message to a gone endpoint and one to an endpoint answering 500
    monkeypatch.setenv("CMS_WEBHOOK_SECRET", SECRET)
    clock = ManualClock()
    settings = notify_settings(receiver.endpoint, max_attempts=2)
    settings["notifications"]["webhooks"]["cms"]["events"] = ["scheduled"]
    settings["notifications"]["webhooks"]["ops"] = {"url": receiver.url + "/down", "secret": "${CMS_WEBHOOK_SECRET}",
                                                    "events": ["scheduled"]}
    receiver.route("POST", "/down", lambda _r: Response(500, {"error": "down"}))
    receiver.gone()
    with runtime(config_dir, sqlite_url, settings, clock=clock) as rt:
        submit(item_data(locales=["en-US"]), runtime=rt, ignore_schedule=True)
        rt.ledger.cancel_item("item-1", actor="test", account="a2")
        notifier = Notifier.for_runtime(rt)
        assert notifier is not None
        # When the notifier runs, and again after the backoff
        first = notifier.deliver_due()
        clock.advance(timedelta(minutes=5))
        second = notifier.deliver_due()
        rows = outbox_rows(rt.ledger)
        # And an operator puts the failed ones back after fixing the endpoint
        again = retry_failed(rt.ledger, endpoint="ops")
    # Then 410 failed the cms rows at once, and the ops rows failed after their second attempt
    assert first == {"failed": 2, "retry": 2} and second == {"failed": 2}
    states = {(r["endpoint"], r["state"], r["attempts"], r["last_status"]) for r in rows}
    assert states == {("cms", "failed", 1, 410), ("ops", "failed", 2, 500)}
    assert all("gave up" in r["last_error"] or "410" in r["last_error"] for r in rows)
    assert again == 2


def test_the_outbox_row_commits_or_rolls_back_with_its_state_change(
    config_dir: Callable[..., Path], ledger_url: str, outbox: Path, receiver: FakeWebhookReceiver,
    monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a planned publication (its publication.scheduled row is in the outbox)
    monkeypatch.setenv("CMS_WEBHOOK_SECRET", SECRET)
    with runtime(config_dir, ledger_url, notify_settings(receiver.endpoint)) as rt:
        sub = submit(item_data(locales=["en-US"]), runtime=rt, ignore_schedule=True)
        pid = sub.publications[0].id
        before = len(outbox_rows(rt.ledger, publication_id=pid))
        # When a cancellation's transaction fails after the change was made
        with pytest.raises(RuntimeError), rt.ledger.begin() as conn:
            assert rt.ledger._transition(conn, pid, PublicationState.CANCELLED, (PublicationState.SCHEDULED,),
                                         actor="test", kind="cancelled") is not None
            raise RuntimeError("the transaction fails")
        rolled_back = len(outbox_rows(rt.ledger, publication_id=pid))
        # And then succeeds
        rt.ledger.transition(pid, PublicationState.CANCELLED, expect=(PublicationState.SCHEDULED,), actor="test")
        committed = [r["event_type"] for r in outbox_rows(rt.ledger, publication_id=pid)]
    # Then the rolled-back change left no notification, and the committed one left exactly one
    assert before == 1 and rolled_back == 1
    assert committed == ["publication.scheduled", "publication.cancelled"]


def test_without_producer_webhooks_nothing_is_written_to_the_outbox(
    config_dir: Callable[..., Path], sqlite_url: str, outbox: Path
) -> None:
    # Given no notifications in settings.yaml
    with runtime(config_dir, sqlite_url, None) as rt:
        # When an item is planned and cancelled
        submit(item_data(), runtime=rt, ignore_schedule=True)
        rt.ledger.cancel_item("item-1", actor="test")
        rows = outbox_rows(rt.ledger)
        notifier = Notifier.for_runtime(rt)
    # Then the outbox stays empty and no notifier runs
    assert rows == [] and notifier is None


def test_a_webhook_secret_that_is_unset_or_not_a_signing_key_stops_start_up(
    config_dir: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    from syndicate.errors import ConfigError

    # Given settings naming secrets that are unset, or set to something that is not a key
    monkeypatch.delenv("CMS_WEBHOOK_SECRET", raising=False)
    monkeypatch.setenv("SHORT_SECRET", "abc")
    cfg = config_dir(settings={"notifications": {"webhooks": {
        "cms": {"url": "https://cms.example/hooks", "secret": "${CMS_WEBHOOK_SECRET}"},
        "crm": {"url": "https://crm.example/hooks", "secret": "${SHORT_SECRET}"}}}})
    # When the config is loaded with secret checks (as the worker does)
    with pytest.raises(ConfigError) as err:
        load_config(cfg)
    # Then both are named, with file, line and field
    text = str(err.value)
    assert "notifications.webhooks.cms.secret" in text and "CMS_WEBHOOK_SECRET is not set" in text
    assert "notifications.webhooks.crm.secret" in text and "signing secret" in text
    assert "settings.yaml:" in text
