"""Key-value state: small versioned values (adapters' OAuth tokens and feed state through
:class:`~syndicate.ledger.statestore.StateStore`, the embedded translation cache, the engagement
round), written with compare-and-set."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, insert, select, update
from sqlalchemy.exc import IntegrityError

from .core import LedgerCore
from .schema import state_kv

__all__ = ["KeyValueStore"]


class KeyValueStore(LedgerCore):
    """``state_kv``: a value and its version per ``(namespace, key)``."""

    def kv_get(self, namespace: str, key: str) -> tuple[Any, int] | None:
        """``(value, version)`` or None."""
        with self._reader.connect() as conn:
            row = conn.execute(select(state_kv.c.value, state_kv.c.version).where(and_(
                state_kv.c.namespace == namespace, state_kv.c.key == key))).first()
        return (row.value, row.version) if row else None

    def kv_put(self, namespace: str, key: str, value: Any, *, expect_version: int | None) -> bool:
        """Write ``value`` if the stored version is ``expect_version`` (None: must not exist yet)."""
        now = self.now()
        with self.begin() as conn:
            if expect_version is None:
                try:
                    with conn.begin_nested():
                        conn.execute(insert(state_kv).values(namespace=namespace, key=key, value=value,
                                                             version=1, updated_at=now))
                    return True
                except IntegrityError:
                    return False
            res = conn.execute(update(state_kv).where(and_(
                state_kv.c.namespace == namespace, state_kv.c.key == key, state_kv.c.version == expect_version))
                .values(value=value, version=expect_version + 1, updated_at=now))
            return res.rowcount == 1
