"""operations: deletes of posts that went out (``unpublish``)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07

One row per post that ``unpublish`` removes, with its own claim, call and record states
(docs/reliability.md). Publications whose post was deleted move to the new state ``unpublished``;
the ``state`` column is a string, so that needs no schema change.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from syndicate.ledger.schema import UtcDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    big_id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
    op.create_table(
        "operations",
        sa.Column("id", big_id, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("item_id", sa.String(128), nullable=False),
        sa.Column("locale", sa.String(35), nullable=False),
        sa.Column("account", sa.String(64), nullable=False),
        sa.Column("channel", sa.String(64), nullable=False),
        sa.Column("remote_id", sa.String(256), nullable=False),
        sa.Column("publication_id", big_id, nullable=False),
        sa.Column("publication_ids", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("scheduled_for", UtcDateTime(), nullable=False),
        sa.Column("claimed_by", sa.String(200), nullable=True),
        sa.Column("lease_until", UtcDateTime(), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.Column("done_at", UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_operations"),
        sa.UniqueConstraint("account", "remote_id", "kind", name="uq_operations_account_remote_id_kind"),
    )
    op.create_index("ix_operations_state_scheduled_for", "operations", ["state", "scheduled_for"])
    op.create_index("ix_operations_item_id", "operations", ["item_id"])


def downgrade() -> None:
    op.drop_index("ix_operations_item_id", table_name="operations")
    op.drop_index("ix_operations_state_scheduled_for", table_name="operations")
    op.drop_table("operations")
