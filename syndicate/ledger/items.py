"""Items: each revision a producer submitted, with its planned publications.

A revision's content never changes once stored (a resubmission with other content is refused), so
publishing parses and validates it once per process (:class:`ContentCache`); its state (active,
superseded, cancelled) does change and is read fresh.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, bindparam, insert, select, update

from ..errors import ContentError, NotOwner
from ..model.item import ContentItem, stored_item
from ..model.states import OPEN_STATES, PublicationState
from .publications import PublicationStore
from .records import NewPublication, Publication
from .schema import items, localizations, publications

__all__ = ["CONTENT_CACHE_BYTES", "CONTENT_CACHE_ITEMS", "ContentCache", "ItemStore", "StoredItem", "SubmitOutcome"]

S = PublicationState

#: Parsed item revisions kept per process (:meth:`ItemStore.item_content`): at most this many, and
#: at most this many bytes of their stored JSON (an item may be up to 1 MiB).
CONTENT_CACHE_ITEMS = 1024
CONTENT_CACHE_BYTES = 32 * 1024 * 1024

# Read for every publication, built once with bound parameters (docs/performance.md).
_ITEM_REVISION = select(items).where(and_(items.c.item_id == bindparam("item_id"),
                                          items.c.revision == bindparam("revision")))
_ITEM_PAYLOAD = select(items.c.payload).where(and_(items.c.item_id == bindparam("item_id"),
                                                   items.c.revision == bindparam("revision")))


@dataclass(frozen=True)
class StoredItem:
    """One row of ``items``, with the item parsed back."""

    item: ContentItem
    state: str
    received_at: datetime
    content_hash: str


@dataclass(frozen=True)
class SubmitOutcome:
    """What :meth:`ItemStore.submit` did: ``created``, or ``unchanged`` for a repeat submission."""

    status: str
    item_id: str
    revision: int
    publications: list[Publication]
    superseded: list[int]


class ContentCache:
    """Parsed item revisions by ``(item_id, revision)``, least recently used out first; bounded by
    :data:`CONTENT_CACHE_ITEMS` entries and :data:`CONTENT_CACHE_BYTES` of stored JSON. Thread-safe."""

    def __init__(self) -> None:
        self._entries: OrderedDict[tuple[str, int], tuple[ContentItem, int]] = OrderedDict()
        self._lock = threading.Lock()
        #: The stored JSON size of the entries kept, in bytes.
        self.bytes = 0

    def __iter__(self) -> Iterator[tuple[str, int]]:
        """The keys kept, least recently used first."""
        with self._lock:
            return iter(list(self._entries))

    def get(self, key: tuple[str, int]) -> ContentItem | None:
        """The cached content for ``key``, marked as just used; None when not kept."""
        with self._lock:
            cached = self._entries.get(key)
            if cached is None:
                return None
            self._entries.move_to_end(key)
            return cached[0]

    def put(self, key: tuple[str, int], content: ContentItem, size: int) -> None:
        """Keep ``content`` (whose stored JSON is ``size`` bytes) unless it alone would take a
        quarter of the budget; drop the least recently used entries beyond the bounds."""
        with self._lock:
            if key not in self._entries and size <= CONTENT_CACHE_BYTES // 4:
                self._entries[key] = (content, size)
                self.bytes += size
            while len(self._entries) > CONTENT_CACHE_ITEMS or self.bytes > CONTENT_CACHE_BYTES:
                self.bytes -= self._entries.popitem(last=False)[1][1]


class ItemStore(PublicationStore):
    """Items: submission (with the plan, in one transaction), reads, cancellation."""

    #: Parsed revisions of this ledger (made by the :class:`~syndicate.ledger.Ledger` constructor).
    _contents: ContentCache

    def submit(self, item: ContentItem, plan: Sequence[NewPublication], *, actor: str,
               producer: str | None = None) -> SubmitOutcome:
        """Store ``item`` and its planned publications in one transaction.

        The same id and revision again is a no-op that returns the existing plan. A higher
        revision supersedes the older ones: their open publications are cancelled (published
        ones stay). A lower revision than one already stored is refused.

        The item's owner is who submitted its first revision: ``producer``, else ``actor``.
        With ``producer`` (a producer's identity, ``api:<token name>``), a new revision of an
        item someone else owns is refused; without it the caller is an operator, who may.

        Raises:
            NotOwner: ``producer`` does not own the item.
            ContentError: stale revision, or the same revision with different content.
        """
        now = self.now()
        content_hash = item.content_hash()
        with self.begin() as conn:
            rows = conn.execute(
                select(items.c.revision, items.c.content_hash, items.c.state, items.c.owner)
                .where(items.c.item_id == item.id)
                .order_by(items.c.revision.desc())
            ).all()
            owner = rows[0].owner if rows else (producer or actor)
            if rows and producer is not None and owner != producer:
                raise NotOwner("was submitted by another producer: only that producer, a token with the admin "
                               "scope or an operator may submit revisions of it", item_id=item.id)
            for row in rows:
                if row.revision == item.revision:
                    if row.content_hash != content_hash:
                        raise ContentError(
                            f"revision {item.revision} was already submitted with different content; "
                            "submit the edit as a higher revision", item_id=item.id, field="revision")
                    pubs = self._publications(conn, item_id=item.id, revision=item.revision)
                    return SubmitOutcome("unchanged", item.id, item.revision, pubs, [])
            if rows and rows[0].revision > item.revision:
                raise ContentError(f"revision {item.revision} is older than revision {rows[0].revision}, "
                                   "which was already submitted", item_id=item.id, field="revision")
            superseded: list[int] = []
            for row in rows:
                if row.state == "active":
                    conn.execute(update(items).where(and_(items.c.item_id == item.id,
                                                          items.c.revision == row.revision))
                                 .values(state="superseded", updated_at=now))
                    open_ids = conn.execute(
                        select(publications.c.id).where(and_(
                            publications.c.item_id == item.id, publications.c.revision == row.revision,
                            publications.c.state.in_([s.value for s in OPEN_STATES])))
                    ).scalars().all()
                    for pid in open_ids:
                        if self._transition(conn, pid, S.CANCELLED, OPEN_STATES, actor=actor,
                                            error=f"superseded by revision {item.revision}", kind="superseded"):
                            superseded.append(pid)
            conn.execute(insert(items).values(
                item_id=item.id, revision=item.revision, payload=item.model_dump(mode="json"),
                content_hash=content_hash, campaign=item.campaign, state="active",
                received_at=now, updated_at=now, owner=owner))
            self._event(conn, kind="item.received", actor=actor, item_id=item.id, revision=item.revision,
                        detail={"publications": len(plan), "superseded": len(superseded)})
            for loc in sorted({p.locale for p in plan if p.state != S.SKIPPED}):
                conn.execute(insert(localizations).values(
                    item_id=item.id, revision=item.revision, locale=loc, state="pending", attempts=0,
                    created_at=now, updated_at=now))
            post_ids: dict[str, int] = {}
            for p in plan:
                parent_id = None
                if p.first_comment:
                    parent_id = post_ids.get(p.post_key(item.id, item.revision))
                    if parent_id is None:
                        raise ValueError(f"first comment {p.key(item.id, item.revision)} planned before its post")
                res = conn.execute(insert(publications).values(parent_id=parent_id,
                    key=p.key(item.id, item.revision), item_id=item.id, revision=item.revision,
                    locale=p.locale, account=p.account, slot=p.slot, region=p.region, channel=p.channel,
                    campaign=item.campaign, state=p.state.value, ready=False, scheduled_for=p.scheduled_for,
                    planned_for=p.scheduled_for, attempts=0, failures=0, deferrals=0,
                    last_error=p.reason, tagged_url=p.tagged_url, utm=p.utm, created_at=now, updated_at=now,
                ).returning(publications.c.id))
                pid = res.scalar_one()
                if not p.first_comment:
                    post_ids[p.key(item.id, item.revision)] = pid
                self._event(conn, kind="planned", actor=actor, publication_id=pid, item_id=item.id,
                            revision=item.revision, to_state=p.state.value, error=p.reason,
                            detail={"scheduled_for": p.scheduled_for.isoformat()})
            pubs = self._publications(conn, item_id=item.id, revision=item.revision)
            for pub in pubs:
                self._notify(conn, pub, None, "planned", pub.last_error)
        return SubmitOutcome("created", item.id, item.revision, pubs, superseded)

    def item(self, item_id: str, revision: int | None = None) -> StoredItem | None:
        """The stored item (newest revision unless ``revision`` is given), or None."""
        with self._reader.connect() as conn:
            if revision is not None:
                row = conn.execute(_ITEM_REVISION, {"item_id": item_id, "revision": revision}).mappings().first()
            else:
                row = conn.execute(select(items).where(items.c.item_id == item_id)
                                   .order_by(items.c.revision.desc()).limit(1)).mappings().first()
        if row is None:
            return None
        return StoredItem(self._content(row["item_id"], row["revision"], row["payload"]), row["state"],
                          row["received_at"], row["content_hash"])

    def item_content(self, item_id: str, revision: int) -> ContentItem | None:
        """The content of one stored revision, or None; cached, as a revision's content never changes.

        Its state (active, superseded, cancelled) does change: read that with :meth:`item`.
        """
        cached = self._contents.get((item_id, revision))
        if cached is not None:
            return cached
        with self._reader.connect() as conn:
            payload = conn.execute(_ITEM_PAYLOAD, {"item_id": item_id, "revision": revision}).scalar_one_or_none()
        return None if payload is None else self._content(item_id, revision, payload)

    def _content(self, item_id: str, revision: int, payload: Any) -> ContentItem:
        """``payload`` validated as a ContentItem, once per revision (kept in a bounded LRU cache)."""
        key = (item_id, revision)
        cached = self._contents.get(key)
        if cached is not None:
            return cached
        content = stored_item(payload)
        self._contents.put(key, content, len(json.dumps(payload, separators=(",", ":"), default=str)))
        return content

    def item_expires_at(self, item_id: str, revision: int) -> datetime | None:
        """The revision's ``expires_at`` (checked at every claim), or None."""
        content = self.item_content(item_id, revision)
        return content.expires_at.astimezone(UTC) if content is not None and content.expires_at else None

    def cancel_item(self, item_id: str, *, actor: str, locale: str | None = None, account: str | None = None,
                    reason: str = "cancelled by operator", producer: str | None = None) -> list[int]:
        """Cancel every open publication of the item's active revision (optionally one locale/account).

        With ``producer`` (a producer's identity), an item someone else owns is refused.

        Raises:
            NotOwner: ``producer`` does not own the item.
        """
        with self.begin() as conn:
            if producer is not None:
                owner = conn.execute(select(items.c.owner).where(items.c.item_id == item_id)
                                     .order_by(items.c.revision.desc()).limit(1)).scalar_one_or_none()
                if owner != producer:
                    raise NotOwner("was submitted by another producer: only that producer, a token with the "
                                   "admin scope or an operator may cancel it", item_id=item_id)
            q = select(publications.c.id).join(items, and_(items.c.item_id == publications.c.item_id,
                                                            items.c.revision == publications.c.revision))
            q = q.where(and_(publications.c.item_id == item_id, items.c.state == "active",
                             publications.c.state.in_([s.value for s in OPEN_STATES])))
            if locale:
                q = q.where(publications.c.locale == locale)
            if account:
                q = q.where(publications.c.account == account)
            done = []
            for pid in conn.execute(q).scalars().all():
                if self._transition(conn, pid, S.CANCELLED, OPEN_STATES, actor=actor, error=reason, kind="cancelled"):
                    done.append(pid)
            if locale is None and account is None:
                conn.execute(update(items).where(and_(items.c.item_id == item_id, items.c.state == "active"))
                             .values(state="cancelled", updated_at=self.now()))
        return done

    def item_revisions(self, item_id: str) -> list[int]:
        """The revisions of an item in the ledger, oldest first."""
        with self._reader.connect() as conn:
            return sorted(conn.execute(select(items.c.revision).where(items.c.item_id == item_id)).scalars().all())

