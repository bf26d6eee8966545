"""The intake step behind the ``intake`` actor: ask for the localizations of a stored item."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..base.enqueue import enqueue_many
from ..base.logging import get_logger
from .shortlinks import make_short_links

if TYPE_CHECKING:
    from ..services import Services

__all__ = ["do_intake"]

log = get_logger("syndicate.pipeline")


def do_intake(rt: Services, item_id: str, revision: int) -> list[str]:
    """Request the localizations of a stored item; returns the locales requested."""
    # Leave out what the dispatcher requested moments ago: its localize message is on the way.
    fresh_within = rt.timing.localize_stale_after
    requested = rt.ledger.request_localizations_if_active(item_id, revision, fresh_within=fresh_within)
    if requested is not None:  # the item's state read and the localizations marked in one statement
        active, locales = requested
    else:
        stored = rt.ledger.item(item_id, revision)
        active = stored is not None and stored.state == "active"
        locales = rt.ledger.mark_localizations_requested(item_id, revision, fresh_within=fresh_within) if active else []
    if not active:
        log.info("intake.skipped", item=item_id, revision=revision, reason="not active")
        return []
    # Short links are made once, at planning, so the redirect app knows them before any post is out.
    make_short_links(rt, lambda: rt.ledger.publications(item_id=item_id, revision=revision))
    enqueue_many(rt.broker, [(rt.actors.localize.message(item_id, revision, loc), None) for loc in locales])
    log.info("intake.done", item=item_id, revision=revision, locales=locales)
    return locales
