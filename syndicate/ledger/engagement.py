"""Engagement snapshots: the counts (likes, reposts, clicks...) of a published post at one time,
one ``engagement_snapshots`` row per publication and time (see ``syndicate.operations.engagement``)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, insert, select

from ..model.states import PublicationState
from .publications import PublicationStore
from .records import Publication
from .schema import engagement_snapshots, publications

__all__ = ["EngagementStore", "Snapshot"]

#: Publications read per statement (an ``IN`` list of ids).
_CHUNK = 500


@dataclass(frozen=True)
class Snapshot:
    """The counts of one publication at one time."""

    publication_id: int
    taken_at: datetime
    counts: dict[str, int]


class EngagementStore(PublicationStore):
    """Engagement snapshots, and the published posts they are taken of."""

    def published_since(self, since: datetime, *, accounts: Sequence[str]) -> list[Publication]:
        """Publications of ``accounts`` published at or after ``since`` that have a remote id, by id."""
        p = publications
        with self._reader.connect() as conn:
            ids = conn.execute(select(p.c.id).where(and_(
                p.c.state == PublicationState.PUBLISHED.value, p.c.account.in_(list(accounts)),
                p.c.published_at >= since, p.c.remote_id.is_not(None))).order_by(p.c.id)).scalars().all()
        out: list[Publication] = []
        for start in range(0, len(ids), _CHUNK):
            out.extend(self.publications(id=list(ids[start:start + _CHUNK])))
        return out

    def store_engagement(self, publication_id: int, counts: Mapping[str, int], *, taken_at: datetime) -> None:
        """Store one snapshot."""
        with self.begin() as conn:
            conn.execute(insert(engagement_snapshots).values(publication_id=publication_id, taken_at=taken_at,
                                                             counts=dict(counts)))

    def engagement_snapshots(self, publication_id: int) -> list[Snapshot]:
        """Every snapshot of one publication, oldest first."""
        es = engagement_snapshots
        with self._reader.connect() as conn:
            rows = conn.execute(select(es).where(es.c.publication_id == publication_id)
                                .order_by(es.c.taken_at, es.c.id)).mappings().all()
        return [Snapshot(r["publication_id"], r["taken_at"], dict(r["counts"])) for r in rows]

    def latest_engagement(self, publication_ids: Iterable[int]) -> dict[int, Snapshot]:
        """The newest snapshot of each publication that has one."""
        ids = sorted(set(publication_ids))
        out: dict[int, Snapshot] = {}
        es = engagement_snapshots
        with self._reader.connect() as conn:
            for start in range(0, len(ids), _CHUNK):
                chunk = ids[start:start + _CHUNK]
                newest = (select(es.c.publication_id, func.max(es.c.taken_at).label("taken_at"))
                          .where(es.c.publication_id.in_(chunk)).group_by(es.c.publication_id).subquery())
                rows = conn.execute(
                    select(es.c.publication_id, es.c.taken_at, es.c.counts, es.c.id)
                    .join(newest, and_(es.c.publication_id == newest.c.publication_id,
                                       es.c.taken_at == newest.c.taken_at))
                    .order_by(es.c.id)).all()
                for r in rows:
                    out[r.publication_id] = Snapshot(r.publication_id, r.taken_at, dict(r.counts))
        return out
