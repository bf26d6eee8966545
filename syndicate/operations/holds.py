"""Why a publication waits: held accounts, in words for ``status``, ``report`` and ``run``.

An account whose credentials expired (a 401) is marked ``needs_credentials``; one whose endpoint
answered 410 Gone is ``disabled``. The dispatcher then holds the account's open publications: they
stay ``scheduled`` (or ``retrying``) with nothing sent and no attempt counted, until an operator
runs ``syndicate accounts reset ACCOUNT``. Nothing in the row itself says so, so every view that
shows a publication asks :func:`held_note` for the reason.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..ledger import Publication
from ..model.states import PublicationState

__all__ = ["HELD_STATES", "account_problem", "held_note"]

#: States in which a publication of a held account waits for the account (nothing is sent).
HELD_STATES = frozenset({PublicationState.SCHEDULED, PublicationState.ENQUEUED, PublicationState.RETRYING})

_STATUS_WORDS = {"needs_credentials": "needs new credentials", "disabled": "is disabled"}


def account_problem(account: str, status: str, reason: str | None) -> str:
    """``account 'x-na' needs new credentials (401 Unauthorized ...)``."""
    words = _STATUS_WORDS.get(status, f"is {status}")
    return f"account {account!r} {words}" + (f" ({reason})" if reason else "")


def held_note(pub: Publication, held: Mapping[str, tuple[str, str | None]]) -> str | None:
    """Why ``pub`` waits, when its account is held and the publication has not gone out; else None.

    Args:
        pub: the publication.
        held: ``Ledger.held_accounts()``: accounts that are not ``ok``, with status and reason.
    """
    if pub.account not in held or PublicationState(pub.state) not in HELD_STATES:
        return None
    status, reason = held[pub.account]
    return (f"held: {account_problem(pub.account, status, reason)}; it goes out once the account is fixed and "
            f"'syndicate accounts reset {pub.account}' is run")
