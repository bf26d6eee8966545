"""Alembic environment: runs against the connection that ``syndicate.ledger.migrate`` passes in."""

from __future__ import annotations

from alembic import context

from syndicate.ledger.schema import metadata

config = context.config
connection = config.attributes.get("connection")
if connection is None:  # pragma: no cover - only when someone runs the alembic CLI by hand
    raise SystemExit("run migrations with 'syndicate migrate', which passes the ledger connection")

context.configure(connection=connection, target_metadata=metadata, render_as_batch=True, compare_type=True)
with context.begin_transaction():
    context.run_migrations()
