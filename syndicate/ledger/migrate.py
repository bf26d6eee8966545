"""Run the ledger's Alembic migrations from code (``Ledger.migrate``, ``syndicate migrate``).

Every process migrates at start, so Alembic's own INFO lines (plugins set up, the DDL mode) would
repeat on every start: they are kept at WARNING, and one ``ledger.migrated`` line (INFO) says
what changed, or ``ledger.up_to_date`` (DEBUG) that nothing did.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, inspect, text

if TYPE_CHECKING:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

__all__ = ["alembic_config", "upgrade"]

MIGRATIONS = Path(__file__).resolve().parent / "migrations"

# Any constant works; it only has to be the same for every syndicate process.
_PG_LOCK_ID = 0x5F_5359_4E44


def alembic_config(engine: Engine) -> Config:
    """An Alembic config pointing at our migrations and bound to ``engine``."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


@contextmanager
def _alembic_quiet() -> Iterator[None]:
    """Alembic's INFO lines off (DEBUG keeps them, for whoever asks for everything)."""
    logger = logging.getLogger("alembic")
    before = logger.level
    if not logging.getLogger().isEnabledFor(logging.DEBUG):
        logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(before)


def _current(conn: Connection) -> str | None:
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(conn).get_current_revision()


@functools.cache
def _scripts() -> ScriptDirectory:
    """Our migration scripts, read once per process."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(cfg)


def _head() -> str | None:
    """The newest migration's revision."""
    return _scripts().get_current_head()


def _create_fresh(conn: Connection) -> None:
    """A new SQLite ledger: the tables ``schema.py`` declares, created in this transaction and
    stamped at the newest revision (Alembic's recipe for a database built from scratch).

    ``tests/unit/test_migrations.py`` checks that this and the scripts build the same schema
    (tables, columns, keys, indexes, constraints); only the order of columns added by later
    migrations differs, which no statement depends on. PostgreSQL always runs the scripts.
    """
    from alembic.runtime.migration import MigrationContext

    from .schema import metadata

    metadata.create_all(conn, checkfirst=False)  # the caller found no table at all
    MigrationContext.configure(conn).stamp(_scripts(), "head")


def _run(engine: Engine, conn: Connection, revision: str, *, via_scripts: bool) -> tuple[str | None, str | None]:
    with _alembic_quiet():  # importing alembic logs too (its plugins), so import it in here
        before = _current(conn)
        if revision == "head" and before is not None and before == _head():
            return before, before  # up to date: every process start, so skip loading the scripts' environment
        if (revision == "head" and before is None and not via_scripts and engine.dialect.name == "sqlite"
                and not inspect(conn).get_table_names()):
            # A new embedded ledger (every `syndicate run` on a new file, every test): a third of
            # the time of running each script's DDL in turn.
            _create_fresh(conn)
            return before, _current(conn)
        from alembic import command

        cfg = alembic_config(engine)
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
        return before, _current(conn)


def upgrade(engine: Engine, revision: str = "head", *, via_scripts: bool = False) -> tuple[str | None, str | None]:
    """Upgrade the schema to ``revision``; the revisions before and after (None: no schema).
    Concurrent callers on PostgreSQL wait for each other.

    A new, empty SQLite database brought to ``head`` gets the declared tables in one step
    (:func:`_create_fresh`) unless ``via_scripts``; every other case runs the migration scripts.
    """
    from ..base.logging import get_logger

    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": _PG_LOCK_ID})
            try:
                before, after = _run(engine, conn, revision, via_scripts=via_scripts)
                conn.commit()
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _PG_LOCK_ID})
                conn.commit()
    else:
        with engine.begin() as conn:
            before, after = _run(engine, conn, revision, via_scripts=via_scripts)
    log = get_logger("syndicate.ledger")
    if before != after:
        log.info("ledger.migrated", from_revision=before, to_revision=after, database=engine.dialect.name)
    else:
        log.debug("ledger.up_to_date", revision=after, database=engine.dialect.name)
    return before, after
