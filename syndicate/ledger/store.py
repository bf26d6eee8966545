"""The ledger: every item, localization and publication, and the only place states change.

Every state change goes through :meth:`Ledger.transition` (or a method built on it), which
checks the transition against :mod:`syndicate.model.states`, applies it with a conditional ``UPDATE``
(``WHERE id = :id AND state IN (:expected)``) and writes an ``events`` row in the same
transaction. A conditional update that matches no row means someone else moved the publication
first: the caller acknowledges and does nothing (claim → call → record, ARCHITECTURE.md).
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import socket
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import (
    Connection,
    Engine,
    and_,
    bindparam,
    create_engine,
    delete,
    event,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import RowMapping, make_url
from sqlalchemy.exc import DisconnectionError, IntegrityError

from ..base.secrets import redact
from ..errors import ContentError, NotOwner
from ..model.item import ContentItem, stored_item
from ..model.states import ALLOWED, OPEN_STATES, PublicationState
from .schema import accounts, events, items, localizations, notifications, publications, state_kv

__all__ = [
    "Clock",
    "Ledger",
    "NewPublication",
    "Outbox",
    "Publication",
    "StoredItem",
    "SubmitOutcome",
    "SystemClock",
    "default_database_url",
    "worker_id",
]

S = PublicationState


class Clock(Protocol):
    """Where the time comes from; tests substitute a controllable one."""

    def now(self) -> datetime:
        """The current time, aware, UTC."""
        ...


class SystemClock:
    """The real clock."""

    def now(self) -> datetime:
        """The current time, aware, UTC."""
        return datetime.now(UTC)


def default_database_url() -> str:
    """``$SYNDICATE_DATABASE_URL``, else a SQLite file ``./syndicate.db``."""
    return os.environ.get("SYNDICATE_DATABASE_URL") or "sqlite:///syndicate.db"


def worker_id() -> str:
    """``host:pid:thread`` of the caller, recorded as who claimed or changed a row."""
    return f"{socket.gethostname()}:{os.getpid()}:{threading.current_thread().name}"


@dataclass(frozen=True)
class Publication:
    """One row of ``publications``."""

    id: int
    key: str
    item_id: str
    revision: int
    locale: str
    account: str
    slot: int
    region: str
    channel: str
    campaign: str
    state: str
    ready: bool
    scheduled_for: datetime
    planned_for: datetime
    attempts: int
    failures: int
    deferrals: int
    last_error: str | None
    remote_id: str | None
    permalink: str | None
    tagged_url: str
    utm: dict[str, str]
    text_hash: str | None
    rendered: dict[str, Any] | None
    claimed_by: str | None
    claimed_at: datetime | None
    lease_until: datetime | None
    enqueued_at: datetime | None
    published_at: datetime | None
    created_at: datetime
    updated_at: datetime

    @property
    def marker(self) -> str:
        """A short token unique to this publication (used to find its post again)."""
        return hashlib.sha256(self.key.encode("utf-8")).hexdigest()[:12]

    @property
    def terminal(self) -> bool:
        """Whether the publication has reached a terminal state."""
        return S(self.state) in {S.PUBLISHED, S.FAILED, S.CANCELLED, S.SKIPPED, S.UNCONFIRMED}


_PUB_FIELDS = tuple(f.name for f in fields(Publication))


def _pub(row: Mapping[str, Any] | RowMapping) -> Publication:
    return Publication(**{k: row[k] for k in _PUB_FIELDS})


# Statements run for every publication, built once with bound parameters: building a statement
# and its cache key on each call costs about a third of a one-row read (docs/performance.md).
_PUBLICATION_BY_ID = select(publications).where(publications.c.id == bindparam("pub_id"))
_ITEM_REVISION = select(items).where(and_(items.c.item_id == bindparam("item_id"),
                                          items.c.revision == bindparam("revision")))
_ITEM_PAYLOAD = select(items.c.payload).where(and_(items.c.item_id == bindparam("item_id"),
                                                   items.c.revision == bindparam("revision")))
_LOCALIZATION = select(localizations).where(and_(
    localizations.c.item_id == bindparam("item_id"), localizations.c.revision == bindparam("revision"),
    localizations.c.locale == bindparam("locale")))
_PUBLICATION_WITH_ACCOUNT = (
    select(publications, accounts.c.status.label("account_status"), accounts.c.reason.label("account_reason"))
    .select_from(publications.outerjoin(accounts, accounts.c.account == publications.c.account))
    .where(publications.c.id == bindparam("pub_id")))
_ACCOUNT_STATUS = select(accounts.c.status, accounts.c.reason).where(accounts.c.account == bindparam("account"))
_PREVIOUS_REMOTE_ID = (
    select(publications.c.remote_id).where(and_(
        publications.c.item_id == bindparam("item_id"), publications.c.revision < bindparam("revision"),
        publications.c.locale == bindparam("locale"), publications.c.account == bindparam("account"),
        publications.c.slot == bindparam("slot"), publications.c.state == S.PUBLISHED.value))
    .order_by(publications.c.revision.desc()).limit(1))
_INSERT_EVENT = insert(events)


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
    """``UPDATE publications SET state = :to, previous_state = state, ... WHERE id = :pub_id AND state IN
    (...) RETURNING *``, built once per shape: building it (and its cache key) on every call costs
    more than the round trip it makes."""
    cond = and_(publications.c.id == bindparam("pub_id"), publications.c.state.in_(shape.expected))
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
def _transition_with_event(shape: _Shape) -> Any:
    """:func:`_transition_update` and the INSERT of its event in one statement (PostgreSQL)."""
    moved = _transition_update(shape).cte("moved")
    logged = insert(events).from_select(
        ["at", "publication_id", "item_id", "revision", "kind", "from_state", "to_state", "actor", "error", "detail"],
        select(bindparam("ev_at", type_=events.c.at.type), moved.c.id, moved.c.item_id, moved.c.revision,
               bindparam("ev_kind", type_=events.c.kind.type), moved.c.previous_state, moved.c.state,
               bindparam("ev_actor", type_=events.c.actor.type), bindparam("ev_error", type_=events.c.error.type),
               bindparam("ev_detail", type_=events.c.detail.type))
    ).cte("logged")
    return select(*(moved.c[c.name] for c in publications.c)).add_cte(logged)


class Outbox(Protocol):
    """Builds the lifecycle notification rows (``notifications`` table) for one publication state
    change; the ledger inserts them in the transaction of the change (see ``syndicate.operations.notify``)."""

    def rows(self, pub: Publication, previous_state: str | None, kind: str, error: str | None,
             at: datetime) -> list[dict[str, Any]]:
        """Rows to insert for ``pub`` having just reached its state (none: not notified)."""
        ...


@dataclass(frozen=True)
class StoredItem:
    """One row of ``items``, with the item parsed back."""

    item: ContentItem
    state: str
    received_at: datetime
    content_hash: str


@dataclass(frozen=True)
class NewPublication:
    """A publication to create, as planned (see ``syndicate.intake.planning``)."""

    locale: str
    account: str
    slot: int
    region: str
    channel: str
    scheduled_for: datetime
    tagged_url: str
    utm: dict[str, str]
    state: PublicationState = S.SCHEDULED
    reason: str | None = None

    def key(self, item_id: str, revision: int) -> str:
        """The publication's unique key."""
        return f"{item_id}/{revision}/{self.locale}/{self.account}/{self.slot}"


