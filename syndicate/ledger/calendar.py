"""The calendar's read: publications planned or published in a span of time, with their titles.

One statement joins each publication with its item revision (its state, its source title) and its
localization (the translated title, once there is one), so a calendar of hundreds of posts is one
round trip on SQLite and on PostgreSQL alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, or_, select

from .publications import PublicationStore
from .records import Publication
from .records import publication_from_row as _pub
from .schema import items, localizations, publications

__all__ = ["CalendarRow", "CalendarStore"]


@dataclass(frozen=True)
class CalendarRow:
    """A publication as the calendar shows it.

    Attributes:
        publication: the row itself.
        title: the localized title once the localization is done, else the item's own title.
        item_state: the item revision's state: ``active``, ``superseded`` or ``cancelled``.
    """

    publication: Publication
    title: str
    item_state: str


class CalendarStore(PublicationStore):
    """The calendar's read of publications."""

    def calendar_rows(self, *, start: datetime, end: datetime, regions: Sequence[str] | None = None,
                      accounts: Sequence[str] | None = None) -> list[CalendarRow]:
        """Publications planned (``scheduled_for``) or published (``published_at``) in ``[start, end)``,
        by time (published ones at the time they went out), then item, locale, account and slot.

        Args:
            start: the first instant (aware).
            end: the instant after the last (aware).
            regions: only these routes' publications (None: all).
            accounts: only these accounts' publications (None: all).
        """
        pub = publications.c
        loc = localizations.c
        q = (select(publications, items.c.state.label("item_state"),
                    items.c.payload["title"].as_string().label("source_title"),
                    loc.fields["title"].as_string().label("local_title"))
             .select_from(publications
                          .join(items, and_(items.c.item_id == pub.item_id, items.c.revision == pub.revision))
                          .outerjoin(localizations, and_(loc.item_id == pub.item_id, loc.revision == pub.revision,
                                                         loc.locale == pub.locale, loc.state == "done")))
             .where(or_(and_(pub.scheduled_for >= start, pub.scheduled_for < end),
                        and_(pub.published_at.is_not(None), pub.published_at >= start, pub.published_at < end))))
        if regions is not None:
            q = q.where(pub.region.in_(list(regions)))
        if accounts is not None:
            q = q.where(pub.account.in_(list(accounts)))
        with self._reader.connect() as conn:
            rows = [CalendarRow(_pub(r), r["local_title"] or r["source_title"] or r["item_id"], r["item_state"])
                    for r in conn.execute(q).mappings()]
        rows.sort(key=lambda c: (c.publication.published_at or c.publication.scheduled_for, c.publication.item_id,
                                 c.publication.revision, c.publication.locale, c.publication.account,
                                 c.publication.slot))
        return rows
