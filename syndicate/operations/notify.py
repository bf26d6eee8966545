"""Lifecycle webhooks to producers: every state change of a publication, signed, at least once.

How it works (a transactional outbox):

1. When ``settings.yaml`` configures ``notifications.webhooks``, the runtime opens the ledger
   with a :class:`WebhookOutbox` (:func:`webhook_outbox`). Every publication state change the
   ledger makes (and every publication it plans) then inserts one ``notifications`` row per
   endpoint that wants the event, **in the same transaction** as the change: no change without
   its notification, and no notification for a change that was rolled back.
2. A :class:`Notifier` loop in every worker claims due rows through the ledger (``FOR UPDATE
   SKIP LOCKED`` on PostgreSQL, with a lease), POSTs them signed per Standard Webhooks, and
   records the outcome on the row: ``delivered``; or another attempt later with exponential
   backoff; or ``failed`` after ``max_attempts`` (or at once on ``410 Gone``), with the last
   status and error.
3. The ``webhook-id`` is fixed when the row is written, so every retry of an event carries the
   same id: receivers dedupe on it. A retry re-signs with a fresh ``webhook-timestamp``.

The message body (``type`` ``publication.<state>``, ``timestamp``, ``data``) is documented in
``docs/api.md``.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import requests

from ..base import metrics
from ..base.backoff import backoff
from ..base.logging import get_logger
from ..base.secrets import redact
from ..channels.http import bounded_session, retry_delay

if TYPE_CHECKING:
    from ..base.secrets import SecretSource
    from ..ledger import ClaimedNotification, Ledger, Publication
    from ..model.config import NotificationSettings, ProducerWebhook
    from ..services import Services

__all__ = [
    "DEFAULT_EVENTS",
    "Notifier",
    "WebhookOutbox",
    "lifecycle_payload",
    "retry_failed",
    "sign_headers",
    "webhook_outbox",
]

log = get_logger("syndicate.notify")

#: States whose arrival is announced unless an endpoint lists its own ``events``.
DEFAULT_EVENTS = frozenset({"scheduled", "awaiting_review", "published", "failed", "in_doubt", "unconfirmed",
                            "cancelled", "skipped"})

#: Rows claimed per round.
BATCH = 50
#: Longest answer body we read from a receiver, in bytes (only its start goes into last_error).
MAX_ANSWER_BYTES = 4096


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z") if value is not None else None


def lifecycle_payload(pub: Publication, previous_state: str | None, kind: str, error: str | None,
                      at: datetime) -> dict[str, Any]:
    """The body of the webhook announcing that ``pub`` reached its current state."""
    return {
        "type": f"publication.{pub.state}",
        "timestamp": _iso(at),
        "data": {
            "publication_id": pub.id, "key": pub.key, "item_id": pub.item_id, "revision": pub.revision,
            "locale": pub.locale, "account": pub.account, "channel": pub.channel, "campaign": pub.campaign,
            "slot": pub.slot, "state": pub.state, "previous_state": previous_state, "reason": kind,
            "scheduled_for": _iso(pub.scheduled_for), "published_at": _iso(pub.published_at),
            "permalink": pub.permalink, "remote_id": pub.remote_id, "tagged_url": pub.tagged_url,
            "attempts": pub.attempts, "error": error if pub.state != "published" else None,
        },
    }


class WebhookOutbox:
    """Builds outbox rows for each configured endpoint that wants a state (see ``Ledger.outbox``)."""

    def __init__(self, webhooks: Mapping[str, ProducerWebhook]) -> None:
        self.events = {name: frozenset(w.events) if w.events is not None else DEFAULT_EVENTS
                       for name, w in webhooks.items()}

    def rows(self, pub: Publication, previous_state: str | None, kind: str, error: str | None,
             at: datetime) -> list[dict[str, Any]]:
        """One pending row per endpoint interested in ``pub.state``."""
        wanted = [name for name, events in self.events.items() if pub.state in events]
        if not wanted:
            return []
        payload = lifecycle_payload(pub, previous_state, kind, error, at)
        return [{
            "webhook_id": f"msg_{uuid.uuid4().hex}", "endpoint": name, "event_type": payload["type"],
            "publication_id": pub.id, "item_id": pub.item_id, "payload": payload, "state": "pending",
            "attempts": 0, "next_attempt_at": at, "created_at": at, "updated_at": at,
        } for name in wanted]


def webhook_outbox(settings: NotificationSettings) -> WebhookOutbox | None:
    """The ledger's outbox for the producer webhooks of ``settings``, or None when there are none."""
    return WebhookOutbox(settings.webhooks) if settings.webhooks else None


