"""leases and rate_windows: leader lease, locks and post caps without Redis

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07

With a RabbitMQ broker and no Redis, the dispatcher's leader lease, the adapters' locks and the
per-account post caps are kept in the ledger: ``leases`` (one row per lease key, its holder and
its expiry on the database server's clock, in ms) and ``rate_windows`` (one row per account and
window length, the grant times still inside the window).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "leases",
        sa.Column("key", sa.String(256), primary_key=True),
        sa.Column("holder", sa.String(256), nullable=False),
        sa.Column("expires_ms", sa.BigInteger(), nullable=False),
    )
    op.create_table(
        "rate_windows",
        sa.Column("account", sa.String(64), nullable=False),
        sa.Column("per_ms", sa.BigInteger(), nullable=False),
        sa.Column("grants", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("account", "per_ms"),
    )


def downgrade() -> None:
    op.drop_table("rate_windows")
    op.drop_table("leases")
