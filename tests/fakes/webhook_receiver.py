"""A partner's webhook endpoint: verifies Standard Webhooks signatures and dedupes on ``webhook-id``.

``POST /hooks``: the signature is checked with ``standardwebhooks.Webhook.verify`` (which also
refuses timestamps more than five minutes away); a bad or missing signature gets ``401``. A
message whose ``webhook-id`` was already delivered is acknowledged again (``200``,
``{"status": "duplicate"}``) without a second delivery, as the spec asks receivers to do. A new
one is delivered and answered ``200`` with ``{"status": "received", "url": ...}`` (``url`` left
out when ``answer_url`` is False).

``GET /messages/{webhook_id}`` (signed over an empty body) answers ``200`` with the message's URL
when it was delivered, ``404`` when not: the status URL the adapter may reconcile with.

``gone()`` makes the endpoint answer ``410 Gone`` from then on; one-off answers come from
``fail_next(Fault("status", ...))``.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from standardwebhooks import Webhook, WebhookVerificationError

from tests.fakes.base import FakeServer, Request, Response

__all__ = ["Delivery", "FakeWebhookReceiver"]


@dataclass(frozen=True)
class Delivery:
    """One message the receiver accepted (the first request with its ``webhook-id``)."""

    webhook_id: str
    timestamp: str
    body: bytes
    payload: Any


class FakeWebhookReceiver(FakeServer):
    """Verifies, dedupes and records webhook messages for one secret."""

    def __init__(self, secret: str, *, answer_url: bool = True) -> None:
        super().__init__()
        self._verifier = Webhook(secret)
        self.answer_url = answer_url
        #: Characters of padding put before ``url`` in the answer (to test a sender's read cap).
        self.answer_padding = 0
        self.deliveries: list[Delivery] = []
        self.duplicates: list[str] = []
        self.rejected: list[str] = []
        self._gone = False
        self._lock = threading.Lock()
        self.route("POST", "/hooks", self._receive)
        self.route("GET", r"/messages/(?P<webhook_id>[^/]+)", self._status)

    @property
    def endpoint(self) -> str:
        """Where messages go."""
        return f"{self.url}/hooks"

    @property
    def status_template(self) -> str:
        """The status URL template, for the account's ``status_url`` option."""
        return f"{self.url}/messages/{{webhook_id}}"

    def gone(self) -> None:
        """Answer 410 Gone to every message from now on."""
        self._gone = True

    def message_url(self, webhook_id: str) -> str:
        """The URL the receiver gives for a delivered message."""
        return f"{self.url}/messages/{webhook_id}"

    def _verify(self, req: Request) -> Any:
        try:
            return self._verifier.verify(req.body, dict(req.headers))
        except (WebhookVerificationError, ValueError) as exc:  # ValueError: a malformed signature list
            with self._lock:
                self.rejected.append(f"{type(exc).__name__}: {exc}")
            return None

    def _receive(self, req: Request) -> Response:
        if self._gone:
            return Response(410, {"error": "endpoint disabled by its owner"})
        payload = self._verify(req)
        if payload is None:
            return Response(401, {"error": "invalid webhook signature"})
        wid = req.header("webhook-id") or ""
        with self._lock:
            if any(d.webhook_id == wid for d in self.deliveries):
                self.duplicates.append(wid)
                return Response(200, {"status": "duplicate"})
            self.deliveries.append(Delivery(wid, req.header("webhook-timestamp") or "", req.body, payload))
        body: dict[str, Any] = {"status": "received"}
        if self.answer_padding:
            body["padding"] = " " * self.answer_padding
        if self.answer_url:
            body["url"] = self.message_url(wid)
        return Response(200, body)

    def _status(self, req: Request) -> Response:
        try:
            self._verifier.verify(b"", dict(req.headers), json_parse=False)
        except (WebhookVerificationError, ValueError):
            return Response(401, {"error": "invalid webhook signature"})
        wid = req.path_params["webhook_id"]
        with self._lock:
            delivered = any(d.webhook_id == wid for d in self.deliveries)
        if not delivered:
            return Response(404, {"error": "no such message"})
        return Response(200, {"status": "received", "url": self.message_url(wid)})
