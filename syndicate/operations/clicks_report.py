"""Short-link clicks as the API and reports show them: per publication, all time and per hour."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..intake.shortlinks import short_link_settings

if TYPE_CHECKING:
    from ..services import Services

__all__ = ["item_clicks"]


def item_clicks(rt: Services, item_id: str) -> dict[str, Any]:
    """``GET /v1/items/{id}/clicks``: every publication of the item (all revisions) that has a short
    link or clicks, with its code, short link, all-time counts and counts per hour (UTC).

    Clicks count under the publication whose post carried the code, even once an older
    revision's code sends readers on to the newest revision's tagged URL.
    """
    pubs = rt.ledger.publications(item_id=item_id)
    ids = [p.id for p in pubs]
    codes = rt.ledger.short_link_codes(ids)
    totals = rt.ledger.click_totals(ids)
    hours: dict[int, list[dict[str, Any]]] = {}
    for c in rt.ledger.clicks_by_hour(ids):
        assert c.hour is not None
        hours.setdefault(c.publication_id, []).append({"hour": c.hour.isoformat(), "human": c.human, "bot": c.bot})
    out = []
    for p in sorted(pubs, key=lambda p: (p.revision, p.locale, p.account, p.slot)):
        code = codes.get(p.id)
        if code is None and p.id not in totals:
            continue
        settings = short_link_settings(rt.config, p)
        total = totals.get(p.id)
        out.append({"publication_id": p.id, "revision": p.revision, "locale": p.locale, "account": p.account,
                    "channel": p.channel, "slot": p.slot, "state": p.state, "code": code,
                    "short_link": settings.base_url + code if settings and code else None,
                    "tagged_url": p.tagged_url, "human": total.human if total else 0,
                    "bot": total.bot if total else 0, "hours": hours.get(p.id, [])})
    return {"item_id": item_id, "publications": out}
