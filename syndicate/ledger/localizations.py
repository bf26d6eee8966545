"""Localizations: one per (item, revision, locale), requested, claimed, recorded or failed, and the
review that releases or cancels the publications waiting for one.

A localize claim is a ``state_kv`` row (namespace ``localize-claim``) owned by the worker that
took it, so the engine is asked once however often the message is delivered.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, bindparam, delete, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ..base.secrets import redact
from ..model.states import PublicationState
from .publications import PublicationStore
from .records import Publication
from .schema import localizations, publications, state_kv

__all__ = ["LocalizationStore"]

S = PublicationState

# Read for every publication, built once with bound parameters (docs/performance.md).
_LOCALIZATION = select(localizations).where(and_(
    localizations.c.item_id == bindparam("item_id"), localizations.c.revision == bindparam("revision"),
    localizations.c.locale == bindparam("locale")))


class LocalizationStore(PublicationStore):
    """Localizations, their claims, and the review of the ones that need a human."""

    # -- localizations ---------------------------------------------------------------------

    def localization(self, item_id: str, revision: int, locale: str) -> dict[str, Any] | None:
        """The localization row as a dict, or None."""
        with self._reader.connect() as conn:
            row = conn.execute(_LOCALIZATION, {"item_id": item_id, "revision": revision, "locale": locale}
                               ).mappings().first()
        return dict(row) if row else None

    def localizations_to_request(self, *, stale_after: timedelta, limit: int) -> list[tuple[str, int, str]]:
        """Pending localizations never requested, or requested longer ago than ``stale_after``;
        marks them requested now and returns their keys."""
        now = self.now()
        q = (select(localizations.c.item_id, localizations.c.revision, localizations.c.locale)
             .where(and_(localizations.c.state == "pending",
                         or_(localizations.c.requested_at.is_(None),
                             localizations.c.requested_at < now - stale_after)))
             .order_by(localizations.c.created_at).limit(limit))
        if self.dialect == "postgresql":
            q = q.with_for_update(skip_locked=True, of=localizations)
        with self.begin() as conn:
            keys = [(r.item_id, r.revision, r.locale) for r in conn.execute(q).all()]
            for item_id, revision, locale in keys:
                conn.execute(update(localizations).where(and_(
                    localizations.c.item_id == item_id, localizations.c.revision == revision,
                    localizations.c.locale == locale)).values(requested_at=now))
        return keys

    def mark_localizations_requested(self, item_id: str, revision: int, *, fresh_within: timedelta | None = None
                                     ) -> list[str]:
        """Mark the pending localizations of an item requested now; return their locales (sorted).

        With ``fresh_within``, localizations already requested that recently are left out: someone
        (the dispatcher) has sent their localize message, and a second would only be skipped.
        """
        now = self.now()
        cond = and_(localizations.c.item_id == item_id, localizations.c.revision == revision,
                    localizations.c.state == "pending")
        if fresh_within is not None:
            cond = and_(cond, or_(localizations.c.requested_at.is_(None),
                                  localizations.c.requested_at < now - fresh_within))
        with self.begin() as conn:
            locs = conn.execute(update(localizations).where(cond).values(requested_at=now)
                                .returning(localizations.c.locale)).scalars().all()
        return sorted(locs)

    def record_localization(self, item_id: str, revision: int, locale: str, *, fields: Mapping[str, str],
                            sources: Mapping[str, str], engine: str, review_required: bool, actor: str,
                            warnings: Sequence[str] = (), release_claim_of: str | None = None,
                            detail: Mapping[str, Any] | None = None) -> int:
        """Store a finished localization and release its publications.

        Publications become ready; with ``review_required`` they wait in ``awaiting_review``.
        With ``release_claim_of``, that worker's claim (:meth:`claim_localization`) is given up in
        the same transaction. ``detail``: how machine translation went (the ``localizations.detail``
        column, also in the ``localized`` event). Returns the number of publications released.
        """
        now = self.now()
        with self.begin() as conn:
            if release_claim_of is not None:
                self._release_claim(conn, f"{item_id}/{revision}/{locale}", release_claim_of)
            res = conn.execute(update(localizations).where(and_(
                localizations.c.item_id == item_id, localizations.c.revision == revision,
                localizations.c.locale == locale, localizations.c.state.in_(["pending", "failed"])))
                .values(state="done", fields=dict(fields), sources=dict(sources), engine=engine,
                        error=None, attempts=localizations.c.attempts + 1, updated_at=now,
                        detail=dict(detail) if detail else None))
            if res.rowcount == 0:
                return 0
            self._event(conn, kind="localized", actor=actor, item_id=item_id, revision=revision,
                        detail={"locale": locale, "engine": engine, "sources": dict(sources),
                                "warnings": list(warnings), **({"translation": dict(detail)} if detail else {})})
            waiting = and_(publications.c.item_id == item_id, publications.c.revision == revision,
                           publications.c.locale == locale, publications.c.state == S.SCHEDULED.value,
                           publications.c.parent_id.is_(None))  # first comments wait for their post
            if not review_required:  # one statement for all of them (no state changes, so no events)
                return len(conn.execute(update(publications).where(waiting).values(ready=True, updated_at=now)
                                        .returning(publications.c.id)).all())
            pids = conn.execute(select(publications.c.id).where(waiting)).scalars().all()
            for pid in pids:
                self._transition(conn, pid, S.AWAITING_REVIEW, (S.SCHEDULED,), actor=actor,
                                 kind="awaiting-review", ready=True)
            return len(pids)

    def record_localization_failure(self, item_id: str, revision: int, locale: str, *, error: str, actor: str,
                                    retry: bool, detail: Mapping[str, Any] | None = None) -> None:
        """Record a failed localization. ``retry``: leave it pending for a later attempt.
        ``detail``: what a reviewer should see (the engine's refused answers), already redacted."""
        now = self.now()
        kept = dict(detail) if detail else None
        with self.begin() as conn:
            conn.execute(update(localizations).where(and_(
                localizations.c.item_id == item_id, localizations.c.revision == revision,
                localizations.c.locale == locale, localizations.c.state.in_(["pending", "failed"])))
                .values(state="pending" if retry else "failed", error=redact(error)[:4000],
                        attempts=localizations.c.attempts + 1, updated_at=now, detail=kept))
            self._event(conn, kind="localization-failed", actor=actor, item_id=item_id, revision=revision,
                        error=error,
                        detail={"locale": locale, "retry": retry, **({"translation": kept} if kept else {})})
            conn.execute(update(publications).where(and_(
                publications.c.item_id == item_id, publications.c.revision == revision,
                publications.c.locale == locale, publications.c.state == S.SCHEDULED.value))
                .values(last_error=redact(f"localization failed: {error}")[:4000], updated_at=now))

    def failed_localizations(self, item_id: str, revision: int) -> list[str]:
        """The locales of the item revision whose localization failed for good."""
        with self._reader.connect() as conn:
            return list(conn.execute(select(localizations.c.locale).where(and_(
                localizations.c.item_id == item_id, localizations.c.revision == revision,
                localizations.c.state == "failed")).order_by(localizations.c.locale)).scalars().all())

    def requeue_localizations(self, item_id: str, revision: int, *, actor: str) -> list[str]:
        """Set the item revision's failed localizations back to ``pending`` (the dispatcher requests
        them on its next tick); one ``localization-requeued`` event each. Returns their locales."""
        now = self.now()
        with self.begin() as conn:
            locs = conn.execute(select(localizations.c.locale).where(and_(
                localizations.c.item_id == item_id, localizations.c.revision == revision,
                localizations.c.state == "failed")).order_by(localizations.c.locale)).scalars().all()
            for loc in locs:
                conn.execute(update(localizations).where(and_(
                    localizations.c.item_id == item_id, localizations.c.revision == revision,
                    localizations.c.locale == loc, localizations.c.state == "failed"))
                    .values(state="pending", requested_at=None, updated_at=now))
                self._event(conn, kind="localization-requeued", actor=actor, item_id=item_id, revision=revision,
                            detail={"locale": loc})
        return list(locs)

    def claim_localization(self, item_id: str, revision: int, locale: str, *, worker: str, lease: timedelta) -> bool:
        """Take the right to localize (item, revision, locale) for ``lease``; False if another worker holds it.

        A localize message can be delivered twice (intake and the dispatcher both send one, or a
        redelivery): the claim makes the second a no-op, so an engine is asked once. The claim is a
        ``state_kv`` row (namespace ``localize-claim``) owned by ``worker`` (the localize actor
        passes its message id, so the message's retry or redelivery takes it back); an owner that
        never comes back loses it when the lease ends.
        """
        key = f"{item_id}/{revision}/{locale}"
        now = self.now()
        value = {"owner": worker, "until": (now + lease).isoformat()}
        fresh = (pg_insert if self.dialect == "postgresql" else sqlite_insert)(state_kv).values(
            namespace="localize-claim", key=key, value=value, version=1, updated_at=now).on_conflict_do_nothing()
        q = select(state_kv.c.value, state_kv.c.version).where(and_(
            state_kv.c.namespace == "localize-claim", state_kv.c.key == key))
        if self.dialect == "postgresql":
            q = q.with_for_update()
        with self.begin() as conn:
            # Usually nobody holds it: one INSERT takes it. Otherwise look at the holder's lease.
            for _ in range(2):
                if conn.execute(fresh).rowcount == 1:
                    return True
                row = conn.execute(q).first()
                if row is not None:
                    break
            else:
                return False
            held = row.value if isinstance(row.value, dict) else {}
            if held.get("owner") != worker and datetime.fromisoformat(str(held.get("until"))) > now:
                return False
            res = conn.execute(update(state_kv).where(and_(
                state_kv.c.namespace == "localize-claim", state_kv.c.key == key, state_kv.c.version == row.version))
                .values(value=value, version=row.version + 1, updated_at=now))
            return res.rowcount == 1

    def release_localization(self, item_id: str, revision: int, locale: str, *, worker: str) -> None:
        """Give up a claim taken with :meth:`claim_localization` (a no-op if another worker holds it)."""
        with self.begin() as conn:
            self._release_claim(conn, f"{item_id}/{revision}/{locale}", worker)

    @staticmethod
    def _release_claim(conn: Connection, key: str, worker: str) -> None:
        row = conn.execute(select(state_kv.c.value).where(and_(
            state_kv.c.namespace == "localize-claim", state_kv.c.key == key))).first()
        if row is not None and isinstance(row.value, dict) and row.value.get("owner") == worker:
            conn.execute(delete(state_kv).where(and_(state_kv.c.namespace == "localize-claim",
                                                     state_kv.c.key == key)))

    # -- review ----------------------------------------------------------------------------

    def decide_review(self, item_id: str, revision: int, locale: str, *, approve: bool, reviewer: str,
                      reason: str | None = None, actor: str | None = None) -> list[Publication]:
        """Approve or reject the publications of one localization that wait in ``awaiting_review``.

        Approve: ``awaiting_review`` → ``scheduled`` (ready; the dispatcher sends them when due).
        Reject: ``awaiting_review`` → ``cancelled`` with ``reason``. One event per publication and
        one ``review.approved``/``review.rejected`` event for the localization, naming the reviewer.
        Returns the publications moved (none when nothing was waiting).

        ``actor`` is who is authenticated (``api:<token name>``), recorded as the events' actor;
        ``reviewer`` is the name they gave, recorded in each event's detail. Without ``actor``
        (an operator at the command line or in Python) the actor is ``reviewer:<reviewer>``.
        """
        actor = (actor or f"reviewer:{reviewer}")[:200]
        kind = "review.approved" if approve else "review.rejected"
        by = reviewer if actor == f"reviewer:{reviewer}" else f"{reviewer} ({actor})"
        error = None if approve else f"rejected in review by {by}: {reason or 'no reason given'}"
        out: list[Publication] = []
        with self.begin() as conn:
            pids = conn.execute(select(publications.c.id).where(and_(
                publications.c.item_id == item_id, publications.c.revision == revision,
                publications.c.locale == locale, publications.c.state == S.AWAITING_REVIEW.value))
                .order_by(publications.c.id)).scalars().all()
            for pid in pids:
                if approve:
                    p = self._transition(conn, pid, S.SCHEDULED, (S.AWAITING_REVIEW,), actor=actor, kind="approved",
                                         detail={"reviewer": reviewer}, ready=True)
                else:
                    p = self._transition(conn, pid, S.CANCELLED, (S.AWAITING_REVIEW,), actor=actor, kind="rejected",
                                         error=error, detail={"reviewer": reviewer, "reason": reason})
                if p is not None:
                    out.append(p)
            if out:
                self._event(conn, kind=kind, actor=actor, item_id=item_id, revision=revision, error=error,
                            detail={"locale": locale, "reviewer": reviewer, "reason": reason,
                                    "publications": [p.id for p in out]})
        return out

