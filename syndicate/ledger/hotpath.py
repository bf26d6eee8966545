"""The pipeline's common case in one statement per step (PostgreSQL, producer webhooks off).

Each method here does what a longer sequence of reads and transitions in the other modules does,
in one statement that is atomic on its own (data-modifying ``WITH`` clauses, autocommit), for the
case that happens almost always. When its case does not apply it changes nothing and says so
(None, or a row that was not claimed), and the caller takes the general path, which decides the
rare cases exactly as before. ``docs/performance.md`` has the figures.

* :meth:`HotPathStore.claim_ready`: the publish step's read, checks and claim, and its
  localization, in one statement (was four);
* :meth:`HotPathStore.claim_pending_localization`: the localize step's reads and claim (was four);
* :meth:`HotPathStore.record_localization_released`: a finished localization, its event, the
  release of its publications and of its claim (was five statements in a transaction);
* :meth:`HotPathStore.request_localizations_if_active`: the intake step's read of the item and
  marking of its localizations (was two);
* :meth:`HotPathStore.take_due` and :meth:`HotPathStore.localizations_to_request`, the
  dispatcher's batches: one statement each (were three in a transaction, and one plus one per row);
* :meth:`HotPathStore.sweeps_due`: whether any of the dispatcher's four sweeps (stale enqueued
  rows, expired claims, stale in-doubt rows, deletes to send again) has work, in one statement, so
  an idle tick runs none.

On SQLite, or with producer webhooks on (their outbox rows are written per transition in
Python), every method answers "not here" and the general path runs.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    JSON,
    TIMESTAMP,
    Boolean,
    Integer,
    Select,
    String,
    and_,
    any_,
    bindparam,
    cast,
    exists,
    func,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY

from ..model.states import PublicationState
from .localizations import LocalizationStore
from .publications import _Shape, _transition_update, logged_events
from .records import Publication
from .records import publication_from_row as _pub
from .schema import UtcDateTime, accounts, items, localizations, publications

__all__ = ["HotPathStore"]

_DUE_FROM = (PublicationState.SCHEDULED.value, PublicationState.RETRYING.value)

S = PublicationState

#: The claim's transition: ``enqueued``/``retrying`` → ``calling``, due now, attempts + 1.
_CLAIM_SHAPE = _Shape(S.CALLING.value, (S.ENQUEUED.value, S.RETRYING.value),
                      ("claimed_at", "claimed_by", "lease_until"), ("attempts",), True)


@functools.cache
def _claim_ready() -> Any:
    """The claim, only when nothing would stop it, with its event, returning the claimed row and
    its localization's state and fields.

    The conditions are those the publish step checks before claiming (``publish_step`` and
    ``hold_until_due``): the account is configured and not held, the item has not expired, the
    row is due (no margin: an early message takes the general path, which sends it again), and no
    earlier revision of it is live (a revision follows its account's policy on the general path:
    ``previous_version``).
    """
    p = publications
    earlier = publications.alias("earlier")
    live_earlier = exists().where(and_(
        p.c.parent_id.is_(None), earlier.c.parent_id.is_(None),
        earlier.c.item_id == p.c.item_id, earlier.c.revision < p.c.revision, earlier.c.locale == p.c.locale,
        earlier.c.account == p.c.account, earlier.c.slot == p.c.slot,
        earlier.c.state == PublicationState.PUBLISHED.value))
    held = exists().where(and_(accounts.c.account == p.c.account, accounts.c.status != "ok"))
    expires_at = items.c.payload["expires_at"].as_string()
    now = bindparam("now", type_=UtcDateTime())
    expired = exists().where(and_(
        items.c.item_id == p.c.item_id, items.c.revision == p.c.revision, expires_at.is_not(None),
        cast(expires_at, TIMESTAMP(timezone=True)) <= func.greatest(now, p.c.scheduled_for)))
    configured = p.c.account == any_(bindparam("accounts", type_=ARRAY(String())))
    moved = _transition_update(_CLAIM_SHAPE).where(configured, ~held, ~expired, ~live_earlier).cte("moved")
    logged = logged_events(moved)
    loc = localizations
    return (select(*(moved.c[c.name] for c in p.c), loc.c.state.label("loc_state"), loc.c.fields.label("loc_fields"))
            .select_from(moved.outerjoin(loc, and_(loc.c.item_id == moved.c.item_id,
                                                   loc.c.revision == moved.c.revision,
                                                   loc.c.locale == moved.c.locale)))
            .add_cte(logged))


@functools.cache
def _take_due(whole_rows: bool) -> Select[Any]:
    """``take_due``'s locking SELECT, UPDATE and event INSERT as one statement: the due, ready rows
    of unheld accounts, oldest first, locked with ``SKIP LOCKED``, moved to ``enqueued`` with one
    ``enqueued`` event each, returned oldest first (whole rows, or only id and due time)."""
    p = publications
    now = bindparam("now", type_=UtcDateTime())
    held = select(accounts.c.account).where(accounts.c.status != "ok")
    due = (select(p.c.id)
           .where(and_(p.c.state.in_(_DUE_FROM), p.c.ready.is_(True),
                       p.c.scheduled_for <= bindparam("due_by", type_=UtcDateTime()), p.c.account.not_in(held)))
           .order_by(p.c.scheduled_for, p.c.id).limit(bindparam("limit", type_=Integer()))
           .with_for_update(skip_locked=True, of=p).cte("due"))
    returned = list(p.c) if whole_rows else [p.c.id, p.c.item_id, p.c.revision, p.c.previous_state, p.c.state,
                                              p.c.scheduled_for]
    moved = (update(p).where(and_(p.c.id.in_(select(due.c.id)), p.c.state.in_(_DUE_FROM)))
             .values(state=S.ENQUEUED.value, previous_state=p.c.state, enqueued_at=now, updated_at=now)
             .returning(*returned).cte("moved"))
    logged = logged_events(moved)
    columns = [moved.c[c.name] for c in p.c] if whole_rows else [moved.c.id, moved.c.scheduled_for]
    return select(*columns).add_cte(logged).order_by(moved.c.scheduled_for, moved.c.id)


#: ``localizations_to_request`` as one statement: pending localizations never requested or whose
#: request went stale, oldest first, locked with ``SKIP LOCKED``, marked requested now.
_REQUEST_LOCALIZATIONS = text("""
WITH picked AS (
    SELECT item_id, revision, locale, created_at FROM localizations
    WHERE state = 'pending' AND (requested_at IS NULL OR requested_at < :stale_before)
    ORDER BY created_at LIMIT :limit
    FOR UPDATE SKIP LOCKED
), marked AS (
    UPDATE localizations l SET requested_at = :now
    FROM picked WHERE l.item_id = picked.item_id AND l.revision = picked.revision AND l.locale = picked.locale
    RETURNING l.item_id, l.revision, l.locale, picked.created_at
)
SELECT item_id, revision, locale FROM marked ORDER BY created_at
""").bindparams(bindparam("now", type_=UtcDateTime()), bindparam("stale_before", type_=UtcDateTime())).columns(
    item_id=String(), revision=Integer(), locale=String())


#: ``mark_localizations_requested`` for an active item revision only, saying whether it is active.
_REQUEST_IF_ACTIVE = text("""
WITH active AS (
    SELECT 1 FROM items WHERE item_id = :item_id AND revision = :revision AND state = 'active'
), marked AS (
    UPDATE localizations SET requested_at = :now
    WHERE item_id = :item_id AND revision = :revision AND state = 'pending'
      AND (requested_at IS NULL OR requested_at < :fresh_before) AND EXISTS (SELECT 1 FROM active)
    RETURNING locale
)
SELECT EXISTS (SELECT 1 FROM active) AS active, (SELECT array_agg(locale) FROM marked) AS locales
""").bindparams(bindparam("now", type_=UtcDateTime()), bindparam("fresh_before", type_=UtcDateTime())).columns(
    active=Boolean(), locales=ARRAY(String()))


#: Whether each of the dispatcher's sweeps would find a row (the conditions of ``stale_enqueued``,
#: ``expired_claims`` and ``stale_in_doubt``).
_SWEEPS_DUE = text("""
SELECT
    EXISTS (SELECT 1 FROM publications WHERE state = 'enqueued' AND enqueued_at < :stale_before) AS stale_enqueued,
    EXISTS (SELECT 1 FROM publications WHERE state = 'calling' AND lease_until < :now) AS expired_claims,
    EXISTS (SELECT 1 FROM publications WHERE state = 'in_doubt' AND updated_at < :stale_before) AS stale_in_doubt,
    EXISTS (SELECT 1 FROM operations WHERE (state = 'calling' AND lease_until < :now)
            OR (state IN ('pending', 'retrying', 'in_doubt') AND scheduled_for <= :now
                AND updated_at < :stale_before)) AS operations_to_resend
