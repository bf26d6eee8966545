"""The migrations build exactly the schema that ``syndicate/ledger/schema.py`` declares."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from syndicate.ledger import Ledger
from syndicate.ledger.schema import metadata


def test_migrations_match_schema_module(ledger_url: str) -> None:
    # Given a fresh database brought to the newest migration
    with Ledger(ledger_url) as ledger:
        ledger.migrate()
        # When alembic compares the live schema with the declared tables
        with ledger.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), metadata)
    # Then there is no difference (add a migration whenever schema.py changes)
    assert diff == []


def test_migrating_twice_is_a_no_op(ledger_url: str) -> None:
    with Ledger(ledger_url) as ledger:
        ledger.migrate()
        ledger.migrate()
        with ledger.engine.connect() as conn:
            version = conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar_one()
    assert version == "0008"
