"""The ledger's database: its URL, its clock, and an engine tuned for each back-end.

SQLite (embedded mode) runs in WAL mode and takes its write lock at ``BEGIN``; PostgreSQL keeps
a LIFO pool whose idle connections are pinged before use, and reads run in autocommit on the same
pool (one round trip each, no ``ROLLBACK`` to end them; docs/performance.md).
"""

from __future__ import annotations

import os
import socket
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError, SQLAlchemyError

__all__ = [
    "PING_AFTER_IDLE",
    "Clock",
    "Database",
    "LedgerError",
    "SystemClock",
    "default_database_url",
    "open_database",
    "worker_id",
]

#: What a failing ledger call raises (SQLAlchemy's base exception): callers that must outlive the
#: database (a cache, a probe) catch this, without importing SQLAlchemy themselves.
LedgerError = SQLAlchemyError

#: A pooled PostgreSQL connection idle in the pool at least this long is pinged before use.
PING_AFTER_IDLE = timedelta(seconds=1)


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
class Database:
    """An open ledger database.

    Attributes:
        engine: transactions (and migrations) run here.
        reader: single reads: autocommit on PostgreSQL, the same engine on SQLite.
        dialect: ``sqlite`` or ``postgresql``.
    """

    engine: Engine
    reader: Engine
    dialect: str


def open_database(url: str, *, ping_after_idle: timedelta = PING_AFTER_IDLE) -> Database:
    """An engine for ``url`` set up for its back-end (no connection is made yet)."""
    u = make_url(url)
    if u.drivername.startswith("postgresql") and u.drivername in ("postgresql", "postgres"):
        u = u.set(drivername="postgresql+psycopg")
    dialect = u.get_backend_name()
    if dialect == "sqlite":
        if u.database and u.database != ":memory:":
            Path(u.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(u, connect_args={"check_same_thread": False, "timeout": 30})
        _sqlite_pragmas(engine)
        return Database(engine, engine, dialect)
    # LIFO: the connections in use stay warm (no ping); the spare ones idle and get pinged.
    engine = create_engine(u, pool_use_lifo=True, pool_size=10, max_overflow=20, connect_args={"connect_timeout": 10})
    _ping_when_idle(engine, ping_after_idle)
    # Reads run in autocommit on the same pool: one round trip each, no ROLLBACK to end them.
    return Database(engine, engine.execution_options(isolation_level="AUTOCOMMIT"), dialect)


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