def body_bytes(payload: Mapping[str, Any]) -> bytes:
    """The exact bytes sent (and signed) for a payload; the same on every attempt."""
    return json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def sign_headers(secret: str, webhook_id: str, body: bytes, at: datetime) -> dict[str, str]:
    """Standard Webhooks headers for ``body``: ``webhook-id``, ``webhook-timestamp``, ``webhook-signature``.

    Args:
        secret: the endpoint's ``whsec_...`` secret.
        webhook_id: the event's stable id.
        body: the exact request body.
        at: the send time (aware); the signature covers its whole seconds.
    """
    from standardwebhooks import Webhook

    when = at.astimezone(UTC)
    signature = Webhook(secret).sign(msg_id=webhook_id, timestamp=when, data=body.decode("utf-8"))
    return {"webhook-id": webhook_id, "webhook-timestamp": str(int(when.timestamp())),
            "webhook-signature": signature}


def _subject(c: ClaimedNotification) -> dict[str, Any]:
    """The publication (and item) a message is about, for log lines."""
    data = c.payload.get("data")
    data = data if isinstance(data, dict) else {}
    return {"publication": data.get("publication_id"), "item": data.get("item_id")}


class Notifier:
    """Delivers due outbox rows; safe to run in every worker process at once.

    Args:
        ledger: where the outbox lives.
        settings: endpoints and retry policy from ``settings.yaml``.
        secrets: resolves each endpoint's ``${VAR}`` secret at send time.
        name: who claims rows (recorded nowhere but the logs).
    """

    def __init__(self, ledger: Ledger, settings: NotificationSettings, secrets: SecretSource, *,
                 name: str = "notifier") -> None:
        self.ledger = ledger
        self.settings = settings
        self.secrets = secrets
        self.name = name
        self._session = bounded_session(max_answer_bytes=MAX_ANSWER_BYTES)
        self._stop = threading.Event()
        self._timed_out = False
        self._thread: threading.Thread | None = None

    @classmethod
    def for_runtime(cls, rt: Services) -> Notifier | None:
        """A notifier for ``rt``, or None when no producer webhook is configured."""
        if not rt.config.notifications.webhooks:
            return None
        return cls(rt.ledger, rt.config.notifications, rt.config.secrets)

    def _backoff(self, attempts: int) -> timedelta:
        return backoff(attempts, first=self.settings.min_backoff, cap=self.settings.max_backoff)

    def _lease(self) -> timedelta:
        longest = max((w.timeout_s for w in self.settings.webhooks.values()), default=10.0)
        return timedelta(seconds=2 * longest + 30)

    def claim(self, limit: int = BATCH) -> list[ClaimedNotification]:
        """Take up to ``limit`` due rows: count the attempt and push their next try past a lease,
        so no other notifier sends them meanwhile."""
        return self.ledger.claim_notifications(limit=limit, lease=self._lease())

    def _record(self, c: ClaimedNotification, *, state: str, status: int | None, error: str | None,
                next_at: datetime | None = None) -> None:
        self.ledger.record_notification(c.id, state=state, status=status, error=error, next_attempt_at=next_at)

    def send(self, c: ClaimedNotification) -> str:
        """POST one claimed row; record and return ``delivered``, ``retry`` or ``failed``."""
        hook = self.settings.webhooks.get(c.endpoint)
        if hook is None:
            self._record(c, state="failed", status=None,
                         error=f"endpoint {c.endpoint!r} is no longer in settings.yaml")
            metrics.observe_notification(c.endpoint, "failed")
            return "failed"
        status: int | None = None
        retry_after: timedelta | None = None
        secret = self.secrets.lookup(hook.secret)
        if secret is None:
            error: str | None = f"environment variable {hook.secret.var} is not set"
        else:
            body = body_bytes(c.payload)
            headers = {"Content-Type": "application/json", "User-Agent": "syndicate-webhooks/1",
                       **sign_headers(secret, c.webhook_id, body, datetime.now(UTC))}
            try:
                # Connect, send and read the answer within timeout_s in total (the session's deadline).
                connect_s = min(5.0, hook.timeout_s / 2)
                resp = self._session.post(hook.url, data=body, headers=headers, allow_redirects=False,
                                          timeout=(connect_s, hook.timeout_s - connect_s))
                with resp:
                    status = resp.status_code
                    answer = resp.content
                    retry_after = retry_delay(resp.headers.get("Retry-After"), longest=_LONGEST_WAIT)
                error = None if 200 <= status < 300 else \
                    f"HTTP {status}: {answer.decode('utf-8', 'replace')[:500]}".strip()
            except requests.RequestException as exc:
                self._timed_out = isinstance(exc, requests.Timeout)
                error = f"{type(exc).__name__}: {exc}"
        if error is None:
            self._record(c, state="delivered", status=status, error=None)
            log.info("notification.delivered", endpoint=c.endpoint, webhook_id=c.webhook_id, **_subject(c),
                     event_type=c.payload.get("type"), attempts=c.attempts)
            metrics.observe_notification(c.endpoint, "delivered")
            return "delivered"
        if status == 410 or c.attempts >= self.settings.max_attempts:
            why = "the endpoint answered 410 Gone" if status == 410 else f"gave up after {c.attempts} attempts"
            self._record(c, state="failed", status=status, error=f"{why}; last: {error}")
            log.error("notification.failed", endpoint=c.endpoint, webhook_id=c.webhook_id, **_subject(c),
                      event_type=c.payload.get("type"), attempts=c.attempts, status=status, error=redact(error))
            metrics.observe_notification(c.endpoint, "failed")
            return "failed"
        wait = max(self._backoff(c.attempts), retry_after or timedelta(0))
        self._record(c, state="pending", status=status, error=error, next_at=self.ledger.now() + wait)
        log.warning("notification.retrying", endpoint=c.endpoint, webhook_id=c.webhook_id, **_subject(c),
                    event_type=c.payload.get("type"), attempts=c.attempts, status=status, error=redact(error),
                    retry_in_s=round(wait.total_seconds(), 1))
        metrics.observe_notification(c.endpoint, "retry")
        return "retry"

    def deliver_due(self, limit: int = BATCH) -> dict[str, int]:
        """Claim and send due rows once; returns how many ended each way.

        An endpoint that let a delivery run into its deadline is not sent its other rows of this
        round (they wait their backoff, ``deferred``): one slow receiver costs the others one
        deadline, not one per message.
        """
        counts: dict[str, int] = {}
        slow: set[str] = set()
        for c in self.claim(limit):
            if c.endpoint in slow:
                result = self._defer(c)
            else:
                self._timed_out = False
                result = self.send(c)
                if self._timed_out:
                    slow.add(c.endpoint)
            counts[result] = counts.get(result, 0) + 1
        return counts

    def _defer(self, c: ClaimedNotification) -> str:
        """Put a claimed row back unsent (its attempt not counted), to be tried after a backoff."""
        self.ledger.defer_notification(c.id, retry_at=self.ledger.now() + self._backoff(max(c.attempts - 1, 1)))
        log.info("notification.deferred", endpoint=c.endpoint, webhook_id=c.webhook_id,
                 reason="the endpoint timed out on another message this round")
        return "deferred"

    def run(self) -> None:
        """Deliver until :meth:`stop`; a failing round is logged and tried again."""
        every = self.settings.poll_interval.total_seconds()
        while not self._stop.is_set():
            try:
                done = sum(self.deliver_due().values())
            except Exception:  # the loop must outlive a ledger hiccup
                log.exception("notification.round_failed")
                done = 0
            if done < BATCH:
                self._stop.wait(every)

    def start(self) -> Notifier:
        """Run in a daemon thread."""
        self._thread = threading.Thread(target=self.run, name=self.name, daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the loop and wait for it."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self._session.close()


#: The longest wait a receiver's ``Retry-After`` may ask of a notification.
_LONGEST_WAIT = timedelta(days=1)


def retry_failed(ledger: Ledger, *, endpoint: str | None = None) -> int:
    """Put ``failed`` notifications back to ``pending`` (attempts reset) after an operator fixed the
    endpoint; returns how many. Their ``webhook-id`` is kept, so receivers still dedupe."""
    return ledger.retry_failed_notifications(endpoint=endpoint)


def outbox_rows(ledger: Ledger, *, publication_id: int | None = None) -> list[dict[str, Any]]:
    """Outbox rows, oldest first (for ``syndicate status``, tests and ops scripts)."""
    return ledger.notifications(publication_id=publication_id)
