"""Publication states and the transitions allowed between them (ARCHITECTURE.md, docs/reliability.md).

::

    awaiting_review ─approve─► scheduled ─► enqueued ─► calling ─► published
                                  ▲  │         │  ▲        │
                                  │  │         │  └─(lease)┤
                  (rate limited)  └──┼─────────┼───────────┤
                                     │         ▼           ├─► retrying ─► enqueued | calling
                                     │                     ├─► in_doubt ─► published | retrying | unconfirmed
                                     │                     └─► failed
                                     └─► cancelled | skipped  (from any state before calling)

    published ─(its post deleted by ``unpublish``)─► unpublished

``failed`` and ``unconfirmed`` can be replayed by an operator (→ ``retrying``), and an operator
resolves ``unconfirmed`` (→ ``published`` | ``retrying`` | ``failed``).
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["ALLOWED", "OPEN_OPERATION_STATES", "OPEN_STATES", "OPERATION_ALLOWED", "TERMINAL_STATES", "OperationState",
           "PublicationState", "can_transition"]


class PublicationState(StrEnum):
    """Where a publication is in its life."""

    AWAITING_REVIEW = "awaiting_review"
    SCHEDULED = "scheduled"
    ENQUEUED = "enqueued"
    CALLING = "calling"
    RETRYING = "retrying"
    IN_DOUBT = "in_doubt"
    PUBLISHED = "published"
    UNCONFIRMED = "unconfirmed"
    FAILED = "failed"
    CANCELLED = "cancelled"
    SKIPPED = "skipped"
    #: The post went out and was deleted again (``syndicate unpublish``; docs/reliability.md).
    UNPUBLISHED = "unpublished"


S = PublicationState

#: States a publication ends in (``failed`` and ``unconfirmed`` may still be replayed by an operator).
TERMINAL_STATES = frozenset({S.PUBLISHED, S.FAILED, S.CANCELLED, S.SKIPPED, S.UNCONFIRMED, S.UNPUBLISHED})
#: States in which nothing has been sent yet or a retry is pending: cancel, expiry and revision apply.
OPEN_STATES = frozenset({S.AWAITING_REVIEW, S.SCHEDULED, S.ENQUEUED, S.RETRYING})

#: to-state → the states it may be reached from.
ALLOWED: dict[PublicationState, frozenset[PublicationState]] = {
    S.AWAITING_REVIEW: frozenset({S.SCHEDULED}),
    S.SCHEDULED: frozenset({S.AWAITING_REVIEW, S.SCHEDULED, S.ENQUEUED, S.CALLING}),
    S.ENQUEUED: frozenset({S.SCHEDULED, S.RETRYING, S.ENQUEUED}),
    S.CALLING: frozenset({S.ENQUEUED, S.RETRYING}),
    S.RETRYING: frozenset({S.CALLING, S.IN_DOUBT, S.UNCONFIRMED, S.FAILED, S.ENQUEUED}),
    S.IN_DOUBT: frozenset({S.CALLING}),
    S.PUBLISHED: frozenset({S.CALLING, S.IN_DOUBT, S.UNCONFIRMED}),
    S.UNCONFIRMED: frozenset({S.IN_DOUBT, S.CALLING}),
    S.FAILED: frozenset({S.CALLING, S.IN_DOUBT, S.UNCONFIRMED, S.ENQUEUED, S.RETRYING, S.SCHEDULED}),
    S.CANCELLED: frozenset({S.AWAITING_REVIEW, S.SCHEDULED, S.ENQUEUED, S.RETRYING}),
    S.SKIPPED: frozenset({S.AWAITING_REVIEW, S.SCHEDULED, S.ENQUEUED, S.RETRYING}),
    S.UNPUBLISHED: frozenset({S.PUBLISHED}),
}


def can_transition(frm: PublicationState | str, to: PublicationState | str) -> bool:
    """Whether a publication may move from ``frm`` to ``to``."""
    return PublicationState(frm) in ALLOWED[PublicationState(to)]


class OperationState(StrEnum):
    """Where a delete of a post that went out is (``unpublish``; docs/reliability.md)::

        pending ─► calling ─► done
                     │ ├─► retrying ─► calling            (nothing was changed: try again)
                     │ └─► in_doubt ─► done | retrying | unconfirmed   (asked: does the post exist?)
                     └─► failed                           (refused: the platform's message kept)
    """

    PENDING = "pending"
    CALLING = "calling"
    RETRYING = "retrying"
    IN_DOUBT = "in_doubt"
    DONE = "done"
    FAILED = "failed"
    UNCONFIRMED = "unconfirmed"


OP = OperationState

#: to-state → the operation states it may be reached from.
OPERATION_ALLOWED: dict[OperationState, frozenset[OperationState]] = {
    OP.PENDING: frozenset({OP.DONE, OP.FAILED, OP.UNCONFIRMED}),  # re-armed: the post went out again
    OP.CALLING: frozenset({OP.PENDING, OP.RETRYING}),
    OP.RETRYING: frozenset({OP.CALLING, OP.IN_DOUBT, OP.UNCONFIRMED, OP.FAILED}),
    OP.IN_DOUBT: frozenset({OP.CALLING}),
    OP.DONE: frozenset({OP.CALLING, OP.IN_DOUBT, OP.UNCONFIRMED}),
    OP.FAILED: frozenset({OP.CALLING, OP.IN_DOUBT}),
    OP.UNCONFIRMED: frozenset({OP.IN_DOUBT}),
}
#: Operation states in which a call may still be made.
OPEN_OPERATION_STATES = frozenset({OP.PENDING, OP.CALLING, OP.RETRYING, OP.IN_DOUBT})
