"""items.owner: who submitted the item's first revision

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07

Items stored before this migration get the actor of their first ``item.received`` event (the
audit trail has recorded the submitter from the start).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("items") as batch:
        batch.add_column(sa.Column("owner", sa.String(length=200), nullable=True))
    op.execute(sa.text(
        "UPDATE items SET owner = (SELECT e.actor FROM events e WHERE e.item_id = items.item_id "
        "AND e.kind = 'item.received' ORDER BY e.id LIMIT 1) WHERE owner IS NULL"))


def downgrade() -> None:
    with op.batch_alter_table("items") as batch:
        batch.drop_column("owner")
