"""Short links and their clicks (docs/short-links.md).

A short link is an unguessable code per (item, locale, account, slot), made once and never
reused or deleted (``short_links``, unique on the code and on the four). Each new revision of
the item moves the code to its own publication, so a post already out keeps working and sends
its readers to the newest tagged URL. Clicks are counts per publication and hour, humans and bots
apart (``clicks``); the redirect app adds to them in batches.
"""

from __future__ import annotations

import secrets
import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, bindparam, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from .publications import PublicationStore
from .records import Publication
from .schema import clicks, publications, short_links

__all__ = ["CODE_ALPHABET", "CODE_LENGTH", "ClickCount", "LinkStore", "LinkTarget", "new_code"]

#: Letters and digits: nothing a URL must escape, nothing a reader mistakes for punctuation.
CODE_ALPHABET = string.ascii_letters + string.digits
#: Characters per code: 62**10 is about 8.4e17 codes (59.5 bits), so a million live links leave a
#: guesser one hit per 840 billion tries.
CODE_LENGTH = 10
#: Publications read per statement (an ``IN`` list of ids).
_CHUNK = 500

_LINEAGE = select(short_links.c.code, short_links.c.revision, short_links.c.publication_id).where(and_(
    short_links.c.item_id == bindparam("item_id"), short_links.c.locale == bindparam("locale"),
    short_links.c.account == bindparam("account"), short_links.c.slot == bindparam("slot")))


def new_code(length: int = CODE_LENGTH) -> str:
    """A fresh random code from :data:`CODE_ALPHABET` (``secrets``, never ``random``)."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(length))


@dataclass(frozen=True)
class LinkTarget:
    """Where a code sends a click: its publication and that publication's tagged URL."""

    code: str
    publication_id: int
    url: str
    updated_at: datetime


@dataclass(frozen=True)
class ClickCount:
    """Clicks of one publication in one hour (or in all, ``hour`` None)."""

    publication_id: int
    hour: datetime | None
    human: int
    bot: int


