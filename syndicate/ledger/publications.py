"""Publications and their transitions: the rows the pipeline moves from planned to published.

Every state change goes through :meth:`PublicationStore.transition` (or a method built on it),
which checks the transition against :mod:`syndicate.model.states`, applies it with a conditional
``UPDATE`` (``WHERE id = :id AND state IN (:expected)``) and writes an ``events`` row (and the
producer webhooks' ``notifications`` rows) in the same transaction. A conditional update that
matches no row means someone else moved the publication first: the caller acknowledges and does
nothing (claim → call → record, ARCHITECTURE.md).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, bindparam, false, func, insert, literal, or_, select, update

from ..base.secrets import redact
from ..model.states import ALLOWED, OPEN_STATES, PublicationState
from .core import LedgerCore
from .records import Publication
from .records import publication_from_row as _pub
from .schema import accounts, events, notifications, publications

__all__ = ["PublicationStore"]

S = PublicationState

# Statements run for every publication, built once with bound parameters: building a statement
# and its cache key on each call costs about a third of a one-row read (docs/performance.md).
_PUBLICATION_BY_ID = select(publications).where(publications.c.id == bindparam("pub_id"))
_PREVIOUS_REMOTE_ID = (
    select(publications.c.remote_id).where(and_(
        publications.c.item_id == bindparam("item_id"), publications.c.revision < bindparam("revision"),
        publications.c.locale == bindparam("locale"), publications.c.account == bindparam("account"),
        publications.c.slot == bindparam("slot"), publications.c.state == S.PUBLISHED.value,
        publications.c.parent_id.is_(None)))  # a post's, never its first comment's
    .order_by(publications.c.revision.desc()).limit(1))
#: The metrics gauge, read at every scrape.
_COUNT_BY_STATE_AND_CHANNEL = (select(publications.c.state, publications.c.channel, func.count())
                               .group_by(publications.c.state, publications.c.channel))


#: A post reaching one of these states releases (published) or ends (the others) its first comments.
_SETTLES_COMMENTS = frozenset({S.PUBLISHED, S.FAILED, S.SKIPPED, S.CANCELLED})
#: The states that end a post's first comments: those transitions take a transaction on PostgreSQL too.
_ENDS_COMMENTS = _SETTLES_COMMENTS - {S.PUBLISHED}
#: The event kind of a first comment released by its published post.
_RELEASED = "released"


@dataclass(frozen=True)
class _Shape:
    """What a transition's statement depends on (its values are bound parameters)."""

    to: str
    expected: tuple[str, ...]
    columns: tuple[str, ...]
    increment: tuple[str, ...]
    due_check: bool


@functools.lru_cache(maxsize=256)
def _transition_update(shape: _Shape) -> Any:
    """``UPDATE publications SET state = :to, previous_state = state, ... WHERE id = :pub_id AND (state
    = :a OR state = :b ...) RETURNING *``, built once per shape: building it (and its cache key) on
    every call costs more than the round trip it makes."""
    # The expected states as plain bound values, not ``IN``: an ``IN`` list is an expanding parameter,
    # which SQLAlchemy renders into the SQL again on every execution. No expected state: ``false``.
    expected = or_(false(), *(publications.c.state == s for s in shape.expected))
    cond = and_(publications.c.id == bindparam("pub_id"), expected)
    if shape.due_check:
        cond = and_(cond, publications.c.scheduled_for <= bindparam("due_by", type_=publications.c.scheduled_for.type))
    values: dict[str, Any] = {c: bindparam(f"v_{c}", type_=publications.c[c].type) for c in shape.columns}
    values.update({c: publications.c[c] + 1 for c in shape.increment})
    # SET expressions see the row as it was: previous_state gets the state this update replaces.
    return (update(publications).where(cond)
            .values(state=shape.to, previous_state=publications.c.state,
                    updated_at=bindparam("now", type_=publications.c.updated_at.type), **values)
            .returning(*publications.c))


