"""The migrations build exactly the schema that ``syndicate/ledger/schema.py`` declares, and a new
SQLite ledger built from that module in one step is the schema the scripts build."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect

from syndicate.ledger import Ledger
from syndicate.ledger.migrate import upgrade
from syndicate.ledger.schema import metadata


def _differences(engine: Engine) -> list[Any]:
    """What alembic finds between the live schema and the tables ``schema.py`` declares."""
    with engine.connect() as conn:
        diff: list[Any] = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), metadata)
    return diff


def test_migrations_match_schema_module(ledger_url: str) -> None:
    # Given a fresh database brought to the newest migration by running every script
    with Ledger(ledger_url) as ledger:
        assert upgrade(ledger.engine, via_scripts=True) == (None, "0008")
        # When alembic compares the live schema with the declared tables
        diff = _differences(ledger.engine)
    # Then there is no difference (add a migration whenever schema.py changes)
    assert diff == []


def test_migrating_twice_is_a_no_op(ledger_url: str) -> None:
    with Ledger(ledger_url) as ledger:
        ledger.migrate()
        ledger.migrate()
        with ledger.engine.connect() as conn:
            version = conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar_one()
    assert version == "0008"


def _schema(engine: Engine) -> dict[str, Any]:
    """Everything SQLite reports of each table; columns by name (their order is not compared)."""
    with engine.connect() as conn:
        i = inspect(conn)

        def named(rows: list[Any]) -> list[Any]:
            return sorted(rows, key=lambda r: str(r.get("name")) + repr(sorted(r.items(), key=str)))

        return {t: {"columns": {c["name"]: {**c, "type": str(c["type"])} for c in i.get_columns(t)},
                    "primary key": i.get_pk_constraint(t),
                    "foreign keys": named(i.get_foreign_keys(t)),
                    "indexes": named(i.get_indexes(t)),
                    "unique": named(i.get_unique_constraints(t)),
                    "checks": named(i.get_check_constraints(t))}
                for t in i.get_table_names()}


def test_a_new_sqlite_ledger_built_in_one_step_has_the_schema_the_scripts_build(tmp_path: Path) -> None:
    # Given one new SQLite ledger migrated the default way (one step) and one through every script
    with Ledger(f"sqlite:///{tmp_path / 'one-step.db'}") as one, \
            Ledger(f"sqlite:///{tmp_path / 'scripts.db'}") as scripts:
        assert one.migrate() == (None, "0008")
        assert upgrade(scripts.engine, via_scripts=True) == (None, "0008")
        # Then both are at the newest revision with the same tables, columns, keys, indexes and
        # constraints, and a later start finds nothing to do
        assert _schema(one.engine) == _schema(scripts.engine)
        assert set(_schema(one.engine)) >= {"publications", "items", "localizations", "events", "alembic_version"}
        assert one.migrate() == ("0008", "0008")


def test_an_existing_sqlite_ledger_is_migrated_by_the_scripts(tmp_path: Path) -> None:
    # Given a SQLite ledger at an older revision (built by the scripts)
    with Ledger(f"sqlite:///{tmp_path / 'old.db'}") as ledger:
        assert upgrade(ledger.engine, "0002") == (None, "0002")
        # When it is migrated / Then the scripts bring it to the newest revision
        assert ledger.migrate() == ("0002", "0008")
        assert _differences(ledger.engine) == []
