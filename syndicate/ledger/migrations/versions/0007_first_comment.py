"""publications.parent_id: a first comment is a publication of its own under its post

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07

A first comment (docs/items.md) is planned with its post and released when the post is published:
``parent_id`` is the post's row id, null for every post. Rows stored before this migration are posts.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("publications") as batch:
        batch.add_column(sa.Column("parent_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True))
        batch.create_index("ix_publications_parent_id", ["parent_id"])


def downgrade() -> None:
    with op.batch_alter_table("publications") as batch:
        batch.drop_index("ix_publications_parent_id")
        batch.drop_column("parent_id")
