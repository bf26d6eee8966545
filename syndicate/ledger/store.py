"""The ledger: every item, localization and publication, and the only place states change.

:class:`Ledger` is the one object the rest of syndicate uses. Its methods live with the aggregate
whose tables they read and write, one module each:

=======================  ==============================================================
:mod:`.publications`     publications, their transitions (with events and outbox rows), the
                         dispatcher's queries
:mod:`.items`            items: submission with the plan, reads, cancellation
:mod:`.operations`       deletes of posts that went out (``unpublish``), versions of a post
:mod:`.localizations`    localizations, localize claims, review
:mod:`.hotpath`          the pipeline's common case in one statement per step (PostgreSQL)
:mod:`.accounts`         account statuses
:mod:`.keyvalue`         versioned key-value state
:mod:`.outbox`           delivery of producer webhooks (``notifications``)
:mod:`.engagement`       engagement snapshots
:mod:`.calendar`         the calendar's read: publications in a span of time, with titles
:mod:`.links`            short links and their click counts
:mod:`.core`             the database, the clock, transactions, the audit trail (``events``)
=======================  ==============================================================
"""

from __future__ import annotations

from datetime import timedelta

from .accounts import AccountStore
from .calendar import CalendarStore
from .database import PING_AFTER_IDLE, Clock
from .engagement import EngagementStore
from .hotpath import HotPathStore
from .items import ContentCache, ItemStore
from .keyvalue import KeyValueStore
from .links import LinkStore
from .operations import OperationStore
from .outbox import OutboxStore
from .records import Outbox

__all__ = ["Ledger"]


class Ledger(ItemStore, OperationStore, HotPathStore, EngagementStore, CalendarStore, LinkStore, AccountStore,
             KeyValueStore,
             OutboxStore):
    """Access to the ledger database; a context manager that closes it on exit.

    Args:
        url: SQLAlchemy URL; default :func:`~syndicate.ledger.default_database_url`.
        clock: time source (tests pass a controllable one).
        ping_after_idle: PostgreSQL: a pooled connection idle this long is pinged before use.
        outbox: builds the producer-webhook rows each publication state change inserts in its
            transaction (``syndicate.operations.notify.WebhookOutbox``); None: producer webhooks are off.
    """

    def __init__(self, url: str | None = None, *, clock: Clock | None = None,
                 ping_after_idle: timedelta = PING_AFTER_IDLE, outbox: Outbox | None = None) -> None:
        super().__init__(url, clock=clock, ping_after_idle=ping_after_idle, outbox=outbox)
        self._contents = ContentCache()