class LinkStore(PublicationStore):
    """Short links (made once per publication lineage) and click counts."""

    def short_link_code(self, pub: Publication) -> str:
        """The short-link code of ``pub``, made the first time it is asked for.

        The code belongs to (item, locale, account, slot): a later revision's publication gets the
        same code, and the code then points at it. An earlier revision never takes it back. Safe to
        call from many processes at once: the unique constraints decide, and everyone reads the winner.
        """
        params = {"item_id": pub.item_id, "locale": pub.locale, "account": pub.account, "slot": pub.slot}
        for _ in range(5):
            now = self.now()
            with self.begin() as conn:
                row = conn.execute(_LINEAGE, params).first()
                if row is not None:
                    if row.revision < pub.revision:
                        conn.execute(update(short_links).where(and_(
                            short_links.c.code == row.code, short_links.c.revision < pub.revision))
                            .values(revision=pub.revision, publication_id=pub.id, updated_at=now))
                    return str(row.code)
                code = new_code()
                # Either constraint may refuse the row: another process made the lineage's code
                # (read it on the next turn) or, once in 10**17, the code is taken (draw again).
                stmt = (pg_insert if self.dialect == "postgresql" else sqlite_insert)(short_links).values(
                    code=code, revision=pub.revision, publication_id=pub.id, created_at=now, updated_at=now,
                    **params).on_conflict_do_nothing()
                if conn.execute(stmt).rowcount == 1:
                    self._event(conn, kind="short-link", actor="links", publication_id=pub.id,
                                item_id=pub.item_id, revision=pub.revision, detail={"code": code})
                    return code
        raise RuntimeError("could not store a short-link code after 5 attempts")

    def short_link_codes(self, publication_ids: Iterable[int]) -> dict[int, str]:
        """The code of each publication whose lineage has one, by publication id (a code follows
        the newest revision: an older revision's publication is matched by its lineage too)."""
        ids = sorted(set(publication_ids))
        out: dict[int, str] = {}
        p, s = publications, short_links
        with self._reader.connect() as conn:
            for start in range(0, len(ids), _CHUNK):
                rows = conn.execute(select(p.c.id, s.c.code).join(s, and_(
                    s.c.item_id == p.c.item_id, s.c.locale == p.c.locale, s.c.account == p.c.account,
                    s.c.slot == p.c.slot)).where(p.c.id.in_(ids[start:start + _CHUNK]))).all()
                out.update({r.id: r.code for r in rows})
        return out

    def link_targets(self, *, changed_since: datetime | None = None) -> list[LinkTarget]:
        """Every code with its publication's tagged URL (only those changed at or after
        ``changed_since`` when given), oldest change first: what the redirect app holds in memory."""
        s, p = short_links, publications
        q = (select(s.c.code, s.c.publication_id, s.c.updated_at, p.c.tagged_url)
             .join(p, p.c.id == s.c.publication_id).order_by(s.c.updated_at, s.c.code))
        if changed_since is not None:
            q = q.where(s.c.updated_at >= changed_since)
        with self._reader.connect() as conn:
            return [LinkTarget(r.code, r.publication_id, r.tagged_url, r.updated_at) for r in conn.execute(q)]

    def add_clicks(self, counts: Mapping[tuple[int, datetime], tuple[int, int]]) -> None:
        """Add ``(human, bot)`` clicks per ``(publication id, hour)``, in one transaction."""
        if not counts:
            return
        ins = pg_insert if self.dialect == "postgresql" else sqlite_insert
        rows = [{"publication_id": pid, "hour": hour, "human": h, "bot": b}
                for (pid, hour), (h, b) in sorted(counts.items())]
        stmt = ins(clicks)
        stmt = stmt.on_conflict_do_update(index_elements=[clicks.c.publication_id, clicks.c.hour], set_={
            "human": clicks.c.human + stmt.excluded.human, "bot": clicks.c.bot + stmt.excluded.bot})
        with self.begin() as conn:
            conn.execute(stmt, rows)

    def click_totals(self, publication_ids: Iterable[int]) -> dict[int, ClickCount]:
        """All-time clicks of each publication that has any."""
        ids = sorted(set(publication_ids))
        out: dict[int, ClickCount] = {}
        c = clicks
        with self._reader.connect() as conn:
            for start in range(0, len(ids), _CHUNK):
                rows = conn.execute(select(c.c.publication_id, func.sum(c.c.human).label("human"),
                                           func.sum(c.c.bot).label("bot"))
                                    .where(c.c.publication_id.in_(ids[start:start + _CHUNK]))
                                    .group_by(c.c.publication_id)).all()
                out.update({r.publication_id: ClickCount(r.publication_id, None, int(r.human), int(r.bot))
                            for r in rows})
        return out

    def clicks_by_hour(self, publication_ids: Iterable[int]) -> list[ClickCount]:
        """Clicks per publication and hour, by publication then hour."""
        ids = sorted(set(publication_ids))
        out: list[ClickCount] = []
        c = clicks
        with self._reader.connect() as conn:
            for start in range(0, len(ids), _CHUNK):
                rows = conn.execute(select(c.c.publication_id, c.c.hour, c.c.human, c.c.bot)
                                    .where(c.c.publication_id.in_(ids[start:start + _CHUNK]))
                                    .order_by(c.c.publication_id, c.c.hour)).all()
                out.extend(ClickCount(r.publication_id, r.hour, int(r.human), int(r.bot)) for r in rows)
        return out

    def click_totals_by_channel(self) -> dict[str, tuple[int, int]]:
        """``(human, bot)`` clicks of all time per channel (the metrics gauge)."""
        c, p = clicks, publications
        q = (select(p.c.channel, func.sum(c.c.human).label("human"), func.sum(c.c.bot).label("bot"))
             .join(p, p.c.id == c.c.publication_id).group_by(p.c.channel))
        with self._reader.connect() as conn:
            return {r.channel: (int(r.human), int(r.bot)) for r in conn.execute(q)}
