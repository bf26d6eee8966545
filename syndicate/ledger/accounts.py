"""Accounts: the status of each channel account (``ok``, ``needs_credentials``, ``disabled``).

Publications of an account whose status is not ``ok`` are held by the dispatcher; the publish
step reads a publication together with its account's status, in one statement.
"""

from __future__ import annotations

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError

from ..base.secrets import redact
from .core import LedgerCore
from .records import Publication
from .records import publication_from_row as _pub
from .schema import accounts, publications

__all__ = ["AccountStore"]

# Read for every publication, built once with bound parameters (docs/performance.md).
_PUBLICATION_WITH_ACCOUNT = (
    select(publications, accounts.c.status.label("account_status"), accounts.c.reason.label("account_reason"))
    .select_from(publications.outerjoin(accounts, accounts.c.account == publications.c.account))
    .where(publications.c.id == bindparam("pub_id")))
_ACCOUNT_STATUS = select(accounts.c.status, accounts.c.reason).where(accounts.c.account == bindparam("account"))


class AccountStore(LedgerCore):
    """Account statuses, set with an event, and read alone or with a publication."""

    def publication_for_publish(self, pub_id: int) -> tuple[Publication | None, str, str | None]:
        """One publication and its account's ``(status, reason)``, in one read (the publish step's first)."""
        with self._reader.connect() as conn:
            row = conn.execute(_PUBLICATION_WITH_ACCOUNT, {"pub_id": pub_id}).mappings().first()
        if row is None:
            return None, "ok", None
        return _pub(row), row["account_status"] or "ok", row["account_reason"]

    def account_status(self, account: str) -> tuple[str, str | None]:
        """``(status, reason)``; ``("ok", None)`` for accounts never marked."""
        with self._reader.connect() as conn:
            row = conn.execute(_ACCOUNT_STATUS, {"account": account}).first()
        return (row.status, row.reason) if row else ("ok", None)

    def held_accounts(self) -> dict[str, tuple[str, str | None]]:
        """Every account whose status is not ``ok``: ``{account: (status, reason)}`` (one query)."""
        with self._reader.connect() as conn:
            rows = conn.execute(select(accounts.c.account, accounts.c.status, accounts.c.reason)
                                .where(accounts.c.status != "ok")).all()
        return {r.account: (r.status, r.reason) for r in rows}

    def set_account_status(self, account: str, status: str, reason: str | None, *, actor: str) -> None:
        """Mark an account (``ok``, ``needs_credentials`` or ``disabled``), with an event.

        Publications of an account whose status is not ``ok`` are held by the dispatcher.
        """
        now = self.now()
        with self.begin() as conn:
            res = conn.execute(update(accounts).where(accounts.c.account == account)
                               .values(status=status, reason=redact(reason) if reason else None, updated_at=now))
            if res.rowcount == 0:
                try:
                    with conn.begin_nested():
                        conn.execute(insert(accounts).values(account=account, status=status,
                                                             reason=redact(reason) if reason else None,
                                                             updated_at=now))
                except IntegrityError:
                    conn.execute(update(accounts).where(accounts.c.account == account)
                                 .values(status=status, reason=redact(reason) if reason else None,
                                         updated_at=now))
            self._event(conn, kind=f"account.{status}", actor=actor, error=reason, detail={"account": account})

