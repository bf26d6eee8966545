"""The ledger: items, localizations, publications and their audit trail (SQLAlchemy Core)."""

from .store import (
    Clock,
    Ledger,
    NewPublication,
    Publication,
    StoredItem,
    SubmitOutcome,
    SystemClock,
    default_database_url,
    worker_id,
)

__all__ = [
    "Clock",
    "Ledger",
    "NewPublication",
    "Publication",
    "StoredItem",
    "SubmitOutcome",
    "SystemClock",
    "default_database_url",
    "worker_id",
]
