"""The notification outbox: lifecycle webhooks to producers, one ``notifications`` row per endpoint
and state change.

Rows are written by the state change itself, in its transaction (the ledger's ``outbox``, see
:mod:`syndicate.ledger.publications`); this module is the delivery side: notifiers claim due rows
under a lease (``FOR UPDATE SKIP LOCKED`` on PostgreSQL), then record each outcome.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, select, update

from ..base.secrets import redact
from .core import LedgerCore
from .schema import notifications

__all__ = ["ClaimedNotification", "OutboxStore"]

_COUNT_BY_STATE = select(notifications.c.state, func.count()).group_by(notifications.c.state)


@dataclass(frozen=True)
class ClaimedNotification:
    """An outbox row a notifier claimed for sending."""

    id: int
    webhook_id: str
    endpoint: str
    payload: dict[str, Any]
    attempts: int


class OutboxStore(LedgerCore):
    """``notifications``: claimed, delivered, retried or given up; listed and counted for operators."""

    def claim_notifications(self, *, limit: int, lease: timedelta) -> list[ClaimedNotification]:
        """Take up to ``limit`` due rows: count the attempt and push their next try past ``lease``,
        so no other notifier sends them meanwhile."""
        now = self.now()
        q = (select(notifications.c.id).where(and_(notifications.c.state == "pending",
                                                    notifications.c.next_attempt_at <= now))
             .order_by(notifications.c.next_attempt_at, notifications.c.id).limit(limit))
        if self.dialect == "postgresql":
            q = q.with_for_update(skip_locked=True)
        out: list[ClaimedNotification] = []
        with self.begin() as conn:
            ids = conn.execute(q).scalars().all()
            for nid in ids:
                row = conn.execute(
                    update(notifications)
                    .where(and_(notifications.c.id == nid, notifications.c.state == "pending",
                                notifications.c.next_attempt_at <= now))
                    .values(attempts=notifications.c.attempts + 1, next_attempt_at=now + lease, updated_at=now)
                    .returning(notifications.c.id, notifications.c.webhook_id, notifications.c.endpoint,
                               notifications.c.payload, notifications.c.attempts)).first()
                if row is not None:
                    out.append(ClaimedNotification(row.id, row.webhook_id, row.endpoint, dict(row.payload),
                                                   row.attempts))
        return out

    def record_notification(self, notification_id: int, *, state: str, status: int | None, error: str | None,
                            next_attempt_at: datetime | None = None) -> None:
        """Record the outcome of a send: ``delivered``, ``failed``, or ``pending`` again (with
        ``next_attempt_at``); ``status`` is the receiver's HTTP status, ``error`` is redacted."""
        now = self.now()
        values: dict[str, Any] = {"state": state, "last_status": status, "updated_at": now,
                                  "last_error": redact(error)[:2000] if error else None}
        if state == "delivered":
            values["delivered_at"] = now
        if next_attempt_at is not None:
            values["next_attempt_at"] = next_attempt_at
        with self.begin() as conn:
            conn.execute(update(notifications).where(notifications.c.id == notification_id).values(**values))

    def defer_notification(self, notification_id: int, *, retry_at: datetime) -> None:
        """Put a claimed row back unsent (its attempt not counted), to be tried at ``retry_at``."""
        with self.begin() as conn:
            conn.execute(update(notifications).where(notifications.c.id == notification_id).values(
                attempts=notifications.c.attempts - 1, updated_at=self.now(), next_attempt_at=retry_at))

    def retry_failed_notifications(self, *, endpoint: str | None = None) -> int:
        """Put ``failed`` rows (of one endpoint, or all) back to ``pending`` with their attempts
        reset; returns how many. Their ``webhook-id`` is kept, so receivers still dedupe."""
        now = self.now()
        cond = notifications.c.state == "failed"
        if endpoint is not None:
            cond = and_(cond, notifications.c.endpoint == endpoint)
        with self.begin() as conn:
            res = conn.execute(update(notifications).where(cond)
                               .values(state="pending", attempts=0, next_attempt_at=now, updated_at=now))
            return int(res.rowcount or 0)

    def notifications(self, *, publication_id: int | None = None) -> list[dict[str, Any]]:
        """Outbox rows, oldest first (for ``syndicate status``, tests and ops scripts)."""
        q = select(notifications).order_by(notifications.c.id)
        if publication_id is not None:
            q = q.where(notifications.c.publication_id == publication_id)
        with self._reader.connect() as conn:
            return [dict(r) for r in conn.execute(q).mappings()]

    def count_notifications_by_state(self) -> dict[str, int]:
        """Number of outbox rows per state (the metrics gauge)."""
        with self._reader.connect() as conn:
            return {state: n for state, n in conn.execute(_COUNT_BY_STATE).all()}