@functools.lru_cache(maxsize=256)
def logged_events(moved: Any) -> Any:
    """The INSERT of one event per row of ``moved`` (a CTE of updated publications with their
    ``previous_state``), as a CTE: kind, actor, error and detail are the ``ev_*`` parameters."""
    return insert(events).from_select(
        ["at", "publication_id", "item_id", "revision", "kind", "from_state", "to_state", "actor", "error", "detail"],
        select(bindparam("ev_at", type_=events.c.at.type), moved.c.id, moved.c.item_id, moved.c.revision,
               bindparam("ev_kind", type_=events.c.kind.type), moved.c.previous_state, moved.c.state,
               bindparam("ev_actor", type_=events.c.actor.type), bindparam("ev_error", type_=events.c.error.type),
               bindparam("ev_detail", type_=events.c.detail.type))
    ).cte("logged")


@functools.lru_cache(maxsize=256)
def _transition_with_event(shape: _Shape) -> Any:
    """:func:`_transition_update` and the INSERT of its event in one statement (PostgreSQL), built
    once per shape like the update itself (built per call, it cost 2 ms of a publication's CPU)."""
    moved = _transition_update(shape).cte("moved")
    logged = logged_events(moved)
    out = select(*(moved.c[c.name] for c in publications.c)).add_cte(logged)
    if shape.to != S.PUBLISHED.value:
        return out
    # A published post releases its first comments in the same statement (see _settle_comments).
    released = (update(publications)
                .where(and_(publications.c.parent_id.in_(select(moved.c.id).where(moved.c.parent_id.is_(None))),
                            publications.c.state == S.SCHEDULED.value, publications.c.ready.is_(False)))
                .values(ready=True, scheduled_for=bindparam("rel_now", type_=publications.c.scheduled_for.type),
                        updated_at=bindparam("rel_now", type_=publications.c.updated_at.type))
                .returning(publications.c.id, publications.c.item_id, publications.c.revision)).cte("released")
    released_logged = insert(events).from_select(
        ["at", "publication_id", "item_id", "revision", "kind", "from_state", "to_state", "actor"],
        select(bindparam("ev_at", type_=events.c.at.type), released.c.id, released.c.item_id, released.c.revision,
               literal(_RELEASED), literal(S.SCHEDULED.value), literal(S.SCHEDULED.value),
               bindparam("ev_actor", type_=events.c.actor.type))
    ).cte("released_logged")
    return out.add_cte(released, released_logged)


