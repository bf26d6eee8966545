"""Unpublish an item: delete its posts that went out, and cancel what has not gone out yet.

``unpublish`` is ``cancel`` (every open publication of the item, or of one locale or account,
is cancelled) plus one ``delete`` operation per live post, carried out by the ``unpublish`` actor
(:mod:`syndicate.publishing.unpublish`: claim → call → record, a delete in doubt reconciled by
asking the platform whether the post still exists). A repeat makes no call and says so: the posts
are already ``unpublished``, or their delete is still under way. Scoped like ``cancel``: a
producer may unpublish only its own items (docs/api.md).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..base.logging import get_logger
from ..channels.contract import Capability
from ..errors import ContentError
from ..ledger import Operation, Publication
from ..model.states import PublicationState
from ..services import Services
from .producer import Cancellation, cancel

__all__ = ["Unpublishing", "unpublish"]

log = get_logger("syndicate.unpublish")


@dataclass(frozen=True)
class Unpublishing:
    """The result of :func:`unpublish`.

    Attributes:
        item_id: the item's id.
        deleting: deletes asked for now (one per live post), carried out by the workers.
        in_progress: deletes asked for earlier and not finished yet (no new call).
        already_unpublished: publications whose post was already deleted (no call).
        unsupported: live posts on channels that cannot delete (remove them by hand: their permalink).
        cancellation: what was cancelled before it went out (as ``cancel`` reports it).
    """

    item_id: str
    deleting: list[Operation]
    in_progress: list[Operation]
    already_unpublished: list[Publication]
    unsupported: list[Publication]
    cancellation: Cancellation

    @property
    def nothing_to_do(self) -> bool:
        """True when this call changed nothing: no delete asked for, nothing cancelled."""
        return not self.deleting and not self.cancellation.cancelled


def unpublish(
    item_id: str,
    *,
    locale: str | None = None,
    account: str | None = None,
    runtime: Services,
    actor: str = "api",
    producer: str | None = None,
) -> Unpublishing:
    """Delete every post of ``item_id`` that went out (optionally one locale or account) and cancel
    its publications that have not.

    Args:
        item_id: the producer's id of the item.
        locale: only this locale's posts.
        account: only this account's posts.
        runtime: config, ledger and broker to use.
        actor: who unpublishes, recorded in the audit trail.
        producer: the producer this call acts for; an item another producer owns is refused.

    Raises:
        syndicate.NotOwner: ``producer`` does not own the item.
        syndicate.ContentError: the item is not in the ledger.
        syndicate.InvalidFilter: the item has no publication in ``locale`` or on ``account``.
    """
    rt = runtime
    cancellation = cancel(item_id, locale=locale, account=account, runtime=rt, actor=actor, producer=producer,
                          reason=f"unpublished by {actor}")
    if locale is not None:
        locale = _canonical_locale(rt, item_id, locale)

    def can_delete(account_id: str) -> bool:
        return account_id in rt.config.accounts and Capability.DELETE in rt.adapter(account_id).capabilities

    def in_place(account_id: str) -> bool:
        return account_id in rt.config.accounts and Capability.UPDATE in rt.adapter(account_id).capabilities

    plan = rt.ledger.request_deletes(item_id, locale=locale, account=account, actor=actor, can_delete=can_delete,
                                     in_place=in_place)
    for op in plan.created:
        rt.actors.unpublish.send(op.id)
    gone = rt.ledger.publications(item_id=item_id, locale=locale, account=account,
                                  state=PublicationState.UNPUBLISHED.value)
    result = Unpublishing(item_id=item_id, deleting=plan.created, in_progress=plan.pending, already_unpublished=gone,
                          unsupported=plan.unsupported, cancellation=cancellation)
    log.info("item.unpublished", item=item_id, locale=locale, account=account, deleting=len(plan.created),
             in_progress=len(plan.pending), already_unpublished=len(gone), unsupported=len(plan.unsupported),
             cancelled=len(cancellation.cancelled))
    if plan.unsupported:
        log.warning("unpublish.unsupported", item=item_id,
                    posts=[f"{p.account}: {p.permalink}" for p in plan.unsupported],
                    consequence="these channels cannot delete posts; remove them by hand")
    return result


def _canonical_locale(rt: Services, item_id: str, locale: str) -> str:
    """``locale`` as the ledger spells it (``cancel`` already checked that the item has it)."""
    for known in rt.ledger.distinct_values("locale", item_id=item_id):
        if known.casefold() == locale.casefold():
            return str(known)
    raise ContentError(f"has no publication in locale {locale!r}", item_id=item_id, field="locale")
