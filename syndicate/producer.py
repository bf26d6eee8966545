"""The producer API: submit an approved item for syndication.

>>> import syndicate
>>> submission = syndicate.submit(item_dict)            # doctest: +SKIP
>>> submission.status, len(submission.publications)     # doctest: +SKIP
('created', 12)

``submit`` validates the item, stores it and its planned publications in the ledger in one
transaction, and sends the ``intake`` wake-up. The same id and revision again is a no-op that
returns the existing plan; a higher revision supersedes the unpublished rows of the old one.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .ledger import Publication, SubmitOutcome
from .logging import get_logger
from .models import ContentItem, parse_item
from .planning import PlanOptions, plan_item
from .runtime import Runtime

__all__ = ["Submission", "submit"]

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


_default_runtime: Runtime | None = None
_default_lock = threading.Lock()


def _runtime() -> Runtime:
    global _default_runtime
    with _default_lock:
        if _default_runtime is None:
            _default_runtime = Runtime.create()
        return _default_runtime


def submit(
    item: ContentItem | Mapping[str, Any],
    *,
    runtime: Runtime | None = None,
    ignore_schedule: bool = False,
    actor: str = "api",
) -> Submission:
    """Validate, store, plan and enqueue ``item``.

    Args:
        item: a :class:`ContentItem` or a mapping in the documented item format.
        runtime: config, ledger and broker to use; default built from the environment
            (``SYNDICATE_CONFIG``, ``SYNDICATE_DATABASE_URL``, ``SYNDICATE_REDIS_URL``).
        ignore_schedule: plan every publication for now (demos and tests).
        actor: who submits, recorded in the audit trail.

    Raises:
        syndicate.InvalidItem: the item is invalid (every problem listed).
        syndicate.NotApproved: the item is not approved.
        syndicate.ContentError: a stale revision, or a reused revision with different content.
    """
    rt = runtime or _runtime()
    parsed = item if isinstance(item, ContentItem) else parse_item(dict(item), limits=rt.config.intake_limits)
    plan = plan_item(parsed, rt.config, PlanOptions(now=rt.ledger.now(), ignore_schedule=ignore_schedule))
    outcome = rt.ledger.submit(parsed, plan, actor=actor)
    if outcome.status == "created":
        rt.actors.intake.send(parsed.id, parsed.revision)
    log.info("item.submitted", item=parsed.id, revision=parsed.revision, status=outcome.status,
             publications=len(outcome.publications), superseded=len(outcome.superseded))
    return Submission._from(outcome)
