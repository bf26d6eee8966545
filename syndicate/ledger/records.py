"""What the ledger hands out and takes in across its aggregates: a publication row, a planned
publication, and the builder of a state change's outbox rows."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.engine import RowMapping

from ..model.states import PublicationState

__all__ = ["FIRST_COMMENT_KEY_SUFFIX", "NewPublication", "Outbox", "Publication", "publication_from_row"]

S = PublicationState

#: What a first comment's key adds to its post's key.
FIRST_COMMENT_KEY_SUFFIX = "/first-comment"


@dataclass(frozen=True)
class Publication:
    """One row of ``publications``."""

    id: int
    key: str
    item_id: str
    revision: int
    locale: str
    account: str
    slot: int
    region: str
    channel: str
    campaign: str
    state: str
    ready: bool
    scheduled_for: datetime
    planned_for: datetime
    attempts: int
    failures: int
    deferrals: int
    last_error: str | None
    remote_id: str | None
    permalink: str | None
    tagged_url: str
    utm: dict[str, str]
    text_hash: str | None
    rendered: dict[str, Any] | None
    claimed_by: str | None
    claimed_at: datetime | None
    lease_until: datetime | None
    enqueued_at: datetime | None
    published_at: datetime | None
    created_at: datetime
    updated_at: datetime
    #: The post a first comment goes under (its row id); None for a post.
    parent_id: int | None = None

    @property
    def is_comment(self) -> bool:
        """Whether this publication is a first comment under another publication's post."""
        return self.parent_id is not None

    @property
    def marker(self) -> str:
        """A short token unique to this publication (used to find its post again)."""
        return hashlib.sha256(self.key.encode("utf-8")).hexdigest()[:12]

    @property
    def terminal(self) -> bool:
        """Whether the publication has reached a terminal state."""
        return S(self.state) in {S.PUBLISHED, S.FAILED, S.CANCELLED, S.SKIPPED, S.UNCONFIRMED, S.UNPUBLISHED}


_PUB_FIELDS = tuple(f.name for f in fields(Publication))


def publication_from_row(row: Mapping[str, Any] | RowMapping) -> Publication:
    """A :class:`Publication` from a row holding (at least) every ``publications`` column."""
    return Publication(**{k: row[k] for k in _PUB_FIELDS})


@dataclass(frozen=True)
class NewPublication:
    """A publication to create, as planned (see ``syndicate.intake.planning``)."""

    locale: str
    account: str
    slot: int
    region: str
    channel: str
    scheduled_for: datetime
    tagged_url: str
    utm: dict[str, str]
    state: PublicationState = S.SCHEDULED
    reason: str | None = None
    #: A first comment under the post planned just before it (same locale, account and slot).
    first_comment: bool = False

    def key(self, item_id: str, revision: int) -> str:
        """The publication's unique key (a first comment's is its post's with ``/first-comment``)."""
        post = f"{item_id}/{revision}/{self.locale}/{self.account}/{self.slot}"
        return f"{post}{FIRST_COMMENT_KEY_SUFFIX}" if self.first_comment else post

    @property
    def is_comment(self) -> bool:
        """Whether this is a first comment under the post planned before it."""
        return self.first_comment

    def post_key(self, item_id: str, revision: int) -> str:
        """The key of the post this publication belongs to (its own key for a post)."""
        return f"{item_id}/{revision}/{self.locale}/{self.account}/{self.slot}"


class Outbox(Protocol):
    """Builds the lifecycle notification rows (``notifications`` table) for one publication state
    change; the ledger inserts them in the transaction of the change (see ``syndicate.operations.notify``)."""

    def rows(self, pub: Publication, previous_state: str | None, kind: str, error: str | None,
             at: datetime) -> list[dict[str, Any]]:
        """Rows to insert for ``pub`` having just reached its state (none: not notified)."""
        ...
