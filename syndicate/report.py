"""Attribution reports: every publication with its back-link and UTM fields (CSV or JSON)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Sequence
from typing import Any

from .ledger import Ledger, Publication

__all__ = ["REPORT_FIELDS", "report_rows", "write_report"]

#: Columns of ``syndicate report``, in order.
REPORT_FIELDS = (
    "item_id", "revision", "locale", "region", "channel", "account", "slot", "state", "scheduled_for",
    "published_at", "permalink", "tagged_url", "utm_source", "utm_medium", "utm_campaign", "utm_content",
    "utm_term", "utm_id", "attempts", "last_error",
)


def _row(p: Publication) -> dict[str, Any]:
    return {
        "item_id": p.item_id, "revision": p.revision, "locale": p.locale, "region": p.region,
        "channel": p.channel, "account": p.account, "slot": p.slot, "state": p.state,
        "scheduled_for": p.scheduled_for.isoformat(),
        "published_at": p.published_at.isoformat() if p.published_at else "",
        "permalink": p.permalink or "", "tagged_url": p.tagged_url,
        **{k: p.utm.get(k, "") for k in ("utm_source", "utm_medium", "utm_campaign", "utm_content",
                                          "utm_term", "utm_id")},
        "attempts": p.attempts, "last_error": p.last_error or "",
    }


def report_rows(ledger: Ledger, *, campaign: str | None = None, item_id: str | None = None,
                states: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """Report rows for the publications that match, ordered by item, revision, locale, account."""
    pubs = ledger.publications(campaign=campaign, item_id=item_id, state=list(states) if states else None)
    return [_row(p) for p in pubs]


def write_report(rows: Iterable[dict[str, Any]], fmt: str) -> str:
    """Render rows as ``csv`` or ``json``."""
    rows = list(rows)
    if fmt == "json":
        return json.dumps(rows, indent=2, ensure_ascii=False) + "\n"
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(REPORT_FIELDS), lineterminator="\n")
    writer.writeheader()
    for r in rows:
        writer.writerow(r)
    return buf.getvalue()
