"""The version history of each post of an item: every revision's row for one locale, account and
slot, with what reached the platform (``syndicate status`` shows it; docs/reliability.md).

A post that went out and was revised has one row per revision: each keeps its own text hash,
permalink and ``utm_content``, and the event that settled it says how the revision reached the
post (created, updated in place, unchanged, replied, kept, replaced, unpublished).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ..ledger import Ledger, Publication

__all__ = ["HOW_KINDS", "PostHistory", "Version", "version_history"]

#: Event kinds that say how a version reached its post, latest wins.
HOW_KINDS = {"published": "created", "reconciled": "created", "resolved": "created", "updated": "updated",
             "unchanged": "unchanged (no call)", "replied": "replied", "revision-kept": "kept (no call)",
             "unpublished": "unpublished"}


@dataclass(frozen=True)
class Version:
    """One revision of a post."""

    revision: int
    publication: int
    state: str
    how: str | None
    remote_id: str | None
    permalink: str | None
    utm_content: str | None
    text_hash: str | None

    def as_json(self) -> dict[str, Any]:
        """The version as JSON data."""
        return dict(self.__dict__)


@dataclass(frozen=True)
class PostHistory:
    """Every version of the post of one locale, account and slot, oldest first."""

    locale: str
    account: str
    slot: int
    versions: list[Version]


def version_history(ledger: Ledger, item_id: str) -> list[PostHistory]:
    """The history of each post of ``item_id`` across its revisions."""
    pubs = ledger.publications(item_id=item_id)
    how: dict[int, str] = {}
    for event in ledger.events(item_id=item_id):
        pid, kind = event.get("publication_id"), str(event.get("kind"))
        if pid is not None and kind in HOW_KINDS:
            how[int(pid)] = HOW_KINDS[kind]
    chains: dict[tuple[str, str, int], list[Publication]] = {}
    for p in pubs:
        chains.setdefault((p.locale, p.account, p.slot), []).append(p)
    return [PostHistory(locale, account, slot, _versions(rows, how))
            for (locale, account, slot), rows in sorted(chains.items())]


def _versions(rows: Iterable[Publication], how: dict[int, str]) -> list[Version]:
    return [Version(p.revision, p.id, p.state, how.get(p.id), p.remote_id, p.permalink,
                    (p.utm or {}).get("utm_content"), p.text_hash)
            for p in sorted(rows, key=lambda p: p.revision)]
