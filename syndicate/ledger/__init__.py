"""The ledger: items, localizations, publications and their audit trail (SQLAlchemy Core).

The only code in syndicate that speaks SQL: everything else asks :class:`Ledger`.
"""

from .calendar import CalendarRow
from .database import Clock, LedgerError, SystemClock, default_database_url, worker_id
from .engagement import Snapshot
from .items import StoredItem, SubmitOutcome
from .links import ClickCount, LinkTarget
from .operations import Operation, UnpublishPlan
from .outbox import ClaimedNotification
from .records import NewPublication, Outbox, Publication
from .store import Ledger

__all__ = [
    "CalendarRow",
    "ClaimedNotification",
    "ClickCount",
    "Clock",
    "Ledger",
    "LedgerError",
    "LinkTarget",
    "NewPublication",
    "Operation",
    "Outbox",
    "Publication",
    "Snapshot",
    "StoredItem",
    "SubmitOutcome",
    "SystemClock",
    "UnpublishPlan",
    "default_database_url",
    "worker_id",
]