""").bindparams(bindparam("now", type_=UtcDateTime()), bindparam("stale_before", type_=UtcDateTime())).columns(
    stale_enqueued=Boolean(), expired_claims=Boolean(), stale_in_doubt=Boolean(), operations_to_resend=Boolean())


#: Take the localize claim (a ``state_kv`` row, as ``claim_localization`` keeps it) when the
#: localization is not done and its item is active; free or ours or past its lease: taken.
_CLAIM_LOCALIZATION = text("""
WITH cand AS (
    SELECT l.state AS loc_state, i.state AS item_state
    FROM localizations l JOIN items i ON i.item_id = l.item_id AND i.revision = l.revision
    WHERE l.item_id = :item_id AND l.revision = :revision AND l.locale = :locale
), took AS (
    INSERT INTO state_kv (namespace, key, value, version, updated_at)
    SELECT 'localize-claim', :key, :value, 1, :now FROM cand
    WHERE cand.loc_state <> 'done' AND cand.item_state = 'active'
    ON CONFLICT (namespace, key) DO UPDATE
        SET value = excluded.value, version = state_kv.version + 1, updated_at = excluded.updated_at
        WHERE (state_kv.value ->> 'owner') = :owner
           OR (state_kv.value ->> 'until')::timestamptz <= :now
    RETURNING 1
)
SELECT cand.loc_state, cand.item_state, EXISTS (SELECT 1 FROM took) AS claimed FROM cand
""").bindparams(bindparam("value", type_=JSON()), bindparam("now", type_=UtcDateTime())).columns(
    loc_state=String(), item_state=String(), claimed=Boolean())

#: A finished localization: the row, its ``localized`` event, its waiting publications made ready
#: (not first comments: they wait for their post),
#: and the worker's claim given up, as ``record_localization`` does in a transaction.
_RECORD_LOCALIZATION = text("""
WITH released AS (
    DELETE FROM state_kv
    WHERE namespace = 'localize-claim' AND key = :key AND (value ->> 'owner') = :owner
    RETURNING 1
), done AS (
    UPDATE localizations
    SET state = 'done', fields = :fields, sources = :sources, engine = :engine, error = NULL,
        attempts = attempts + 1, updated_at = :now, detail = :detail
    WHERE item_id = :item_id AND revision = :revision AND locale = :locale AND state IN ('pending', 'failed')
    RETURNING item_id, revision
), logged AS (
    INSERT INTO events (at, publication_id, item_id, revision, kind, from_state, to_state, actor, error, detail)
    SELECT :now, NULL, done.item_id, done.revision, 'localized', NULL, NULL, :actor, NULL, :ev_detail FROM done
    RETURNING 1
), ready AS (
    UPDATE publications SET ready = true, updated_at = :now
    WHERE item_id = :item_id AND revision = :revision AND locale = :locale AND state = 'scheduled'
      AND parent_id IS NULL AND EXISTS (SELECT 1 FROM done)
    RETURNING 1
)
SELECT (SELECT count(*) FROM done) AS recorded, (SELECT count(*) FROM ready) AS released
""").bindparams(bindparam("fields", type_=JSON()), bindparam("sources", type_=JSON()),
                bindparam("detail", type_=JSON()), bindparam("ev_detail", type_=JSON()),
                bindparam("now", type_=UtcDateTime())).columns(recorded=Integer(), released=Integer())


class HotPathStore(LocalizationStore):
    """One statement per step for the pipeline's common case; see the module docstring."""

    @property
    def hot_path(self) -> bool:
        """Whether the one-statement steps apply to this ledger (PostgreSQL, producer webhooks off)."""
        return self.dialect == "postgresql" and self.outbox is None

    def claim_ready(self, pub_id: int, *, worker: str, lease: timedelta, accounts: Sequence[str]
                    ) -> tuple[Publication, dict[str, Any] | None] | None:
        """Claim publication ``pub_id`` if nothing the publish step checks first would stop it.

        Claimed when it is ``enqueued`` or ``retrying``, due now, of an account in ``accounts``
        (the configured ones) that is not held, and of an item revision that has not expired.
        Writes the ``claimed`` event, as :meth:`claim` does.

        Returns:
            The claimed publication and its localization (``{"state", "fields"}``, None when
            there is none), or None when it was not claimed (or :attr:`hot_path` is off): the
            caller then reads the row and decides as the general path does.
        """
        if not self.hot_path:
            return None
        now = self.now()
        params = {"pub_id": pub_id, "now": now, "due_by": now, "accounts": list(accounts),
                  "v_claimed_at": now, "v_claimed_by": worker, "v_lease_until": now + lease,
                  "ev_at": now, "ev_kind": "claimed", "ev_actor": worker[:200], "ev_error": None, "ev_detail": None}
        with self._reader.connect() as conn:
            row = conn.execute(_claim_ready(), params).mappings().first()
        if row is None:
            return None
        loc = None if row["loc_state"] is None else {"state": row["loc_state"], "fields": row["loc_fields"]}
        return _pub(row), loc

    def claim_pending_localization(self, item_id: str, revision: int, locale: str, *, worker: str,
                                   lease: timedelta) -> tuple[bool, str | None, str | None] | None:
        """Take the localize claim of (item, revision, locale) if it is still to be done and its
        item is active, reading both states in the same statement.

        The claim is the one :meth:`claim_localization` takes: free, already ``worker``'s, or past
        its holder's lease. Returns ``(claimed, localization state, item state)`` (the states None
        when there is no such localization), or None when :attr:`hot_path` is off.
        """
        if not self.hot_path:
            return None
        now = self.now()
        key = f"{item_id}/{revision}/{locale}"
        params = {"item_id": item_id, "revision": revision, "locale": locale, "key": key, "owner": worker,
                  "value": {"owner": worker, "until": (now + lease).isoformat()}, "now": now}
        with self._reader.connect() as conn:
            row = conn.execute(_CLAIM_LOCALIZATION, params).first()
        if row is None:
            return False, None, None
        return bool(row.claimed), row.loc_state, row.item_state

    def record_localization_released(self, item_id: str, revision: int, locale: str, *,
                                     fields: Mapping[str, str], sources: Mapping[str, str], engine: str,
                                     actor: str, release_claim_of: str, warnings: Sequence[str] = (),
                                     detail: Mapping[str, Any] | None = None) -> int | None:
        """:meth:`record_localization` without review, in one statement: the localization, its
        ``localized`` event, its waiting publications made ready, ``release_claim_of``'s claim
        given up. Returns the number of publications released, or None when :attr:`hot_path`
        is off (the caller uses :meth:`record_localization`)."""
        if not self.hot_path:
            return None
        ev_detail = {"locale": locale, "engine": engine, "sources": dict(sources), "warnings": list(warnings),
                     **({"translation": dict(detail)} if detail else {})}
        params = {"item_id": item_id, "revision": revision, "locale": locale,
                  "key": f"{item_id}/{revision}/{locale}", "owner": release_claim_of,
                  "fields": dict(fields), "sources": dict(sources), "engine": engine,
                  "detail": dict(detail) if detail else None, "now": self.now(), "actor": actor[:200],
                  "ev_detail": ev_detail}
        with self._reader.connect() as conn:
            row = conn.execute(_RECORD_LOCALIZATION, params).first()
        return int(row.released) if row is not None and row.recorded else 0

    def request_localizations_if_active(self, item_id: str, revision: int, *, fresh_within: timedelta
                                        ) -> tuple[bool, list[str]] | None:
        """If the item revision is active, :meth:`mark_localizations_requested` (with ``fresh_within``),
        in one statement: ``(active, locales marked)``, the locales sorted; None when :attr:`hot_path`
        is off."""
        if not self.hot_path:
            return None
        now = self.now()
        with self._reader.connect() as conn:
            row = conn.execute(_REQUEST_IF_ACTIVE, {"item_id": item_id, "revision": revision, "now": now,
                                                    "fresh_before": now - fresh_within}).one()
        return bool(row.active), sorted(row.locales or [])

    # -- the dispatcher ---------------------------------------------------------------------

    def take_due(self, *, horizon: timedelta, limit: int, actor: str) -> list[Publication]:
        """:meth:`PublicationStore.take_due <syndicate.ledger.publications.PublicationStore.take_due>`,
        in one statement where :attr:`hot_path` applies (the same rows, states and events)."""
        if not self.hot_path:
            return super().take_due(horizon=horizon, limit=limit, actor=actor)
        now = self.now()
        params = {"now": now, "due_by": now + horizon, "limit": limit, "ev_at": now, "ev_kind": "enqueued",
                  "ev_actor": actor[:200], "ev_error": None, "ev_detail": None}
        with self._reader.connect() as conn:
            return [_pub(r) for r in conn.execute(_take_due(True), params).mappings()]

    def take_due_times(self, *, horizon: timedelta, limit: int, actor: str) -> list[tuple[int, datetime]]:
        """:meth:`take_due`, returning only each publication's id and due time, oldest first: what
        the dispatcher needs to send it, without reading back and decoding whole rows."""
        if not self.hot_path:
            return [(p.id, p.scheduled_for) for p in self.take_due(horizon=horizon, limit=limit, actor=actor)]
        now = self.now()
        params = {"now": now, "due_by": now + horizon, "limit": limit, "ev_at": now, "ev_kind": "enqueued",
                  "ev_actor": actor[:200], "ev_error": None, "ev_detail": None}
        with self._reader.connect() as conn:
            return [(r[0], r[1]) for r in conn.execute(_take_due(False), params)]

    def localizations_to_request(self, *, stale_after: timedelta, limit: int) -> list[tuple[str, int, str]]:
        """:meth:`LocalizationStore.localizations_to_request
        <syndicate.ledger.localizations.LocalizationStore.localizations_to_request>`, in one
        statement where :attr:`hot_path` applies."""
        if not self.hot_path:
            return super().localizations_to_request(stale_after=stale_after, limit=limit)
        now = self.now()
        with self._reader.connect() as conn:
            rows = conn.execute(_REQUEST_LOCALIZATIONS, {"now": now, "stale_before": now - stale_after,
                                                          "limit": limit}).all()
        return [(r.item_id, r.revision, r.locale) for r in rows]

    def sweeps_due(self, *, older_than: timedelta) -> tuple[bool, bool, bool, bool] | None:
        """Whether :meth:`stale_enqueued`, :meth:`expired_claims`, :meth:`stale_in_doubt` and
        :meth:`operations_to_resend` (each with ``older_than`` where it takes one) would find
        anything, in one statement; None when :attr:`hot_path` is off (the caller runs all four)."""
        if not self.hot_path:
            return None
        now = self.now()
        with self._reader.connect() as conn:
            row = conn.execute(_SWEEPS_DUE, {"now": now, "stale_before": now - older_than}).one()
        return (bool(row.stale_enqueued), bool(row.expired_claims), bool(row.stale_in_doubt),
                bool(row.operations_to_resend))
