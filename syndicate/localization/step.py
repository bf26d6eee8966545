"""The localize step behind the ``localize`` actor: one item revision into one locale.

Claim the localization (a duplicate message finds it claimed and stops), localize it for the
route that publishes the locale, record the fields (or the failure) and release the publications
that waited for it, all in the ledger.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..base.logging import get_logger
from ..base.metrics import count_localization
from ..base.secrets import redact
from ..errors import LocalizationError, TranslationQuotaExceeded, TranslationUnavailable
from ..ledger import worker_id
from ..model.item import ContentItem
from .cache import translation_cache
from .localize import localize_for_route, refused_detail, translation_detail

if TYPE_CHECKING:
    from ..services import Services

__all__ = ["do_localize"]

log = get_logger("syndicate.pipeline")


def do_localize(rt: Services, item_id: str, revision: int, locale: str, *, claim_owner: str | None = None) -> None:
    """Localize one item revision into one locale and release its publications.

    ``claim_owner`` names who holds the localization's claim (the localize actor passes its
    message); by default, the calling thread.
    """
    actor = worker_id()
    owner = claim_owner or actor
    routes = rt.config.routes_for_locale(locale)
    # The common case in one statement: the claim, taken only while the localization is to be done
    # and its item active, with both states read in the same statement.
    fast = None if not routes else rt.ledger.claim_pending_localization(
        item_id, revision, locale, worker=owner, lease=rt.timing.localize_time_limit)
    if fast is not None:
        claimed, loc_state, item_state = fast
        if loc_state is None or loc_state == "done" or item_state != "active":
            return
        if not claimed:
            log.info("localization.skipped", item=item_id, revision=revision, locale=locale,
                     reason="claimed elsewhere")
            return
        content = rt.ledger.item_content(item_id, revision)
        if content is None:  # cannot be: the claim read the item; give the claim back all the same
            rt.ledger.release_localization(item_id, revision, locale, worker=owner)
            return
    else:
        checked = _claim_checked(rt, item_id, revision, locale, actor=actor, owner=owner)
        if checked is None:
            return
        content = checked
    route = routes[0]
    settings = route.translation
    cache = translation_cache(rt.redis(), rt.namespace, rt.ledger)
    try:
        loc = localize_for_route(rt, route, content, locale, cache=cache)
    except (TranslationUnavailable, TranslationQuotaExceeded) as exc:
        rt.ledger.record_localization_failure(item_id, revision, locale, error=str(exc), actor=actor, retry=True)
        rt.ledger.release_localization(item_id, revision, locale, worker=owner)
        log.warning("localization.deferred", item=item_id, revision=revision, locale=locale, error=redact(str(exc)))
        count_localization(settings.engine, "deferred")
        return
    except LocalizationError as exc:
        rt.ledger.record_localization_failure(item_id, revision, locale, error=str(exc), actor=actor, retry=False,
                                              detail=refused_detail(exc))
        rt.ledger.release_localization(item_id, revision, locale, worker=owner)
        log.error("localization.failed", item=item_id, revision=revision, locale=locale, error=redact(str(exc)))
        count_localization(settings.engine, "failed")
        return
    if loc.fallback is not None:
        # Never silent: say what was used instead, in the audit trail and the logs.
        rt.ledger.record_event("localization-fallback", actor=actor, item_id=item_id, revision=revision,
                               error="; ".join(loc.warnings),
                               detail={"locale": locale, "engine": settings.engine, "used": loc.fallback})
        log.warning("localization.fallback", item=item_id, revision=revision, locale=locale,
                    engine=settings.engine, used=loc.fallback, reason=redact("; ".join(loc.warnings)))
    review = settings.review_required and loc.needs_review
    released = None if review else rt.ledger.record_localization_released(
        item_id, revision, locale, fields=loc.fields, sources=loc.sources, engine=loc.engine, actor=actor,
        warnings=loc.warnings, release_claim_of=owner, detail=translation_detail(loc))
    if released is None:
        released = rt.ledger.record_localization(
            item_id, revision, locale, fields=loc.fields, sources=loc.sources, engine=loc.engine,
            review_required=review, actor=actor, warnings=loc.warnings, release_claim_of=owner,
            detail=translation_detail(loc))
    log.info("localization.done", item=item_id, revision=revision, locale=locale, engine=loc.engine,
             sources=loc.sources, released=released, review=review, mt_requests=loc.requests,
             cache_hits=loc.cache_hits, strategy=loc.strategy, damaged=loc.damaged)
    count_localization(loc.engine, "done", requests=loc.requests, cache_hits=loc.cache_hits)


def _claim_checked(rt: Services, item_id: str, revision: int, locale: str, *, actor: str, owner: str
                   ) -> ContentItem | None:
    """Read the localization and its item, then claim it: the item's content when the claim is
    ours and there is work to do, else None (done already, item not active, no route, claimed
    elsewhere; a missing route is recorded as a failure)."""
    row = rt.ledger.localization(item_id, revision, locale)
    if row is None or row["state"] == "done":
        return None
    stored = rt.ledger.item(item_id, revision)
    if stored is None or stored.state != "active":
        return None
    if not rt.config.routes_for_locale(locale):
        rt.ledger.record_localization_failure(item_id, revision, locale, actor=actor, retry=False,
                                              error=f"no route publishes {locale} any more")
        return None
    # A duplicate message (intake and dispatcher both send one; redeliveries) must not ask the engine again.
    if not rt.ledger.claim_localization(item_id, revision, locale, worker=owner, lease=rt.timing.localize_time_limit):
        log.info("localization.skipped", item=item_id, revision=revision, locale=locale, reason="claimed elsewhere")
        return None
    row = rt.ledger.localization(item_id, revision, locale)
    if row is None or row["state"] == "done":  # finished while we waited for the claim
        rt.ledger.release_localization(item_id, revision, locale, worker=owner)
        return None
    return stored.item
