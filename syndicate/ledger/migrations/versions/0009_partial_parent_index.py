"""publications.parent_id: index only the rows that have one (first comments)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07

Almost every row is a post, whose ``parent_id`` is null; the index is read only by a post's id
(``parent_id = :post`` or ``IN (...)``), which never matches null. A partial index holds first
comments alone, so a change of state of a post (never a heap-only update: ``state`` is indexed)
writes one index entry fewer (docs/performance.md, "One watcher for every deadline, hosts
compared once, first comments in their own index").
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_WHERE = sa.text("parent_id IS NOT NULL")


def upgrade() -> None:
    op.drop_index("ix_publications_parent_id", table_name="publications")
    op.create_index("ix_publications_parent_id", "publications", ["parent_id"],
                    postgresql_where=_WHERE, sqlite_where=_WHERE)


def downgrade() -> None:
    op.drop_index("ix_publications_parent_id", table_name="publications")
    op.create_index("ix_publications_parent_id", "publications", ["parent_id"])
