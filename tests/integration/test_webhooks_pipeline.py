"""Partner webhooks through the real pipeline, to a receiver that verifies signatures and dedupes."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from adapters.webhooks import webhook_id_for
from syndicate import Runtime, submit
from syndicate.ledger import Publication
from syndicate.model.item import load_item_file
from syndicate.model.states import PublicationState as S
from syndicate.model.timing import Timing
from syndicate.publishing.content import publication_ref, render_publication
from syndicate.publishing.dispatcher import Dispatcher
from syndicate.publishing.steps import do_reconcile
from syndicate.worker.host import WorkerHost, run_until_settled
from tests.fakes.base import Fault, refused_url
from tests.fakes.webhook_receiver import FakeWebhookReceiver
from tests.helpers import REPO, item_data, simple_route

SECRET_BYTES = hashlib.sha256(b"partner webhook secret for tests").digest()
SECRET = "whsec_" + base64.b64encode(SECRET_BYTES).decode()
ENV = {"PARTNER_HOOK_SECRET": SECRET}
FAST = Timing(retry_min_backoff=timedelta(milliseconds=100), retry_max_backoff=timedelta(milliseconds=300))


@pytest.fixture
def receiver() -> Iterator[FakeWebhookReceiver]:
    with FakeWebhookReceiver(SECRET) as r:
        yield r


def hook_account(url: str, *, connect_timeout_s: float = 2, read_timeout_s: float = 1,
                 **options: Any) -> dict[str, Any]:
    return {"adapter": "webhooks", "base_url": url, "credentials": {"secret": "${PARTNER_HOOK_SECRET}"},
            "connect_timeout_s": connect_timeout_s, "read_timeout_s": read_timeout_s, "options": options}


@dataclass
class Setup:
    rt: Runtime

    def run(self, item_id: str | None = None) -> list[Publication]:
        """Run the worker until every due publication settles (retries not yet due count as settled)."""
        pubs: Callable[[], list[Publication]] = (
            (lambda: self.rt.ledger.publications(item_id=item_id)) if item_id else self.rt.ledger.publications)
        return run_until_settled(self.rt, pubs, threads=4, timeout=timedelta(seconds=60))

    def run_until_published(self) -> Publication:
        """Run the worker until the single publication is terminal (waiting through retries)."""
        host = WorkerHost(self.rt, threads=2)
        host.start()
        deadline = time.monotonic() + 60
        try:
            while True:
                [pub] = self.rt.ledger.publications()
                if pub.terminal or time.monotonic() > deadline:
                    return pub
                time.sleep(0.05)
        finally:
            host.stop()


@pytest.fixture
def setup(config_dir: Callable[..., Path], sqlite_url: str) -> Iterator[Callable[..., Setup]]:
    with ExitStack() as runtimes:

        def build(url: str, *, locales: tuple[str, ...] = ("en-US",), database_url: str | None = None,
                  timing: Timing | None = None, timeouts_s: tuple[float, float] = (2, 1), **options: Any) -> Setup:
            account = hook_account(url, connect_timeout_s=timeouts_s[0], read_timeout_s=timeouts_s[1], **options)
            cfg = config_dir(accounts={"partner-hook": account},
                             routes=[simple_route("partners", list(locales), ["partner-hook"],
                                                  translation={"engine": "pseudo"})])
            return Setup(runtimes.enter_context(Runtime.create(config=cfg, database_url=database_url or sqlite_url,
                                                               redis_url="", environ=ENV, timing=timing)))

        yield build


def expected_signature(webhook_id: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(SECRET_BYTES, f"{webhook_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


def test_webhooks_deliver_the_example_items_signed_with_exact_headers_and_bodies(
    setup: Callable[..., Setup], receiver: FakeWebhookReceiver, ledger_url: str
) -> None:
    # Given a partner webhook account for two locales and the example items
    s = setup(receiver.endpoint, locales=("en-US", "de-DE"), database_url=ledger_url)
    for path in sorted((REPO / "examples" / "content").glob("*.yaml")):
        submit(load_item_file(path), runtime=s.rt, ignore_schedule=True)
    # When the worker publishes everything that is due
    t0 = int(time.time())
    pubs = [p for p in s.run() if p.slot == 0]
    t1 = int(time.time())
    # Then every publication was delivered once, each request verified by the receiver
    assert len(pubs) == 6 and {p.state for p in pubs} == {"published"}
    assert receiver.rejected == [] and receiver.duplicates == []
    assert len(receiver.requests) == len(receiver.deliveries) == 6
    by_id = {r.header("webhook-id"): r for r in receiver.requests}
    for pub in pubs:
        wid = webhook_id_for(pub.key)
        req = by_id[wid]
        # with exactly the Standard Webhooks headers, an HMAC we compute ourselves, the send time
        assert req.method == "POST" and req.path == "/hooks"
        assert {k.lower() for k in req.headers if k.lower().startswith("webhook-")} == {
            "webhook-id", "webhook-timestamp", "webhook-signature"}
        ts = req.header("webhook-timestamp") or ""
        assert ts.isdigit() and t0 <= int(ts) <= t1
        assert req.header("webhook-signature") == expected_signature(wid, ts, req.body)
        assert req.header("Content-Type") == "application/json"
        # and the body is exactly what rendering (and preview) gives, carrying the tagged link
        assert req.body == render_publication(s.rt, pub).text.encode("utf-8")
        data = json.loads(req.body)["data"]
        assert data["item"] == {"id": pub.item_id, "revision": pub.revision} and data["locale"] == pub.locale
        assert data["link"] == pub.tagged_url and data["utm"] == pub.utm
        # and the ledger keeps the webhook id and the URL the receiver answered with
        assert pub.remote_id == wid and pub.permalink == receiver.message_url(wid)


def test_a_stalled_answer_is_retried_with_the_same_id_and_the_receiver_delivers_once(
    setup: Callable[..., Setup], receiver: FakeWebhookReceiver
) -> None:
    # Given a receiver that handles the first message and then stalls past our read timeout
    s = setup(receiver.endpoint, timing=FAST)
    receiver.fail_next(Fault("stall", when="after", method="POST", seconds=2.0))
    submit(item_data(), runtime=s.rt, ignore_schedule=True)
    # When the publication runs (the first attempt times out, the retry goes through)
    pub = s.run_until_published()
    # Then it is published after two attempts that carried the same id and body, delivered once
    assert pub.state == "published" and pub.attempts == 2
    assert [r.header("webhook-id") for r in receiver.requests] == [webhook_id_for(pub.key)] * 2
    assert receiver.requests[0].body == receiver.requests[1].body
    assert len(receiver.deliveries) == 1 and receiver.duplicates == [webhook_id_for(pub.key)]
    states = [e["to_state"] for e in s.rt.ledger.events(publication_id=pub.id) if e["to_state"]]
    assert "retrying" in states and "in_doubt" not in states


def test_410_gone_fails_the_publication_disables_the_account_and_holds_its_later_publications(
    setup: Callable[..., Setup], receiver: FakeWebhookReceiver
) -> None:
    # Given a receiver whose owner disabled the endpoint
    s = setup(receiver.endpoint)
    receiver.gone()
    submit(item_data(id="first"), runtime=s.rt, ignore_schedule=True)
    # When a publication goes to it
    [first] = s.run("first")
    # Then it failed with the receiver's words and the account is disabled
    assert first.state == "failed"
    assert first.last_error is not None
    assert "HTTP 410" in first.last_error and "disabled by its owner" in first.last_error
    status, reason = s.rt.ledger.account_status("partner-hook")
    assert status == "disabled" and reason is not None and "gone" in reason
    # When another item is submitted and the dispatcher runs
    submit(item_data(id="second"), runtime=s.rt, ignore_schedule=True)
    tick = Dispatcher(s.rt).tick()
    # Then its publication is held: not enqueued, nothing sent
    [second] = s.rt.ledger.publications(item_id="second")
    assert tick.enqueued == 0 and second.state == "scheduled"
    assert len(receiver.requests) == 1


@pytest.mark.parametrize(("status", "headers", "state", "account"), [
    (400, {}, "failed", "ok"),
    (401, {}, "failed", "needs_credentials"),
    (403, {}, "failed", "needs_credentials"),
    (404, {}, "failed", "ok"),
    (413, {}, "failed", "ok"),
    (422, {}, "failed", "ok"),
    (302, {"Location": "https://elsewhere.example/"}, "failed", "ok"),
    (429, {"Retry-After": "120"}, "scheduled", "ok"),
    (503, {"Retry-After": "120"}, "scheduled", "ok"),
    (500, {}, "retrying", "ok"),
    (502, {}, "retrying", "ok"),
])
def test_each_error_status_lands_in_the_right_ledger_state(
    setup: Callable[..., Setup], receiver: FakeWebhookReceiver, status: int, headers: dict[str, str], state: str,
    account: str,
) -> None:
    # Given a receiver that answers the next message with an error status and a message
    s = setup(receiver.endpoint)
    receiver.fail_next(Fault("status", status=status, headers=headers, body={"error": f"refused with {status}"}))
    submit(item_data(), runtime=s.rt, ignore_schedule=True)
    # When the publication runs (retries and deferrals are not due yet)
    [pub] = s.run()
    # Then it is in the expected state, with the receiver's message, and the account as expected
    assert pub.state == state
    assert pub.last_error is not None and f"HTTP {status}" in pub.last_error
    if state != "scheduled" and status not in (302,):
        assert f"refused with {status}" in pub.last_error
    assert s.rt.ledger.account_status("partner-hook")[0] == account
    if state == "scheduled":
        # a deferral counts no attempt and waits for Retry-After
        assert pub.attempts == 0 and pub.scheduled_for >= s.rt.ledger.now() + timedelta(seconds=100)


def test_a_refused_connection_is_retried_later(setup: Callable[..., Setup]) -> None:
    # Given an endpoint where nothing listens
    s = setup(refused_url() + "/hooks")
    submit(item_data(), runtime=s.rt, ignore_schedule=True)
    # When the publication runs, Then it waits for a retry (nothing was sent)
    [pub] = s.run()
    assert pub.state == "retrying" and pub.last_error is not None and "cannot connect" in pub.last_error


def test_a_success_without_a_usable_answer_is_published_with_the_tagged_link_and_a_warning(
    setup: Callable[..., Setup], receiver: FakeWebhookReceiver
) -> None:
    # Given a receiver that accepts the message but answers with something that is not JSON
    s = setup(receiver.endpoint)
    receiver.fail_next(Fault("malformed", when="after", method="POST"))
    submit(item_data(), runtime=s.rt, ignore_schedule=True)
    # When the publication runs
    [pub] = s.run()
    # Then it is published, its back-link is the tagged canonical URL, and the warning is recorded
    assert pub.state == "published" and pub.permalink == pub.tagged_url
    [event] = [e for e in s.rt.ledger.events(publication_id=pub.id) if e["kind"] == "published"]
    assert any("not JSON" in w for w in event["detail"]["warnings"])


def _stage_in_doubt(s: Setup, receiver: FakeWebhookReceiver, *, deliver: bool) -> Publication:
    """A publication left ``in_doubt`` by a worker that died during the call (after sending, if ``deliver``)."""
    receiver.fail_next(Fault("status", status=429, headers={"Retry-After": "600"}))
    submit(item_data(), runtime=s.rt, ignore_schedule=True)
    [pub] = s.run()
    assert pub.state == "scheduled"
    s.rt.ledger.transition(pub.id, S.ENQUEUED, expect=(S.SCHEDULED,), actor="test", scheduled_for=s.rt.ledger.now())
    calling = s.rt.ledger.transition(pub.id, S.CALLING, expect=(S.ENQUEUED,), actor="test-worker")
    assert calling is not None
    if deliver:
        s.rt.adapter("partner-hook").publish(render_publication(s.rt, calling), publication_ref(s.rt, calling))
    doubted = s.rt.ledger.transition(pub.id, S.IN_DOUBT, expect=(S.CALLING,), actor="dispatcher",
                                     error="claim lease expired")
    assert doubted is not None
    return doubted


def test_reconcile_finds_a_delivered_message_at_the_status_url(
    setup: Callable[..., Setup], receiver: FakeWebhookReceiver
) -> None:
    # Given an in-doubt publication whose message did reach the receiver
    s = setup(receiver.endpoint, status_url=receiver.status_template)
    pub = _stage_in_doubt(s, receiver, deliver=True)
    # When it is reconciled
    outcome = do_reconcile(s.rt, pub.id)
    # Then the signed status query found it and the publication is published with the receiver's URL
    after = s.rt.ledger.publication(pub.id)
    assert outcome == "published" and after is not None and after.state == "published"
    assert after.permalink == receiver.message_url(webhook_id_for(pub.key))
    assert receiver.requests[-1].method == "GET" and receiver.rejected == []


def test_reconcile_retries_a_message_the_status_url_does_not_know(
    setup: Callable[..., Setup], receiver: FakeWebhookReceiver
) -> None:
    # Given an in-doubt publication whose message never arrived
    s = setup(receiver.endpoint, status_url=receiver.status_template)
    pub = _stage_in_doubt(s, receiver, deliver=False)
    # When it is reconciled, Then the status URL says 404 and the publication is retried
    assert do_reconcile(s.rt, pub.id) == "retrying"
    assert receiver.deliveries == []


def test_without_a_status_url_reconcile_retries_and_the_receiver_dedupes(
    setup: Callable[..., Setup], receiver: FakeWebhookReceiver
) -> None:
    # Given an in-doubt publication that was delivered, on an account without a status URL
    s = setup(receiver.endpoint, timing=FAST)
    pub = _stage_in_doubt(s, receiver, deliver=True)
    # When it is reconciled and retried
    assert do_reconcile(s.rt, pub.id) == "retrying"
    after = s.run_until_published()
    # Then the retry carried the same id and the receiver delivered the message once
    assert after.state == "published"
    assert len(receiver.deliveries) == 1 and receiver.duplicates == [webhook_id_for(pub.key)]


@pytest.mark.parametrize(("answer", "warned"), [
    ("padded", True),     # valid JSON whose url comes after 64 KiB: only readable past the cap
    ("huge", False),      # 32 MiB of blanks
    ("drip", True),       # the answer one byte every 0.1 s: longer than the exchange's deadline
])
def test_an_oversized_or_endless_success_answer_is_cut_off_and_the_message_counts_as_delivered(
    setup: Callable[..., Setup], receiver: FakeWebhookReceiver, answer: str, warned: bool
) -> None:
    # Given a receiver that accepts the message and gives an answer too long or too slow to read
    # (the slow one is cut by the exchange's total deadline, 0.5 + 3 s, whatever the load: its
    # headers come at once and each byte of its body well within the 3 s read timeout)
    timeouts_s = (0.5, 3.0) if answer == "drip" else (2.0, 1.0)
    s = setup(receiver.endpoint, max_response_bytes=4096, timeouts_s=timeouts_s)
    if answer == "padded":
        receiver.answer_padding = 64 * 1024
    elif answer == "huge":
        receiver.fail_next(Fault("huge", when="after", method="POST", size=32 * 1024 * 1024))
    else:
        receiver.fail_next(Fault("drip", when="after", method="POST", seconds=0.1))
    submit(item_data(), runtime=s.rt, ignore_schedule=True)
    # When the publication runs
    [pub] = s.run()
    # Then reading stopped at the cap or the read budget (so the receiver's url was never seen), and
    # the delivery is published once, its back-link the tagged canonical URL
    assert pub.state == "published" and pub.attempts == 1 and pub.permalink == pub.tagged_url
    assert len(receiver.deliveries) == 1
    [event] = [e for e in s.rt.ledger.events(publication_id=pub.id) if e["kind"] == "published"]
    assert bool((event["detail"] or {}).get("warnings")) is warned
