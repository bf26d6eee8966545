"""Ledger tables (SQLAlchemy Core). Migrations in ``syndicate/migrations`` must match this file:
``tests/unit/test_migrations.py`` compares them."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

__all__ = [
    "UtcDateTime",
    "accounts",
    "clicks",
    "engagement_snapshots",
    "events",
    "items",
    "leases",
    "localizations",
    "metadata",
    "notifications",
    "operations",
    "publications",
    "rate_windows",
    "short_links",
    "state_kv",
]

class UtcDateTime(TypeDecorator[datetime]):
    """An aware UTC datetime on every database (SQLite keeps no offset, so we store UTC there)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("the ledger stores aware datetimes only")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# BigInteger ids that are plain INTEGER on SQLite, so that SQLite's rowid autoincrement applies.
BigId = BigInteger().with_variant(Integer(), "sqlite")

#: Every submitted (item, revision). ``state``: active, superseded, cancelled.
items = Table(
    "items",
    metadata,
    Column("item_id", String(128), nullable=False),
    Column("revision", Integer, nullable=False),
    Column("payload", JSON, nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("campaign", String(100), nullable=False),
    Column("state", String(16), nullable=False),
    Column("received_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    # Who submitted the item's first revision (``api:<token name>``, ``cli``...), copied to every
    # revision: only they, an admin token or an operator may supersede or cancel it.
    Column("owner", String(200), nullable=True),
    PrimaryKeyConstraint("item_id", "revision"),
    Index(None, "campaign"),
)

#: One localization per (item, revision, locale). ``state``: pending, done, failed, held.
localizations = Table(
    "localizations",
    metadata,
    Column("item_id", String(128), nullable=False),
    Column("revision", Integer, nullable=False),
    Column("locale", String(35), nullable=False),
    Column("state", String(16), nullable=False),
    Column("fields", JSON, nullable=True),
    Column("sources", JSON, nullable=True),
    Column("engine", String(32), nullable=True),
    Column("error", Text, nullable=True),
    Column("attempts", Integer, nullable=False, default=0),
    Column("requested_at", UtcDateTime(), nullable=True),
    #: How machine translation went: ``strategies`` (field → placeholders | split) when done; the
    #: engine's refused ``answers`` (field → text) when both strategies failed. See docs/localization.md.
    Column("detail", JSON, nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    PrimaryKeyConstraint("item_id", "revision", "locale"),
    ForeignKeyConstraint(["item_id", "revision"], ["items.item_id", "items.revision"]),
    Index(None, "state", "requested_at"),
)

#: One row per post to make: (item, revision, locale, account, slot).
publications = Table(
    "publications",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("key", String(400), nullable=False),
    Column("item_id", String(128), nullable=False),
    Column("revision", Integer, nullable=False),
    Column("locale", String(35), nullable=False),
    Column("account", String(64), nullable=False),
    Column("slot", Integer, nullable=False),
    Column("region", String(64), nullable=False),
    Column("channel", String(64), nullable=False),
    Column("campaign", String(100), nullable=False),
    Column("state", String(16), nullable=False),
    # The state before the last change: set by the same UPDATE (``previous_state = state``), so a
    # transition learns what it moved from without reading the row first.
    Column("previous_state", String(16), nullable=True),
    Column("ready", Boolean, nullable=False, default=False),
    Column("scheduled_for", UtcDateTime(), nullable=False),
    Column("planned_for", UtcDateTime(), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("failures", Integer, nullable=False, default=0),
    Column("deferrals", Integer, nullable=False, default=0),
    Column("last_error", Text, nullable=True),
    Column("remote_id", String(256), nullable=True),
    Column("permalink", String(2048), nullable=True),
    Column("tagged_url", String(4096), nullable=False),
    Column("utm", JSON, nullable=False),
    Column("text_hash", String(64), nullable=True),
    Column("rendered", JSON, nullable=True),
    Column("claimed_by", String(200), nullable=True),
    Column("claimed_at", UtcDateTime(), nullable=True),
    Column("lease_until", UtcDateTime(), nullable=True),
    Column("enqueued_at", UtcDateTime(), nullable=True),
    Column("published_at", UtcDateTime(), nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    # A first comment's post (its row id); null for posts. The comment is released when its post is
    # published, and skipped when the post fails (docs/reliability.md).
    Column("parent_id", BigId, nullable=True),
    UniqueConstraint("key"),
    ForeignKeyConstraint(["item_id", "revision"], ["items.item_id", "items.revision"]),
    Index(None, "state", "scheduled_for"),
    Index(None, "item_id", "revision"),
    Index(None, "campaign"),
    Index(None, "account", "state"),
    # Only first comments have a parent; the index is read by a post's id, never for null (0009).
    Index(None, "parent_id", postgresql_where=text("parent_id IS NOT NULL"),
          sqlite_where=text("parent_id IS NOT NULL")),
)

#: Append-only audit of every transition and notable decision.
events = Table(
    "events",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("at", UtcDateTime(), nullable=False),
    Column("publication_id", BigId, nullable=True),
    Column("item_id", String(128), nullable=True),
    Column("revision", Integer, nullable=True),
    Column("kind", String(48), nullable=False),
    Column("from_state", String(16), nullable=True),
    Column("to_state", String(16), nullable=True),
    Column("actor", String(200), nullable=False),
    Column("error", Text, nullable=True),
    Column("detail", JSON, nullable=True),
    Index(None, "publication_id"),
    Index(None, "item_id", "revision"),
)

#: Per-account health: ``needs_credentials`` holds the account's publications until fixed.
accounts = Table(
    "accounts",
    metadata,
    Column("account", String(64), primary_key=True),
    Column("status", String(32), nullable=False),
    Column("reason", Text, nullable=True),
    Column("updated_at", UtcDateTime(), nullable=False),
)

#: Small durable key-value store shared by workers (tokens, feed state, caches in embedded mode).
state_kv = Table(
    "state_kv",
    metadata,
    Column("namespace", String(64), nullable=False),
    Column("key", String(256), nullable=False),
    Column("value", JSON, nullable=False),
    Column("version", Integer, nullable=False, default=1),
    Column("updated_at", UtcDateTime(), nullable=False),
    PrimaryKeyConstraint("namespace", "key"),
)

#: Outbox of lifecycle webhooks to producers: one row per (publication state change, endpoint),
#: written in the transaction of the change. ``state``: pending, delivered, failed (gave up).
notifications = Table(
    "notifications",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("webhook_id", String(64), nullable=False),
    Column("endpoint", String(64), nullable=False),
    Column("event_type", String(48), nullable=False),
    Column("publication_id", BigId, nullable=True),
    Column("item_id", String(128), nullable=True),
    Column("payload", JSON, nullable=False),
    Column("state", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UtcDateTime(), nullable=False),
    Column("last_status", Integer, nullable=True),
    Column("last_error", Text, nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("delivered_at", UtcDateTime(), nullable=True),
    Column("updated_at", UtcDateTime(), nullable=False),
    UniqueConstraint("webhook_id"),
    Index(None, "state", "next_attempt_at"),
    Index(None, "publication_id"),
)

#: Response counts of published posts (likes, reposts, replies, impressions, clicks, ...), one
#: row per publication and snapshot time.
engagement_snapshots = Table(
    "engagement_snapshots",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("publication_id", BigId, nullable=False),
    Column("taken_at", UtcDateTime(), nullable=False),
    Column("counts", JSON, nullable=False),
    Index(None, "publication_id", "taken_at"),
)

#: Operations on posts that already went out, other than the revision updates (which are the new
#: revision's publication rows): one ``delete`` per live post that ``unpublish`` removes. ``state``:
#: pending, calling, retrying, in_doubt, done, failed, unconfirmed. ``publication_ids`` are the
#: publication rows the post stands for (every revision of a post updated in place); they become
#: ``unpublished`` when the delete is done. One row per (account, post, kind): a second
#: ``unpublish`` finds it and makes no call (docs/reliability.md).
operations = Table(
    "operations",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("kind", String(16), nullable=False),
    Column("item_id", String(128), nullable=False),
    Column("locale", String(35), nullable=False),
    Column("account", String(64), nullable=False),
    Column("channel", String(64), nullable=False),
    Column("remote_id", String(256), nullable=False),
    Column("publication_id", BigId, nullable=False),
    Column("publication_ids", JSON, nullable=False),
    Column("state", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("failures", Integer, nullable=False, default=0),
    Column("last_error", Text, nullable=True),
    Column("actor", String(200), nullable=False),
    Column("scheduled_for", UtcDateTime(), nullable=False),
    Column("claimed_by", String(200), nullable=True),
    Column("lease_until", UtcDateTime(), nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    Column("done_at", UtcDateTime(), nullable=True),
    UniqueConstraint("account", "remote_id", "kind"),
    Index(None, "state", "scheduled_for"),
    Index(None, "item_id"),
)

#: Leases held through the ledger when there is no Redis (a RabbitMQ broker): one row per lease
#: key; ``expires_ms`` is the database server's clock in milliseconds since the epoch
#: (``syndicate.ledger.leases``).
leases = Table(
    "leases",
    metadata,
    Column("key", String(256), primary_key=True),
    Column("holder", String(256), nullable=False),
    Column("expires_ms", BigInteger, nullable=False),
)

#: Post caps shared through the ledger when there is no Redis: one row per (account, window
#: length), the grant times (ms) still inside the window (``syndicate.ledger.ratewindows``).
rate_windows = Table(
    "rate_windows",
    metadata,
    Column("account", String(64), nullable=False),
    Column("per_ms", BigInteger, nullable=False),
    Column("grants", JSON, nullable=False),
    PrimaryKeyConstraint("account", "per_ms"),
)

#: First-party short links (docs/short-links.md): one code per publication, made once and never
#: reused or deleted. ``target_publication_id`` is the newest revision's publication of the same
#: (item, locale, account, slot): a click on an older post goes to the newest tagged URL, and is
#: counted under the publication whose post carried the code.
short_links = Table(
    "short_links",
    metadata,
    Column("code", String(32), nullable=False),
    Column("publication_id", BigId, nullable=False),
    Column("item_id", String(128), nullable=False),
    Column("locale", String(35), nullable=False),
    Column("account", String(64), nullable=False),
    Column("slot", Integer, nullable=False),
    Column("revision", Integer, nullable=False),
    Column("target_publication_id", BigId, nullable=False),
    Column("target_revision", Integer, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    PrimaryKeyConstraint("code"),
    UniqueConstraint("publication_id"),
    Index(None, "item_id", "locale", "account", "slot"),
    Index(None, "updated_at"),
)

#: Short-link clicks per publication and hour (UTC, at the start of the hour); no address or
#: agent is kept. ``bot``: known crawlers, link previewers and HEAD requests.
clicks = Table(
    "clicks",
    metadata,
    Column("publication_id", BigId, nullable=False),
    Column("hour", UtcDateTime(), nullable=False),
    Column("human", BigInteger, nullable=False, default=0),
    Column("bot", BigInteger, nullable=False, default=0),
    PrimaryKeyConstraint("publication_id", "hour"),
)
