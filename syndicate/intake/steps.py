"""The intake step behind the ``intake`` actor: ask for the localizations of a stored item."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..base.logging import get_logger
from .shortlinks import make_short_links

if TYPE_CHECKING:
    from ..services import Services

__all__ = ["do_intake"]

log = get_logger("syndicate.pipeline")


def do_intake(rt: Services, item_id: str, revision: int) -> list[str]:
    """Request the localizations of a stored item; returns the locales requested."""
    stored = rt.ledger.item(item_id, revision)
    if stored is None or stored.state != "active":
        log.info("intake.skipped", item=item_id, revision=revision, reason="not active")
        return []
    # Short links are made once, at planning, so the redirect app knows them before any post is out.
    make_short_links(rt, lambda: rt.ledger.publications(item_id=item_id, revision=revision))
    # Leave out what the dispatcher requested moments ago: its localize message is on the way.
    locales = rt.ledger.mark_localizations_requested(item_id, revision, fresh_within=rt.timing.localize_stale_after)
    for loc in locales:
        rt.actors.localize.send(item_id, revision, loc)
    log.info("intake.done", item=item_id, revision=revision, locales=locales)
    return locales
