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
        assert upgrade(ledger.engine, via_scripts=True) == (None, "0009")
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
    assert version == "0009"


def _schema(engine: Engine) -> dict[str, Any]:
    """Everything SQLite reports of each table; columns by name (their order is not compared)."""
    with engine.connect() as conn:
        i = inspect(conn)

        def named(rows: list[Any]) -> list[Any]:
            # a partial index's predicate is reflected as a text clause: compared by its SQL
            rows = [{**r, "dialect_options": {k: str(v) for k, v in r["dialect_options"].items()}}
                    if "dialect_options" in r else r for r in rows]
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
        assert one.migrate() == (None, "0009")
        assert upgrade(scripts.engine, via_scripts=True) == (None, "0009")
        # Then both are at the newest revision with the same tables, columns, keys, indexes and
        # constraints, and a later start finds nothing to do
        assert _schema(one.engine) == _schema(scripts.engine)
        assert set(_schema(one.engine)) >= {"publications", "items", "localizations", "events", "alembic_version"}
        assert one.migrate() == ("0009", "0009")


def test_an_existing_sqlite_ledger_is_migrated_by_the_scripts(tmp_path: Path) -> None:
    # Given a SQLite ledger at an older revision (built by the scripts)
    with Ledger(f"sqlite:///{tmp_path / 'old.db'}") as ledger:
        assert upgrade(ledger.engine, "0002") == (None, "0002")
        # When it is migrated / Then the scripts bring it to the newest revision
        assert ledger.migrate() == ("0002", "0009")
        assert _differences(ledger.engine) == []


def test_the_parent_index_holds_first_comments_only(ledger_url: str) -> None:
    # Given a ledger migrated through every script (0009 made the parent index partial)
    with Ledger(ledger_url) as ledger:
        upgrade(ledger.engine, via_scripts=True)
        with ledger.engine.connect() as conn:
            index = next(i for i in inspect(conn).get_indexes("publications")
                         if i["name"] == "ix_publications_parent_id")
            # Then the index covers parent_id only where it is set, on either back-end
            where = index.get("dialect_options", {}).get(f"{ledger.engine.dialect.name}_where")
            assert index["column_names"] == ["parent_id"]
            assert where is not None and "parent_id IS NOT NULL" in str(where)
            if ledger.engine.dialect.name == "postgresql":
                # and the planner still reads it for a post's comments (sequential scans off: the
                # table is empty, so a scan would otherwise be as cheap)
                conn.exec_driver_sql("SET enable_seqscan = off")
                plan = "\n".join(r[0] for r in conn.exec_driver_sql(
                    "EXPLAIN SELECT id FROM publications WHERE parent_id = 42"))
                assert "ix_publications_parent_id" in plan, plan
