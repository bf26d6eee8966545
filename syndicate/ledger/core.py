"""What every part of the ledger shares: the open database, the clock, transactions, and the
audit trail (``events``) that every change writes into its own transaction."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from sqlalchemy import Connection, Engine, func, insert, select

from ..base.secrets import redact
from .database import PING_AFTER_IDLE, Clock, SystemClock, default_database_url, open_database
from .records import Outbox
from .schema import events, publications

__all__ = ["LedgerCore"]

_INSERT_EVENT = insert(events)
_SCHEMA_PROBE = select(func.count()).select_from(publications).where(publications.c.id == -1)


class LedgerCore:
    """The database, the clock and the audit trail; each aggregate of the ledger builds on it.
    Its arguments are :class:`~syndicate.ledger.Ledger`'s."""

    def __init__(self, url: str | None = None, *, clock: Clock | None = None,
                 ping_after_idle: timedelta = PING_AFTER_IDLE, outbox: Outbox | None = None) -> None:
        self.url = url or default_database_url()
        self.clock: Clock = clock or SystemClock()
        #: Producer webhooks (``settings.yaml`` ``notifications.webhooks``), given where the runtime is built.
        self.outbox: Outbox | None = outbox
        db = open_database(self.url, ping_after_idle=ping_after_idle)
        self.engine: Engine = db.engine
        self._reader: Engine = db.reader
        self.dialect = db.dialect

    # -- lifecycle -------------------------------------------------------------------------

    def migrate(self) -> tuple[str | None, str | None]:
        """Bring the schema to the newest migration (idempotent, safe from many processes); the
        schema revisions before and after (None: there was no schema)."""
        from .migrate import upgrade

        return upgrade(self.engine)

    def close(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """A transaction; committed on success, rolled back on error."""
        with self.engine.begin() as conn:
            yield conn

    def now(self) -> datetime:
        """The ledger's clock."""
        return self.clock.now()

    @property
    def display_url(self) -> str:
        """The database URL with its password hidden, for messages."""
        return self.engine.url.render_as_string(hide_password=True)

    def exists(self) -> bool:
        """Whether there may be a ledger to read: always for a server, for SQLite only once its file
        exists (asking for a schema would create one)."""
        return self.dialect != "sqlite" or Path(self.engine.url.database or "").exists()

    def ping(self) -> None:
        """Run one query on ``publications``: raises unless the database answers and has our schema."""
        with self._reader.connect() as conn:
            conn.execute(_SCHEMA_PROBE).scalar()

    # -- the audit trail -------------------------------------------------------------------

    def _event(self, conn: Connection, *, kind: str, actor: str, publication_id: int | None = None,
               item_id: str | None = None, revision: int | None = None, from_state: str | None = None,
               to_state: str | None = None, error: str | None = None, detail: Mapping[str, Any] | None = None
               ) -> None:
        conn.execute(_INSERT_EVENT, {
            "at": self.now(), "publication_id": publication_id, "item_id": item_id, "revision": revision,
            "kind": kind, "from_state": from_state, "to_state": to_state, "actor": actor[:200],
            "error": redact(error) if error else None, "detail": dict(detail) if detail else None})

    def events(self, *, publication_id: int | None = None, item_id: str | None = None) -> list[dict[str, Any]]:
        """Audit events, oldest first."""
        q = select(events).order_by(events.c.id)
        if publication_id is not None:
            q = q.where(events.c.publication_id == publication_id)
        if item_id is not None:
            q = q.where(events.c.item_id == item_id)
        with self._reader.connect() as conn:
            return [dict(r) for r in conn.execute(q).mappings()]

    def record_event(self, kind: str, *, actor: str, publication_id: int | None = None, item_id: str | None = None,
                     revision: int | None = None, error: str | None = None,
                     detail: Mapping[str, Any] | None = None) -> None:
        """Record an event that is not a state change (a warning, a decision)."""
        with self.begin() as conn:
            self._event(conn, kind=kind, actor=actor, publication_id=publication_id, item_id=item_id,
                        revision=revision, error=error, detail=detail)