@dataclass(frozen=True)
class SubmitOutcome:
    """What :meth:`Ledger.submit` did: ``created``, or ``unchanged`` for a repeat submission."""

    status: str
    item_id: str
    revision: int
    publications: list[Publication]
    superseded: list[int]


def _sqlite_pragmas(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        # IMMEDIATE takes the write lock up front, so two writers queue instead of deadlocking.
        conn.exec_driver_sql("BEGIN IMMEDIATE")


#: A pooled PostgreSQL connection idle in the pool at least this long is pinged before use.
PING_AFTER_IDLE = timedelta(seconds=1)
#: Parsed item revisions kept per process (:meth:`Ledger.item_content`): at most this many, and
#: at most this many bytes of their stored JSON (an item may be up to 1 MiB).
CONTENT_CACHE_ITEMS = 1024
CONTENT_CACHE_BYTES = 32 * 1024 * 1024


def _ping_when_idle(engine: Engine, after: timedelta) -> None:
    """Pessimistic disconnect handling at a fraction of ``pool_pre_ping``'s cost.

    ``pool_pre_ping`` costs a round trip at every checkout, and a publication checks out about ten
    times. Only connections that sat in the pool are at risk (a server restart or an idle timeout
    closes them), so only those idle for ``after`` or longer are pinged; a failed ping discards the
    connection and the pool opens a fresh one (SQLAlchemy retries a checkout that raises
    ``DisconnectionError``). A connection broken within ``after`` of its last use fails its
    statement instead, which invalidates the whole pool, as a failure after a successful ping
    always could.
    """
    after_s = after.total_seconds()

    @event.listens_for(engine, "checkin")
    def _checkin(_dbapi_conn: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checkout(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get("idle_since")
        if since is None or time.monotonic() - since < after_s:
            return
        try:
            engine.dialect.do_ping(dbapi_conn)
        except engine.dialect.loaded_dbapi.Error as exc:
            raise DisconnectionError(f"ping failed: {type(exc).__name__}") from exc


class Ledger:
    """Access to the ledger database.

    Args:
        url: SQLAlchemy URL; default :func:`default_database_url`.
        clock: time source (tests pass a controllable one).
        ping_after_idle: PostgreSQL: a pooled connection idle this long is pinged before use.
    """

    def __init__(self, url: str | None = None, *, clock: Clock | None = None,
                 ping_after_idle: timedelta = PING_AFTER_IDLE) -> None:
        self.url = url or default_database_url()
        self.clock: Clock = clock or SystemClock()
        # Parsed items by (item_id, revision): a revision's payload never changes once stored
        # (a resubmission with other content is refused), so publishing reads and validates it once.
        self._contents: OrderedDict[tuple[str, int], tuple[ContentItem, int]] = OrderedDict()
        self._contents_bytes = 0
        self._contents_lock = threading.Lock()
        #: Producer webhooks: set by ``syndicate.operations.notify.attach`` when settings.yaml configures any.
        self.outbox: Outbox | None = None
        u = make_url(self.url)
        if u.drivername.startswith("postgresql") and u.drivername in ("postgresql", "postgres"):
            u = u.set(drivername="postgresql+psycopg")
        self.dialect = u.get_backend_name()
        if self.dialect == "sqlite":
            if u.database and u.database != ":memory:":
                Path(u.database).parent.mkdir(parents=True, exist_ok=True)
            self.engine = create_engine(u, connect_args={"check_same_thread": False, "timeout": 30})
            _sqlite_pragmas(self.engine)
            self._reader: Engine = self.engine
        else:
            # LIFO: the connections in use stay warm (no ping); the spare ones idle and get pinged.
            self.engine = create_engine(u, pool_use_lifo=True, pool_size=10, max_overflow=20,
                                        connect_args={"connect_timeout": 10})
            _ping_when_idle(self.engine, ping_after_idle)
            # Reads run in autocommit on the same pool: one round trip each, no ROLLBACK to end them.
            self._reader = self.engine.execution_options(isolation_level="AUTOCOMMIT")

    # -- lifecycle -------------------------------------------------------------------------

    def migrate(self) -> tuple[str | None, str | None]:
        """Bring the schema to the newest migration (idempotent, safe from many processes); the
        schema revisions before and after (None: there was no schema)."""
        from .migrate import upgrade

        return upgrade(self.engine)

    def close(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """A transaction; committed on success, rolled back on error."""
        with self.engine.begin() as conn:
            yield conn

    def now(self) -> datetime:
        """The ledger's clock."""
        return self.clock.now()

    # -- items -----------------------------------------------------------------------------

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
            for p in plan:
                res = conn.execute(insert(publications).values(
                    key=p.key(item.id, item.revision), item_id=item.id, revision=item.revision,
                    locale=p.locale, account=p.account, slot=p.slot, region=p.region, channel=p.channel,
                    campaign=item.campaign, state=p.state.value, ready=False, scheduled_for=p.scheduled_for,
                    planned_for=p.scheduled_for, attempts=0, failures=0, deferrals=0,
                    last_error=p.reason, tagged_url=p.tagged_url, utm=p.utm, created_at=now, updated_at=now,
                ).returning(publications.c.id))
                pid = res.scalar_one()
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
        with self._contents_lock:
            cached = self._contents.get((item_id, revision))
        if cached is not None:
            return cached[0]
        with self._reader.connect() as conn:
            payload = conn.execute(_ITEM_PAYLOAD, {"item_id": item_id, "revision": revision}).scalar_one_or_none()
        return None if payload is None else self._content(item_id, revision, payload)

    def _content(self, item_id: str, revision: int, payload: Any) -> ContentItem:
        """``payload`` validated as a ContentItem, once per revision (kept in a bounded LRU cache)."""
        key = (item_id, revision)
        with self._contents_lock:
            cached = self._contents.get(key)
            if cached is not None:
                self._contents.move_to_end(key)
                return cached[0]
        content = stored_item(payload)
        size = len(json.dumps(payload, separators=(",", ":"), default=str))
        with self._contents_lock:
            if key not in self._contents and size <= CONTENT_CACHE_BYTES // 4:
                self._contents[key] = (content, size)
                self._contents_bytes += size
            while len(self._contents) > CONTENT_CACHE_ITEMS or self._contents_bytes > CONTENT_CACHE_BYTES:
                self._contents_bytes -= self._contents.popitem(last=False)[1][1]
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

    # -- publications ----------------------------------------------------------------------

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

    def item_revisions(self, item_id: str) -> list[int]:
        """The revisions of an item in the ledger, oldest first."""
        with self._reader.connect() as conn:
            return sorted(conn.execute(select(items.c.revision).where(items.c.item_id == item_id)).scalars().all())

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

    def _event(self, conn: Connection, *, kind: str, actor: str, publication_id: int | None = None,
               item_id: str | None = None, revision: int | None = None, from_state: str | None = None,
               to_state: str | None = None, error: str | None = None, detail: Mapping[str, Any] | None = None
               ) -> None:
        conn.execute(_INSERT_EVENT, {
            "at": self.now(), "publication_id": publication_id, "item_id": item_id, "revision": revision,
            "kind": kind, "from_state": from_state, "to_state": to_state, "actor": actor[:200],
            "error": redact(error) if error else None, "detail": dict(detail) if detail else None})

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
        return pub

    def _transition_alone(self, pub_id: int, to: PublicationState, expect: Iterable[PublicationState], *,
                          actor: str, error: str | None = None, kind: str = "transition",
                          detail: Mapping[str, Any] | None = None, due_by: datetime | None = None,
                          increment: Sequence[str] = (), **values: Any) -> Publication | None:
        """One transition in its own transaction: on PostgreSQL without producer webhooks, a single
        statement (the UPDATE and its event INSERT in one ``WITH``, atomic on its own, one round trip
        instead of five); otherwise :meth:`_transition` in a transaction."""
        if self.dialect != "postgresql" or self.outbox is not None:
            with self.begin() as conn:
                return self._transition(conn, pub_id, to, expect, actor=actor, error=error, kind=kind,
                                        detail=detail, due_by=due_by, increment=increment, **values)
        shape, params = self._transition_params(pub_id, to, expect, error, due_by, increment, values)
        params.update(ev_at=params["now"], ev_kind=kind, ev_actor=actor[:200],
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
                           publications.c.locale == locale, publications.c.state == S.SCHEDULED.value)
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

    # -- accounts --------------------------------------------------------------------------

    def publication_for_publish(self, pub_id: int) -> tuple[Publication | None, str, str | None]:
        """One publication and its account's ``(status, reason)``, in one read (the publish step's first)."""
        with self._reader.connect() as conn:
            row = conn.execute(_PUBLICATION_WITH_ACCOUNT, {"pub_id": pub_id}).mappings().first()
        if row is None:
            return None, "ok", None
        return _pub(row), row["account_status"] or "ok", row["account_reason"]

    def account_status(self, account: str) -> tuple[str, str | None]:
        """``(status, reason)``; ``("ok", None)`` for accounts never marked."""
        with self._reader.connect() as conn:
            row = conn.execute(_ACCOUNT_STATUS, {"account": account}).first()
        return (row.status, row.reason) if row else ("ok", None)

    def held_accounts(self) -> dict[str, tuple[str, str | None]]:
        """Every account whose status is not ``ok``: ``{account: (status, reason)}`` (one query)."""
        with self._reader.connect() as conn:
            rows = conn.execute(select(accounts.c.account, accounts.c.status, accounts.c.reason)
                                .where(accounts.c.status != "ok")).all()
        return {r.account: (r.status, r.reason) for r in rows}

    def set_account_status(self, account: str, status: str, reason: str | None, *, actor: str) -> None:
        """Mark an account (``ok``, ``needs_credentials`` or ``disabled``), with an event.

        Publications of an account whose status is not ``ok`` are held by the dispatcher.
        """
        now = self.now()
        with self.begin() as conn:
            res = conn.execute(update(accounts).where(accounts.c.account == account)
                               .values(status=status, reason=redact(reason) if reason else None, updated_at=now))
            if res.rowcount == 0:
                try:
                    with conn.begin_nested():
                        conn.execute(insert(accounts).values(account=account, status=status,
                                                             reason=redact(reason) if reason else None,
                                                             updated_at=now))
                except IntegrityError:
                    conn.execute(update(accounts).where(accounts.c.account == account)
                                 .values(status=status, reason=redact(reason) if reason else None,
                                         updated_at=now))
            self._event(conn, kind=f"account.{status}", actor=actor, error=reason, detail={"account": account})

    # -- key-value state -------------------------------------------------------------------

    def kv_get(self, namespace: str, key: str) -> tuple[Any, int] | None:
        """``(value, version)`` or None."""
        with self._reader.connect() as conn:
            row = conn.execute(select(state_kv.c.value, state_kv.c.version).where(and_(
                state_kv.c.namespace == namespace, state_kv.c.key == key))).first()
        return (row.value, row.version) if row else None

    def kv_put(self, namespace: str, key: str, value: Any, *, expect_version: int | None) -> bool:
        """Write ``value`` if the stored version is ``expect_version`` (None: must not exist yet)."""
        now = self.now()
        with self.begin() as conn:
            if expect_version is None:
                try:
                    with conn.begin_nested():
                        conn.execute(insert(state_kv).values(namespace=namespace, key=key, value=value,
                                                             version=1, updated_at=now))
                    return True
                except IntegrityError:
                    return False
            res = conn.execute(update(state_kv).where(and_(
                state_kv.c.namespace == namespace, state_kv.c.key == key, state_kv.c.version == expect_version))
                .values(value=value, version=expect_version + 1, updated_at=now))
            return res.rowcount == 1

    # -- events and reports ----------------------------------------------------------------

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

    def count_by_state(self, **filters: Any) -> dict[str, int]:
        """Number of publications per state, with optional equality filters."""
        q = select(publications.c.state, func.count()).group_by(publications.c.state)
        for name, value in filters.items():
            if value is not None:
                col = publications.c[name]
                q = q.where(col.in_(list(value)) if isinstance(value, list | tuple | set) else col == value)
        with self._reader.connect() as conn:
            return {r[0]: r[1] for r in conn.execute(q).all()}
