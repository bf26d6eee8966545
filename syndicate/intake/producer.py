"""The producer API: submit an approved item for syndication.

>>> import syndicate
>>> submission = syndicate.submit(item_dict)            # doctest: +SKIP
>>> submission.status, len(submission.publications)     # doctest: +SKIP
('created', 12)

``submit`` validates the item, stores it and its planned publications in the ledger in one
transaction, and sends the ``intake`` wake-up. The same id and revision again is a no-op that
returns the existing plan; a higher revision supersedes the unpublished rows of the old one.
``cancel`` stops every publication of an item (or of one locale or account) that has not gone out.

Who may do what: a Python or command-line caller is an operator and may supersede or cancel any
item. A caller acting for a producer (the HTTP API does, for each token) passes ``producer=``:
the item is then recorded as that producer's when new, and a producer may not supersede or
cancel an item another producer submitted (:class:`~syndicate.errors.NotOwner`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ..base.logging import get_logger
from ..errors import ContentError
from ..ledger import Publication, SubmitOutcome
from ..ledger.filters import check_choice, check_locale
from ..model.item import ContentItem, InvalidItem, channel_names, check_channels, parse_item
from ..model.states import OPEN_STATES, PublicationState
from ..services import Services
from .comments import check_first_comments
from .planning import PlanOptions, gap_since, plan_item

__all__ = ["Cancellation", "Submission", "cancel", "log_refused", "submit"]

#: How long a submission may hold the planning lock, and wait for it.
PLANNING_LEASE = timedelta(seconds=30)

log = get_logger("syndicate.producer")


@dataclass(frozen=True)
class Submission:
    """The result of :func:`submit`.

    Attributes:
        status: ``created`` (new revision stored and planned) or ``unchanged`` (already stored).
        item_id: the item's id.
        revision: the item's revision.
        publications: the plan: every publication of this revision, with its state and time.
        superseded: ids of the previous revision's publications that were cancelled.
    """

    status: str
    item_id: str
    revision: int
    publications: list[Publication]
    superseded: list[int]

    @classmethod
    def _from(cls, outcome: SubmitOutcome) -> Submission:
        return cls(outcome.status, outcome.item_id, outcome.revision, outcome.publications, outcome.superseded)


@contextmanager
def _planning_lock(rt: Services) -> Iterator[None]:
    """Serialize planning across producers (a Redis or ledger lease; a process lock in embedded mode)."""
    key = f"planning:{rt.ledger.url}" if rt.embedded else f"{rt.namespace}:planning"
    lock = rt.lease(key, length=PLANNING_LEASE)
    held = lock.acquire(PLANNING_LEASE)
    if not held:
        log.warning("planning.lock_timeout", waited_s=PLANNING_LEASE.total_seconds(),
                    consequence="planned without the lock; a concurrent submission may share a gap")
    try:
        yield
    finally:
        if held:
            lock.release()


def submit(
    item: ContentItem | Mapping[str, Any],
    *,
    runtime: Services,
    ignore_schedule: bool = False,
    actor: str = "api",
    producer: str | None = None,
) -> Submission:
    """Validate, store, plan and enqueue ``item``.

    Args:
        item: a :class:`ContentItem` or a mapping in the documented item format.
        runtime: config, ledger and broker to use (``syndicate.submit`` builds one from the
            environment when none is given).
        ignore_schedule: plan every publication for now (demos and tests).
        actor: who submits, recorded in the audit trail.
        producer: the producer this call acts for (``api:<token name>``), recorded as the owner of
            a new item; a revision of an item another producer owns is refused. None: an
            operator, who may submit revisions of any item (a new item's owner is ``actor``).

    Raises:
        syndicate.InvalidItem: the item is invalid (every problem listed).
        syndicate.NotApproved: the item is not approved.
        syndicate.NotOwner: ``producer`` does not own the item.
        syndicate.ContentError: a stale revision, or a reused revision with different content.
    """
    rt = runtime
    # parse_item refuses anything that is not a mapping with a clear error (dict() would raise TypeError)
    data = dict(item) if isinstance(item, Mapping) else item
    channels = channel_names(rt.config.registry.names(), rt.config.accounts)
    try:
        if isinstance(item, ContentItem):
            check_channels(item, channels)
            parsed = item
        else:
            parsed = parse_item(data, limits=rt.config.intake_limits, channels=channels)
        return _submit(rt, parsed, ignore_schedule=ignore_schedule, actor=actor, producer=producer)
    except ContentError as exc:
        log_refused(exc, actor=actor, data=item)
        raise


def log_refused(exc: ContentError, *, actor: str, data: object = None) -> None:
    """Log an item refused at intake (``item.refused``): its id and revision, who sent it, and every
    reason, so that ops can answer a producer who asks why nothing was published.

    Args:
        exc: the refusal (``InvalidItem`` lists every problem).
        actor: who submitted (``api:NAME``, ``cli``...).
        data: the item as submitted (a mapping or a ``ContentItem``), for its id and revision.
    """
    problems = exc.problems if isinstance(exc, InvalidItem) else [(exc.field or "", exc.reason)]
    item_id: object = None
    revision: object = None
    if isinstance(data, ContentItem):
        item_id, revision = data.id, data.revision
    elif isinstance(data, Mapping):
        item_id, revision = data.get("id"), data.get("revision")
    log.warning("item.refused", item=exc.item_id or (item_id if isinstance(item_id, str) else None),
                revision=revision if isinstance(revision, int) and not isinstance(revision, bool) else None,
                actor=actor, error=type(exc).__name__, count=len(problems),
                reasons=[f"{field}: {reason}" if field else reason for field, reason in problems])


def _submit(rt: Services, parsed: ContentItem, *, ignore_schedule: bool, actor: str,
            producer: str | None) -> Submission:
    with _planning_lock(rt):
        # Under the lock, two submissions cannot both plan a post into the same gap on an account.
        now = rt.ledger.now()
        taken: dict[str, list[datetime]] = {}
        if not ignore_schedule and any(r.min_gap for r in rt.config.routes.values()):
            taken = rt.ledger.account_post_times(sorted(rt.config.accounts), since=gap_since(parsed, rt.config, now),
                                                 exclude_item=parsed.id)
        plan = plan_item(parsed, rt.config, PlanOptions(now=now, ignore_schedule=ignore_schedule, taken=taken))
        check_first_comments(parsed, plan, rt.config, rt.adapter)
        outcome = rt.ledger.submit(parsed, plan, actor=actor, producer=producer)
    if outcome.status == "created":
        rt.actors.intake.send(parsed.id, parsed.revision)
    log.info("item.submitted", item=parsed.id, revision=parsed.revision, status=outcome.status,
             publications=len(outcome.publications), superseded=len(outcome.superseded))
    return Submission._from(outcome)


@dataclass(frozen=True)
class Cancellation:
    """The result of :func:`cancel`.

    Attributes:
        item_id: the item's id.
        revision: the revision whose publications were cancelled (the newest active one).
        cancelled: the publications cancelled now.
        in_flight: publications being called, or whose outcome is in doubt: too late to stop, they
            may have gone out or still go out.
        published: publications that already went out (they stay recorded).
    """

    item_id: str
    revision: int
    cancelled: list[Publication]
    in_flight: list[Publication]
    published: list[Publication]


def cancel(
    item_id: str,
    *,
    locale: str | None = None,
    account: str | None = None,
    runtime: Services,
    reason: str | None = None,
    actor: str = "api",
    producer: str | None = None,
) -> Cancellation:
    """Cancel every publication of ``item_id`` that has not gone out yet.

    Scheduled, enqueued, retrying and awaiting-review rows become ``cancelled`` (a message already
    in the queue finds the row cancelled and does nothing). Without ``locale`` and ``account`` the
    item itself is cancelled too, so its localizations are not requested any more.

    Args:
        item_id: the producer's id of the item.
        locale: only this locale's publications.
        account: only this account's publications.
        runtime: config, ledger and broker to use.
        reason: recorded as each row's ``last_error`` (default "cancelled by <actor>").
        actor: who cancels, recorded in the audit trail.
        producer: the producer this call acts for; an item another producer owns is refused.
            None: an operator, who may cancel any item.

    Raises:
        syndicate.NotOwner: ``producer`` does not own the item.
        syndicate.ContentError: the item is not in the ledger.
        syndicate.InvalidFilter: the item has no publication in ``locale`` or on ``account`` (the
            message lists the ones it has).
    """
    rt = runtime
    stored = rt.ledger.item(item_id)
    if stored is None:
        raise ContentError("not found in the ledger", item_id=item_id)
    locale, account = _check_filters(rt, item_id, stored.item.revision, locale, account)
    ids = set(rt.ledger.cancel_item(item_id, actor=actor, locale=locale, account=account,
                                    reason=reason or f"cancelled by {actor}", producer=producer))
    pubs = rt.ledger.publications(item_id=item_id, revision=stored.item.revision, locale=locale, account=account)
    open_or_done = OPEN_STATES | {PublicationState.PUBLISHED, PublicationState.CANCELLED,
                                  PublicationState.SKIPPED, PublicationState.FAILED}
    result = Cancellation(
        item_id=item_id, revision=stored.item.revision,
        cancelled=[p for p in pubs if p.id in ids],
        in_flight=[p for p in pubs if PublicationState(p.state) not in open_or_done],
        published=[p for p in pubs if p.state == PublicationState.PUBLISHED])
    log.info("item.cancelled", item=item_id, revision=stored.item.revision, locale=locale, account=account,
             cancelled=len(result.cancelled), in_flight=len(result.in_flight), published=len(result.published))
    return result


def _check_filters(rt: Services, item_id: str, revision: int, locale: str | None, account: str | None
                   ) -> tuple[str | None, str | None]:
    """The locale (canonical) and account to cancel, each one the item's revision has publications for."""
    where = f"of item {item_id!r} revision {revision}"
    if locale is not None:
        locale = check_locale(locale, rt.ledger.distinct_values("locale", item_id=item_id, revision=revision),
                              where=where)
    if account is not None:
        check_choice("account", account, rt.ledger.distinct_values("account", item_id=item_id, revision=revision),
                     where=where)
    return locale, account
