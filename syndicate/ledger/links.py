"""Short links and their clicks (docs/short-links.md).

A short link is an unguessable code per publication, made once and never reused or deleted
(``short_links``, unique on the code and on the publication). Each code also names a target: the
newest revision's publication of the same (item, locale, account, slot). When a new revision's
code is made, every older code of the four is pointed at it, so a post already out keeps working
and sends its readers to the newest tagged URL, while each revision's post still carries a text of
its own (X refuses a post whose text repeats an earlier one). Clicks are counts per publication
(the one whose post carried the code) and hour, humans and bots apart (``clicks``); the redirect
app adds to them in batches.
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

_CODE_OF = select(short_links.c.code).where(short_links.c.publication_id == bindparam("pub_id"))
_NEWEST_TARGET = (select(short_links.c.target_publication_id, short_links.c.target_revision).where(and_(
    short_links.c.item_id == bindparam("item_id"), short_links.c.locale == bindparam("locale"),
    short_links.c.account == bindparam("account"), short_links.c.slot == bindparam("slot")))
    .order_by(short_links.c.target_revision.desc()).limit(1))


def new_code(length: int = CODE_LENGTH) -> str:
    """A fresh random code from :data:`CODE_ALPHABET` (``secrets``, never ``random``)."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(length))


@dataclass(frozen=True)
class LinkTarget:
    """Where a code sends a click (``url``: the tagged URL of the newest revision's publication) and
    whose click it is (``publication_id``: the publication whose post carried the code)."""

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

        Making it also points the codes of the same item's earlier revisions (same locale, account
        and slot) at ``pub``; a code of a later revision keeps its target. Safe to call from many
        processes at once: the unique constraints decide, and everyone reads the winner.
        """
        lineage = {"item_id": pub.item_id, "locale": pub.locale, "account": pub.account, "slot": pub.slot}
        for _ in range(5):
            now = self.now()
            with self.begin() as conn:
                code = conn.execute(_CODE_OF, {"pub_id": pub.id}).scalar_one_or_none()
                if code is not None:
                    return str(code)
                newest = conn.execute(_NEWEST_TARGET, lineage).first()
                target, target_rev = pub.id, pub.revision
                if newest is not None and newest.target_revision > pub.revision:
                    target, target_rev = newest.target_publication_id, newest.target_revision
                code = new_code()
                # Either constraint may refuse the row: another process made this publication's
                # code (read it on the next turn) or, once in 10**17, the code is taken (draw again).
                stmt = (pg_insert if self.dialect == "postgresql" else sqlite_insert)(short_links).values(
                    code=code, publication_id=pub.id, revision=pub.revision, target_publication_id=target,
                    target_revision=target_rev, created_at=now, updated_at=now, **lineage
                ).on_conflict_do_nothing().returning(short_links.c.code)
                if conn.execute(stmt).scalar_one_or_none() is None:
                    continue
                moved = conn.execute(update(short_links).where(and_(
                    short_links.c.item_id == pub.item_id, short_links.c.locale == pub.locale,
                    short_links.c.account == pub.account, short_links.c.slot == pub.slot,
                    short_links.c.target_revision < pub.revision))
                    .values(target_publication_id=pub.id, target_revision=pub.revision, updated_at=now)
                    .returning(short_links.c.code)).scalars().all()
                self._event(conn, kind="short-link", actor="links", publication_id=pub.id, item_id=pub.item_id,
                            revision=pub.revision, detail={"code": code, "earlier_codes_moved": len(moved)})
                return code
        raise RuntimeError("could not store a short-link code after 5 attempts")

    def short_link_codes(self, publication_ids: Iterable[int]) -> dict[int, str]:
        """The code of each publication that has one, by publication id."""
        ids = sorted(set(publication_ids))
        out: dict[int, str] = {}
        s = short_links
        with self._reader.connect() as conn:
            for start in range(0, len(ids), _CHUNK):
                rows = conn.execute(select(s.c.publication_id, s.c.code)
                                    .where(s.c.publication_id.in_(ids[start:start + _CHUNK]))).all()
                out.update({r.publication_id: r.code for r in rows})
        return out

    def link_targets(self, *, changed_since: datetime | None = None) -> list[LinkTarget]:
        """Every code with its publication (whose clicks it counts) and its target's tagged URL
        (only those changed at or after ``changed_since`` when given), oldest change first: what
        the redirect app holds in memory."""
        s, p = short_links, publications
        q = (select(s.c.code, s.c.publication_id, s.c.updated_at, p.c.tagged_url)
             .join(p, p.c.id == s.c.target_publication_id).order_by(s.c.updated_at, s.c.code))
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
