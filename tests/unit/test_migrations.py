"""The migrations build exactly the schema that ``syndicate/ledger/schema.py`` declares."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from syndicate.ledger import Ledger
from syndicate.ledger.schema import metadata


def test_migrations_match_schema_module(ledger_url: str) -> None:
    # Given a fresh database brought to the newest migration
    ledger = Ledger(ledger_url)
    ledger.migrate()
    # When alembic compares the live schema with the declared tables
    with ledger.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), metadata)
    ledger.close()
    # Then there is no difference (add a migration whenever schema.py changes)
    assert diff == []


def test_migrating_twice_is_a_no_op(ledger_url: str) -> None:
    ledger = Ledger(ledger_url)
    ledger.migrate()
    ledger.migrate()
    with ledger.engine.connect() as conn:
        version = conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar_one()
    ledger.close()
    assert version == "0004"
