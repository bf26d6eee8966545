"""short_links and clicks: first-party short links and their click counts

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07

``short_links``: one unguessable code per publication, pointing at the newest revision's
publication of the same (item, locale, account, slot). ``clicks``: counts per publication and
hour, humans and bots apart; no address or user agent is stored (docs/short-links.md).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from syndicate.ledger.schema import UtcDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "short_links",
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("publication_id", _ID, nullable=False),
        sa.Column("item_id", sa.String(length=128), nullable=False),
        sa.Column("locale", sa.String(length=35), nullable=False),
        sa.Column("account", sa.String(length=64), nullable=False),
        sa.Column("slot", sa.Integer(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("target_publication_id", _ID, nullable=False),
        sa.Column("target_revision", sa.Integer(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_short_links")),
        sa.UniqueConstraint("publication_id", name=op.f("uq_short_links_publication_id")),
    )
    op.create_index(op.f("ix_short_links_item_id_locale_account_slot"), "short_links",
                    ["item_id", "locale", "account", "slot"])
    op.create_index(op.f("ix_short_links_updated_at"), "short_links", ["updated_at"])
    op.create_table(
        "clicks",
        sa.Column("publication_id", _ID, nullable=False),
        sa.Column("hour", UtcDateTime(), nullable=False),
        sa.Column("human", sa.BigInteger(), nullable=False),
        sa.Column("bot", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("publication_id", "hour", name=op.f("pk_clicks")),
    )


def downgrade() -> None:
    op.drop_table("clicks")
    op.drop_index(op.f("ix_short_links_updated_at"), table_name="short_links")
    op.drop_index(op.f("ix_short_links_item_id_locale_account_slot"), table_name="short_links")
    op.drop_table("short_links")
