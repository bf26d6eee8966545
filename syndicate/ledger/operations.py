"""Operations on posts that already went out: the deletes ``unpublish`` asks for, and the version
history of a publication across revisions.

A revision that reaches a published post is the new revision's own publication row (claim → call
→ record in :mod:`.publications`); a delete acts on a post that may stand for several of those rows
(every revision of a post updated in place), so it has a row of its own in ``operations``, with
its own states (:class:`~syndicate.model.states.OperationState`), each change written with its
event in one transaction. When a delete is done, the rows it stands for become ``unpublished``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, insert, select, update

from ..base.secrets import redact
from ..model.states import OPERATION_ALLOWED, OperationState, PublicationState
from .publications import PublicationStore
from .records import Publication
from .records import publication_from_row as _pub
from .schema import operations, publications

__all__ = ["DeleteTarget", "Operation", "OperationStore", "UnpublishPlan"]

OP = OperationState
S = PublicationState


@dataclass(frozen=True)
class Operation:
    """One row of ``operations``."""

    id: int
    kind: str
    item_id: str
    locale: str
    account: str
    channel: str
    remote_id: str
    publication_id: int
    publication_ids: list[int]
    state: str
    attempts: int
    failures: int
    last_error: str | None
    actor: str
    scheduled_for: datetime
    claimed_by: str | None
    lease_until: datetime | None
    created_at: datetime
    updated_at: datetime
    done_at: datetime | None


def _op(row: Any) -> Operation:
    return Operation(**{k: row[k] for k in Operation.__dataclass_fields__})


@dataclass(frozen=True)
class DeleteTarget:
    """A live post to delete: its newest publication row and every row it stands for."""

    publication: Publication
    publication_ids: list[int]


@dataclass(frozen=True)
class UnpublishPlan:
    """What :meth:`OperationStore.request_deletes` found and did.

    Attributes:
        created: deletes asked for now (their messages are to be sent).
        pending: deletes asked for earlier and not finished (in progress: no new call).
        done: deletes already done for these posts (a repeat: no call).
        unsupported: live posts on accounts whose channel cannot delete (left as they are).
    """

    created: list[Operation]
    pending: list[Operation]
    done: list[Operation]
    unsupported: list[Publication]


class OperationStore(PublicationStore):
    """Deletes of posts that went out, and the versions of a publication."""

    # -- versions ----------------------------------------------------------------------------

    def previous_version(self, pub: Publication) -> Publication | None:
        """The newest ``published`` row of the same item, locale, account and slot in an earlier
        revision: the post a new revision reaches (None when nothing of it is live)."""
        if pub.revision <= 1 or pub.parent_id is not None:  # a first comment is posted anew with its post
            return None
        q = (select(publications).where(and_(
            publications.c.item_id == pub.item_id, publications.c.revision < pub.revision,
            publications.c.locale == pub.locale, publications.c.account == pub.account,
            publications.c.slot == pub.slot, publications.c.state == S.PUBLISHED.value,
            publications.c.parent_id.is_(None)))
            .order_by(publications.c.revision.desc()).limit(1))
        with self._reader.connect() as conn:
            row = conn.execute(q).mappings().first()
        return _pub(row) if row else None

    # -- deletes -----------------------------------------------------------------------------

    def request_deletes(self, item_id: str, *, locale: str | None, account: str | None, actor: str,
                        can_delete: Callable[[str], bool], in_place: Callable[[str], bool],
                        publication_id: int | None = None) -> UnpublishPlan:
        """Ask for the delete of every live post of ``item_id`` (optionally one locale or account).

        A live post is a ``published`` row; on an account whose channel updates in place
        (``in_place(account)``), the rows of one locale and slot are one post (the newest row's
        id), otherwise each row is a post of its own (a reply in a thread, say). One ``delete``
        operation per post, in state ``pending``, with an ``unpublish-requested`` event on the
        newest row; a post that already has one is reported, not asked for again.

        Args:
            can_delete: whether an account's channel can delete posts; the others are reported.
            in_place: whether an account's channel updates posts in place (one post per slot).
            publication_id: only the post of this row (a replacement's previous version).
        """
        now = self.now()
        created: list[Operation] = []
        pending: list[Operation] = []
        done: list[Operation] = []
        unsupported: list[Publication] = []
        with self.begin() as conn:
            live = self._publications(conn, item_id=item_id, locale=locale, account=account,
                                      state=S.PUBLISHED.value, id=publication_id)
            for target in _targets(live, in_place):
                pub = target.publication
                if not pub.remote_id:
                    continue
                if not can_delete(pub.account):
                    unsupported.append(pub)
                    continue
                existing = conn.execute(select(operations).where(and_(
                    operations.c.account == pub.account, operations.c.remote_id == pub.remote_id,
                    operations.c.kind == "delete"))).mappings().first()
                if existing is not None:
                    op = _op(existing)
                    if op.state in (OP.PENDING, OP.CALLING, OP.RETRYING, OP.IN_DOUBT):
                        pending.append(op)
                        continue
                    if set(target.publication_ids) <= set(op.publication_ids) and op.state == OP.DONE:
                        done.append(op)
                        continue
                    # The post went out again under the same id (a feed entry), or an operator
                    # asks again after a failure: the same row is armed once more.
                    armed = self._move(conn, op.id, OP.PENDING, (OP.DONE, OP.FAILED, OP.UNCONFIRMED), actor=actor,
                                       kind="unpublish-requested", publication_ids=target.publication_ids,
                                       publication_id=pub.id, scheduled_for=now, failures=0, done_at=None)
                    if armed is not None:
                        created.append(armed)
                    continue
                row = conn.execute(insert(operations).values(
                    kind="delete", item_id=pub.item_id, locale=pub.locale, account=pub.account, channel=pub.channel,
                    remote_id=pub.remote_id, publication_id=pub.id, publication_ids=target.publication_ids,
                    state=OP.PENDING.value, attempts=0, failures=0, actor=actor[:200], scheduled_for=now,
                    created_at=now, updated_at=now).returning(*operations.c)).mappings().one()
                op = _op(row)
                self._event(conn, kind="unpublish-requested", actor=actor, publication_id=pub.id,
                            item_id=pub.item_id, revision=pub.revision,
                            detail={"operation": op.id, "remote_id": op.remote_id, "to": OP.PENDING.value,
                                    "publications": target.publication_ids})
                created.append(op)
        return UnpublishPlan(created, pending, done, unsupported)

    def operation(self, op_id: int) -> Operation | None:
        """One operation by id."""
        with self._reader.connect() as conn:
            row = conn.execute(select(operations).where(operations.c.id == op_id)).mappings().first()
        return _op(row) if row else None

    def operations(self, *, item_id: str | None = None, state: Iterable[str] | None = None) -> list[Operation]:
        """Operations, oldest first, optionally of one item or in some states."""
        q = select(operations).order_by(operations.c.id)
        if item_id is not None:
            q = q.where(operations.c.item_id == item_id)
        if state is not None:
            q = q.where(operations.c.state.in_([str(s) for s in state]))
        with self._reader.connect() as conn:
            return [_op(r) for r in conn.execute(q).mappings()]

    def _move(self, conn: Connection, op_id: int, to: OperationState, expect: Iterable[OperationState], *,
              actor: str, kind: str, error: str | None = None, detail: dict[str, Any] | None = None,
              increment: tuple[str, ...] = (), **values: Any) -> Operation | None:
        expected = frozenset(OperationState(s) for s in expect)
        illegal = expected - OPERATION_ALLOWED[to]
        if illegal:
            raise ValueError(f"illegal operation transition to {to.value} from {sorted(s.value for s in illegal)}")
        before = conn.execute(select(operations.c.state).where(operations.c.id == op_id)).scalar_one_or_none()
        now = self.now()
        sets: dict[str, Any] = {"state": to.value, "updated_at": now, **values}
        sets.update({c: operations.c[c] + 1 for c in increment})
        if error is not None:
            sets["last_error"] = redact(error)[:4000]
        row = conn.execute(update(operations)
                           .where(and_(operations.c.id == op_id, operations.c.state.in_([s.value for s in expected])))
                           .values(**sets).returning(*operations.c)).mappings().first()
        if row is None:
            return None
        op = _op(row)
        self._event(conn, kind=kind, actor=actor, publication_id=op.publication_id, item_id=op.item_id,
                    error=error, detail={"operation": op.id, "remote_id": op.remote_id, "from": before,
                                         "to": to.value, **(detail or {})})
        return op

    def move_operation(self, op_id: int, to: OperationState, *, expect: Iterable[OperationState], actor: str,
                       kind: str, error: str | None = None, detail: dict[str, Any] | None = None,
                       **values: Any) -> Operation | None:
        """Move operation ``op_id`` to ``to`` if it is in one of ``expect``, with its event; None when
        it was not (someone else moved it first).

        Raises:
            ValueError: a transition :data:`~syndicate.model.states.OPERATION_ALLOWED` forbids.
        """
        with self.begin() as conn:
            return self._move(conn, op_id, to, expect, actor=actor, kind=kind, error=error, detail=detail,
                              **values)

    def claim_operation(self, op_id: int, *, worker: str, lease: timedelta) -> Operation | None:
        """``pending``/``retrying`` → ``calling`` with a lease, if due; None when not claimable."""
        now = self.now()
        with self.begin() as conn:
            due = conn.execute(select(operations.c.scheduled_for).where(operations.c.id == op_id)).scalar_one_or_none()
            if due is None or due > now + timedelta(seconds=1):
                return None
            return self._move(conn, op_id, OP.CALLING, (OP.PENDING, OP.RETRYING), actor=worker,
                              kind="unpublish-claimed", increment=("attempts",), claimed_by=worker[:200],
                              lease_until=now + lease)

    def finish_operation(self, op_id: int, *, expect: Iterable[OperationState], actor: str, kind: str,
                         detail: dict[str, Any] | None = None) -> Operation | None:
        """The post is gone: the operation is ``done`` and the rows it stands for ``unpublished``, with
        their events, in one transaction. None when the operation was not in ``expect``."""
        with self.begin() as conn:
            op = self._move(conn, op_id, OP.DONE, expect, actor=actor, kind=kind, detail=detail,
                            done_at=self.now(), lease_until=None, last_error=None)
            if op is None:
                return None
            for pid in op.publication_ids:
                self._transition(conn, pid, S.UNPUBLISHED, (S.PUBLISHED,), actor=actor, kind="unpublished",
                                 detail={"operation": op.id, "remote_id": op.remote_id})
        return op

    def operations_to_resend(self, *, older_than: timedelta, limit: int, actor: str) -> list[Operation]:
        """Operations whose message may be lost: due ``pending``/``retrying`` rows untouched for
        ``older_than``, and ``in_doubt`` ones; ``calling`` rows whose lease expired go ``in_doubt``
        first (the worker died mid-call). Touched, and returned for the caller to send again."""
        now = self.now()
        out: list[Operation] = []
        with self.begin() as conn:
            expired = conn.execute(select(operations.c.id).where(and_(
                operations.c.state == OP.CALLING.value, operations.c.lease_until < now)).limit(limit)).scalars().all()
            for op_id in expired:
                self._move(conn, op_id, OP.IN_DOUBT, (OP.CALLING,), actor=actor, kind="unpublish-lease-expired",
                           error="the worker's claim expired during the delete; the post may be gone")
            stale = conn.execute(select(operations.c.id).where(and_(
                operations.c.state.in_([OP.PENDING.value, OP.RETRYING.value, OP.IN_DOUBT.value]),
                operations.c.scheduled_for <= now, operations.c.updated_at < now - older_than))
                .order_by(operations.c.updated_at).limit(limit)).scalars().all()
            if stale:
                rows = conn.execute(update(operations).where(operations.c.id.in_(list(stale)))
                                    .values(updated_at=now).returning(*operations.c)).mappings().all()
                out = [_op(r) for r in rows]
            if expired:
                rows = conn.execute(select(operations).where(operations.c.id.in_(list(expired)))).mappings().all()
                out.extend(_op(r) for r in rows if r["state"] == OP.IN_DOUBT.value and r["id"] not in stale)
        return out


def _targets(live: list[Publication], in_place: Callable[[str], bool]) -> list[DeleteTarget]:
    """The posts behind ``published`` rows: one per (locale, account, slot) on channels that update
    in place (the newest post row, standing for all its rows and for its first comments, which go
    with the post), one per row elsewhere (a first comment there is a post of its own: an X reply
    outlives its parent)."""
    chains: dict[tuple[str, str, int], list[Publication]] = {}
    comments: dict[tuple[str, str, int], list[int]] = {}
    for p in live:
        key = (p.locale, p.account, p.slot)
        if p.parent_id is not None and in_place(p.account):
            comments.setdefault(key, []).append(p.id)
        else:
            chains.setdefault(key, []).append(p)
    out: list[DeleteTarget] = []
    for key, rows in sorted(chains.items()):
        rows.sort(key=lambda p: p.revision)
        if in_place(key[1]):
            out.append(DeleteTarget(rows[-1], [p.id for p in rows] + comments.get(key, [])))
        else:
            out.extend(DeleteTarget(p, [p.id]) for p in rows)
    return out