class PublicationStore(LedgerCore):
    """Publications: reads, state transitions, and the dispatcher's queries."""

    # -- reads -----------------------------------------------------------------------------

    def _publications(self, conn: Connection, **filters: Any) -> list[Publication]:
        q = select(publications)
        for name, value in filters.items():
            if value is None:
                continue
            col = publications.c[name]
            q = q.where(col.in_(list(value)) if isinstance(value, list | tuple | set | frozenset) else col == value)
        q = q.order_by(publications.c.item_id, publications.c.revision, publications.c.locale,
                       publications.c.account, publications.c.slot)
        return [_pub(r) for r in conn.execute(q).mappings()]

    def publications(self, **filters: Any) -> list[Publication]:
        """Publications matching equality filters (``item_id=``, ``revision=``, ``state=[...]``, ...)."""
        with self._reader.connect() as conn:
            return self._publications(conn, **filters)

    def distinct_values(self, column: str, **filters: Any) -> list[Any]:
        """The distinct values of one ``publications`` column, sorted, with optional equality filters
        (what a filter such as ``--account`` may name)."""
        col = publications.c[column]
        q = select(col).distinct()
        for name, value in filters.items():
            if value is not None:
                q = q.where(publications.c[name] == value)
        with self._reader.connect() as conn:
            return sorted(conn.execute(q).scalars().all())

    def publication(self, pub_id: int) -> Publication | None:
        """One publication by row id."""
        with self._reader.connect() as conn:
            row = conn.execute(_PUBLICATION_BY_ID, {"pub_id": pub_id}).mappings().first()
        return _pub(row) if row else None

    def publication_by_key(self, key: str) -> Publication | None:
        """One publication by its unique key."""
        with self._reader.connect() as conn:
            row = conn.execute(select(publications).where(publications.c.key == key)).mappings().first()
        return _pub(row) if row else None

    def publications_by_utm_content(self, value: str) -> list[Publication]:
        """The publications whose ``utm`` has ``utm_content`` equal to ``value`` (normally one)."""
        q = (select(publications).where(publications.c.utm["utm_content"].as_string() == value)
             .order_by(publications.c.item_id, publications.c.revision, publications.c.locale,
                       publications.c.account, publications.c.slot))
        with self._reader.connect() as conn:
            return [_pub(r) for r in conn.execute(q).mappings()]

    def previous_remote_id(self, pub: Publication) -> str | None:
        """The remote id of the same item's published post on this account and slot in an earlier revision."""
        if pub.revision <= 1:
            return None  # revisions start at 1: there is no earlier one to look for
        with self._reader.connect() as conn:
            return conn.execute(_PREVIOUS_REMOTE_ID, {
                "item_id": pub.item_id, "revision": pub.revision, "locale": pub.locale, "account": pub.account,
                "slot": pub.slot}).scalar_one_or_none()

    def count_by_state(self, **filters: Any) -> dict[str, int]:
        """Number of publications per state, with optional equality filters."""
        q = select(publications.c.state, func.count()).group_by(publications.c.state)
        for name, value in filters.items():
            if value is not None:
                col = publications.c[name]
                q = q.where(col.in_(list(value)) if isinstance(value, list | tuple | set) else col == value)
        with self._reader.connect() as conn:
            return {r[0]: r[1] for r in conn.execute(q).all()}

    def count_by_state_and_channel(self) -> dict[tuple[str, str], int]:
        """Number of publications per ``(state, channel)`` (the metrics gauge)."""
        with self._reader.connect() as conn:
            return {(state, channel): n for state, channel, n in conn.execute(_COUNT_BY_STATE_AND_CHANNEL).all()}

    # -- transitions -----------------------------------------------------------------------

    def _transition_params(self, pub_id: int, to: PublicationState, expect: Iterable[PublicationState],
                           error: str | None, due_by: datetime | None, increment: Sequence[str],
                           values: dict[str, Any]) -> tuple[_Shape, dict[str, Any]]:
        """The shape of one transition's statement (:func:`_transition_update`) and its parameters.

        Raises:
            ValueError: a transition that :mod:`syndicate.model.states` does not allow.
        """
        expected = frozenset(PublicationState(s) for s in expect)
        illegal = expected - ALLOWED[to]
        if illegal:
            raise ValueError(f"illegal transition to {to.value} from {sorted(s.value for s in illegal)}")
        if error is not None:
            values["last_error"] = redact(error)[:4000]
        shape = _Shape(to.value, tuple(sorted(s.value for s in expected)), tuple(sorted(values)), tuple(increment),
                       due_by is not None)
        params = {f"v_{k}": v for k, v in values.items()}
        params.update(pub_id=pub_id, now=self.now(), due_by=due_by)
        return shape, params

    def _transition(self, conn: Connection, pub_id: int, to: PublicationState, expect: Iterable[PublicationState],
                    *, actor: str, error: str | None = None, kind: str = "transition",
                    detail: Mapping[str, Any] | None = None, due_by: datetime | None = None,
                    increment: Sequence[str] = (), **values: Any) -> Publication | None:
        shape, params = self._transition_params(pub_id, to, expect, error, due_by, increment, values)
        row = conn.execute(_transition_update(shape), params).mappings().first()
        if row is None:
            return None
        self._event(conn, kind=kind, actor=actor, publication_id=pub_id, item_id=row["item_id"],
                    revision=row["revision"], from_state=row["previous_state"], to_state=to.value, error=error,
                    detail=detail)
        pub = _pub(row)
        self._notify(conn, pub, row["previous_state"], kind, error)
        if to in _SETTLES_COMMENTS and pub.parent_id is None:
            self._settle_comments(conn, pub, to, actor=actor, error=error)
        return pub

    def _settle_comments(self, conn: Connection, post: Publication, to: PublicationState, *, actor: str,
                         error: str | None) -> None:
        """In the transaction of a post's change: its first comments waiting for it are released
        (the post is published: the dispatcher sends them now) or skipped (it failed or was
        skipped) or cancelled with it. A post in doubt leaves them waiting."""
        waiting = and_(publications.c.parent_id == post.id, publications.c.state == S.SCHEDULED.value,
                       publications.c.ready.is_(False))
        if to is S.PUBLISHED:
            now = self.now()
            for pid, item_id, revision in conn.execute(
                    update(publications).where(waiting)
                    .values(ready=True, scheduled_for=now, updated_at=now)
                    .returning(publications.c.id, publications.c.item_id, publications.c.revision)).all():
                self._event(conn, kind=_RELEASED, actor=actor, publication_id=pid, item_id=item_id,
                            revision=revision, from_state=S.SCHEDULED.value, to_state=S.SCHEDULED.value,
                            detail={"post": post.id, "post_remote_id": post.remote_id})
            return
        open_comments = conn.execute(select(publications.c.id).where(and_(
            publications.c.parent_id == post.id,
            publications.c.state.in_([s.value for s in OPEN_STATES])))).scalars().all()
        reason = f"its post was {to.value}" + (f": {error}" if error else "")
        for pid in open_comments:
            self._transition(conn, pid, S.CANCELLED if to is S.CANCELLED else S.SKIPPED, OPEN_STATES, actor=actor,
                             error=reason, kind="post-" + to.value)

    def _transition_alone(self, pub_id: int, to: PublicationState, expect: Iterable[PublicationState], *,
                          actor: str, error: str | None = None, kind: str = "transition",
                          detail: Mapping[str, Any] | None = None, due_by: datetime | None = None,
                          increment: Sequence[str] = (), **values: Any) -> Publication | None:
        """One transition in its own transaction: on PostgreSQL without producer webhooks, a single
        statement (the UPDATE and its event INSERT in one ``WITH``, atomic on its own, one round trip
        instead of five); otherwise :meth:`_transition` in a transaction. A post's first comments
        move with it or not at all: a published post releases them in the same statement; a post
        that fails, is skipped or cancelled takes the transaction, which ends them too."""
        if self.dialect != "postgresql" or self.outbox is not None or to in _ENDS_COMMENTS:
            with self.begin() as conn:
                return self._transition(conn, pub_id, to, expect, actor=actor, error=error, kind=kind,
                                        detail=detail, due_by=due_by, increment=increment, **values)
        shape, params = self._transition_params(pub_id, to, expect, error, due_by, increment, values)
        params.update(ev_at=params["now"], rel_now=params["now"], ev_kind=kind, ev_actor=actor[:200],
                      ev_error=redact(error) if error else None, ev_detail=dict(detail) if detail else None)
        stmt = _transition_with_event(shape)
        with self._reader.connect() as conn:
            row = conn.execute(stmt, params).mappings().first()
        return _pub(row) if row is not None else None

    def _notify(self, conn: Connection, pub: Publication, previous_state: str | None, kind: str,
                error: str | None) -> None:
        """Transactional outbox: queue lifecycle webhooks for this change in the same transaction."""
        if self.outbox is None:
            return
        rows = self.outbox.rows(pub, previous_state, kind, redact(error) if error else None, self.now())
        if rows:
            conn.execute(insert(notifications), rows)

    def transition(self, pub_id: int, to: PublicationState, *, expect: Iterable[PublicationState], actor: str,
                   error: str | None = None, kind: str = "transition", detail: Mapping[str, Any] | None = None,
                   **values: Any) -> Publication | None:
        """Move publication ``pub_id`` to ``to`` if it is in one of ``expect``; record an event.

        Args:
            pub_id: the publication's row id.
            to: the new state.
            expect: the states it may be in now; each must be allowed to reach ``to``.
            actor: who makes the change (worker id, ``cli:<user>``, ``dispatcher``).
            error: the error to record as ``last_error`` (redacted).
            kind: the event kind (``transition``, ``deferred``, ``replayed``, ...).
            detail: JSON details for the event.
            **values: other columns to set in the same update.

        Returns:
            The updated publication, or None when it was not in an expected state (someone else
            moved it first).

        Raises:
            ValueError: a transition that :mod:`syndicate.model.states` does not allow.
        """
        return self._transition_alone(pub_id, to, expect, actor=actor, error=error, kind=kind, detail=detail,
                                      **values)

    def claim(self, pub_id: int, *, worker: str, lease: timedelta) -> Publication | None:
        """Claim a due publication for calling its platform (``enqueued``/``retrying`` → ``calling``).

        Returns None when the row is not claimable: another worker owns it, it is done, or it is
        not due yet (a stray early message).
        """
        now = self.now()
        return self._transition_alone(
            pub_id, S.CALLING, (S.ENQUEUED, S.RETRYING), actor=worker, kind="claimed",
            due_by=now + timedelta(seconds=1), increment=("attempts",),
            claimed_by=worker, claimed_at=now, lease_until=now + lease)

    # -- dispatcher queries ----------------------------------------------------------------

    def take_due(self, *, horizon: timedelta, limit: int, actor: str) -> list[Publication]:
        """Move due, ready publications to ``enqueued`` and return them (oldest first).

        Due means ``scheduled`` or ``retrying`` with ``scheduled_for <= now + horizon``. Accounts
        whose status is not ``ok`` (``needs_credentials``, ``disabled``) are held. On PostgreSQL the
        rows are locked with ``FOR UPDATE SKIP LOCKED`` so concurrent dispatchers never take the same row.

        Set-based: one locking SELECT (on the ``state, scheduled_for`` index), one UPDATE of the
        whole batch and one multi-row INSERT of its events (one ``enqueued`` event per row, as
        :meth:`transition` writes), instead of three statements per row.
        """
        now = self.now()
        due_from = [S.SCHEDULED.value, S.RETRYING.value]
        held = select(accounts.c.account).where(accounts.c.status != "ok")
        q = (select(publications.c.id, publications.c.state)
             .where(and_(publications.c.state.in_(due_from),
                         publications.c.ready.is_(True),
                         publications.c.scheduled_for <= now + horizon,
                         publications.c.account.not_in(held)))
             .order_by(publications.c.scheduled_for, publications.c.id).limit(limit))
        if self.dialect == "postgresql":
            q = q.with_for_update(skip_locked=True, of=publications)
        with self.begin() as conn:
            before = {row.id: row.state for row in conn.execute(q).all()}
            if not before:
                return []
            rows = conn.execute(
                update(publications)
                .where(and_(publications.c.id.in_(list(before)), publications.c.state.in_(due_from)))
                .values(state=S.ENQUEUED.value, previous_state=publications.c.state, enqueued_at=now, updated_at=now)
                .returning(*publications.c)).mappings().all()
            out = sorted((_pub(r) for r in rows), key=lambda p: (p.scheduled_for, p.id))
            if out:
                conn.execute(insert(events), [
                    {"at": now, "publication_id": p.id, "item_id": p.item_id, "revision": p.revision,
                     "kind": "enqueued", "from_state": before[p.id], "to_state": S.ENQUEUED.value,
                     "actor": actor[:200], "error": None, "detail": None} for p in out])
            for p in out:
                self._notify(conn, p, before[p.id], "enqueued", None)
        return out

    def stale_enqueued(self, *, older_than: timedelta, limit: int, actor: str) -> list[Publication]:
        """Enqueued rows whose message has not been picked up for ``older_than``: refresh and return them.

        Their message was probably lost (a broker restart): the caller sends a new one. A duplicate
        message is harmless because the claim lets one through.
        """
        now = self.now()
        q = (select(publications.c.id)
             .where(and_(publications.c.state == S.ENQUEUED.value,
                         publications.c.enqueued_at < now - older_than))
             .order_by(publications.c.enqueued_at).limit(limit))
        if self.dialect == "postgresql":
            q = q.with_for_update(skip_locked=True, of=publications)
        out = []
        with self.begin() as conn:
            for pid in conn.execute(q).scalars().all():
                p = self._transition(conn, pid, S.ENQUEUED, (S.ENQUEUED,), actor=actor, kind="re-enqueued",
                                     enqueued_at=now)
                if p is not None:
                    out.append(p)
        return out

    def expired_claims(self, *, limit: int, actor: str) -> list[Publication]:
        """``calling`` rows whose lease has expired (a worker died mid-call): move them to ``in_doubt``."""
        now = self.now()
        q = (select(publications.c.id)
             .where(and_(publications.c.state == S.CALLING.value, publications.c.lease_until < now))
             .order_by(publications.c.lease_until).limit(limit))
        if self.dialect == "postgresql":
            q = q.with_for_update(skip_locked=True, of=publications)
        out = []
        with self.begin() as conn:
            for pid in conn.execute(q).scalars().all():
                p = self._transition(conn, pid, S.IN_DOUBT, (S.CALLING,), actor=actor, kind="lease-expired",
                                     error="the worker's claim expired during the call; the post may exist")
                if p is not None:
                    out.append(p)
        return out

    def stale_in_doubt(self, *, older_than: timedelta, limit: int) -> list[Publication]:
        """``in_doubt`` rows untouched for ``older_than`` (their reconcile message was lost or
        deferred): touch and return them, so the caller sends ``reconcile`` again."""
        now = self.now()
        q = (select(publications.c.id)
             .where(and_(publications.c.state == S.IN_DOUBT.value, publications.c.updated_at < now - older_than))
             .order_by(publications.c.updated_at).limit(limit))
        if self.dialect == "postgresql":
            q = q.with_for_update(skip_locked=True, of=publications)
        with self.begin() as conn:
            ids = conn.execute(q).scalars().all()
            if not ids:
                return []
            rows = conn.execute(update(publications)
                                .where(and_(publications.c.id.in_(ids), publications.c.state == S.IN_DOUBT.value))
                                .values(updated_at=now).returning(*publications.c)).mappings().all()
        return [_pub(r) for r in rows]

    def in_doubt(self, *, limit: int) -> list[Publication]:
        """Publications waiting for reconciliation."""
        with self._reader.connect() as conn:
            rows = conn.execute(select(publications).where(publications.c.state == S.IN_DOUBT.value)
                                .order_by(publications.c.updated_at).limit(limit)).mappings().all()
        return [_pub(r) for r in rows]

    def next_due_at(self) -> datetime | None:
        """When the next scheduled or retrying publication comes due."""
        with self._reader.connect() as conn:
            return conn.execute(select(func.min(publications.c.scheduled_for)).where(
                publications.c.state.in_([S.SCHEDULED.value, S.RETRYING.value]))).scalar_one_or_none()

    def account_post_times(self, account_ids: Sequence[str], *, since: datetime, exclude_item: str | None = None
                           ) -> dict[str, list[datetime]]:
        """Per account, the times of posts made or still planned at or after ``since`` (for ``min_gap``).

        A post's time is when it was published, else when it is scheduled. Cancelled, skipped and
        failed rows take no time. Open rows of ``exclude_item`` are left out: a new revision of
        that item replaces them.
        """
        if not account_ids:
            return {}
        gone = [S.CANCELLED.value, S.SKIPPED.value, S.FAILED.value]
        q = (select(publications.c.account, publications.c.scheduled_for, publications.c.published_at)
             .where(and_(publications.c.account.in_(list(account_ids)), publications.c.state.not_in(gone),
                         publications.c.parent_id.is_(None),
                         or_(publications.c.scheduled_for >= since, publications.c.published_at >= since))))
        if exclude_item is not None:
            q = q.where(or_(publications.c.item_id != exclude_item,
                            publications.c.state.not_in([s.value for s in OPEN_STATES])))
        out: dict[str, list[datetime]] = {}
        with self._reader.connect() as conn:
            for account, scheduled_for, published_at in conn.execute(q).all():
                when = published_at or scheduled_for
                if when >= since:
                    out.setdefault(account, []).append(when)
        for times in out.values():
            times.sort()
        return out

