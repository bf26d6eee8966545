"""A slow lifecycle-webhook receiver costs one deadline, not the worker's notifications.

Two producer endpoints; one drips its answer's headers one byte every 50 ms (each byte well within
any read timeout, the whole answer far beyond the endpoint's 1 s ``timeout_s``). One round of the
notifier must end with the other endpoint's messages delivered, the slow one's first message
waiting for a retry (its deadline hit) and its other messages put back unsent.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from syndicate import Runtime, submit
from syndicate.config.loading import load_config
from syndicate.operations.notify import Notifier, outbox_rows
from tests.fakes.base import Fault
from tests.fakes.webhook_receiver import FakeWebhookReceiver
from tests.helpers import item_data, sandbox_accounts, simple_route

SECRET = "whsec_" + base64.b64encode(b"producer-webhook-secret-32-bytes").decode()


@pytest.fixture
def receivers() -> Iterator[tuple[FakeWebhookReceiver, FakeWebhookReceiver]]:
    with FakeWebhookReceiver(SECRET) as slow, FakeWebhookReceiver(SECRET) as fast:
        yield slow, fast


def test_a_receiver_that_drips_its_answer_is_cut_at_its_deadline_and_does_not_hold_up_the_others(
    config_dir: Callable[..., Path], sqlite_url: str, outbox: Path, monkeypatch: pytest.MonkeyPatch,
    receivers: tuple[FakeWebhookReceiver, FakeWebhookReceiver],
) -> None:
    slow, fast = receivers
    monkeypatch.setenv("CMS_WEBHOOK_SECRET", SECRET)
    hooks = {name: {"url": r.endpoint, "secret": "${CMS_WEBHOOK_SECRET}", "timeout_s": 1}
             for name, r in (("slow", slow), ("fast", fast))}
    accounts = sandbox_accounts("a1", "a2", "a3")
    d = config_dir(accounts=accounts, routes=[simple_route("na", ["en-US"], list(accounts))],
                   settings={"notifications": {"webhooks": hooks}})
    with Runtime.create(config=load_config(d), database_url=sqlite_url, redis_url="") as rt:
        # Given three "scheduled" events for each endpoint, and a slow endpoint that drips every answer
        submit(item_data(), runtime=rt, ignore_schedule=True)
        slow.fail_next(Fault("drip_headers", when="after", method="POST", seconds=0.05, times=10))
        # When the notifier runs one round
        counts = Notifier.for_runtime(rt).deliver_due()  # type: ignore[union-attr]
        rows = outbox_rows(rt.ledger)
    # Then the fast endpoint got all its messages
    assert sorted(r["state"] for r in rows if r["endpoint"] == "fast") == ["delivered"] * 3
    assert len(fast.deliveries) == 3
    # And the slow one was tried once: cut at its deadline, waiting to retry; the rest were not sent
    slow_rows = [r for r in rows if r["endpoint"] == "slow"]
    assert all(r["state"] == "pending" for r in slow_rows)
    assert sorted(r["attempts"] for r in slow_rows) == [0, 0, 1]
    assert "DeadlineExceeded" in next(r["last_error"] for r in slow_rows if r["attempts"] == 1)
    assert len(slow.requests) == 1
    assert counts == {"delivered": 3, "retry": 1, "deferred": 2}
