"""localizations.detail: how machine translation went

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-09

A JSON column: ``{"strategies": {field: "placeholders" | "split"}}`` for a finished localization,
``{"answers": {field: text}}`` (the engine's refused answers) for one held because both
strategies failed. Rows stored before this migration have none.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("localizations") as batch:
        batch.add_column(sa.Column("detail", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("localizations") as batch:
        batch.drop_column("detail")
