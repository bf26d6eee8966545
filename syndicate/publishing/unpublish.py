"""The delete step behind the ``unpublish`` actor: claim → call → record for one post.

An ``operations`` row (``kind = delete``) is asked for by :func:`syndicate.intake.unpublish.unpublish`
(or by a ``replace`` revision policy); this step moves it (docs/reliability.md):

1. ``pending``/``retrying`` → ``calling`` with a lease (not claimable: ack and stop);
2. call the adapter's ``delete`` (a post already gone counts as done);
3. record: ``done`` (the publication rows it stands for become ``unpublished``), ``retrying``
   after a transient error or a rate limit, ``failed`` after a refusal, ``in_doubt`` when the
   request may have gone through. An operation in doubt is reconciled by asking the adapter's
   ``exists``: gone → ``done``; still there → ``retrying`` (a delete by id is safe to repeat);
   cannot tell → ``unconfirmed`` for an operator.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Literal

from ..base.backoff import backoff
from ..base.logging import get_logger
from ..channels.contract import Adapter, Capability, PublicationRef, Safety
from ..errors import (
    AuthError,
    ConfigError,
    ConfigProblem,
    ContentError,
    InDoubt,
    PermanentError,
    RateLimited,
    TransientError,
)
from ..ledger import Operation, worker_id
from ..model.states import OperationState
from .content import publication_ref

if TYPE_CHECKING:
    from ..services import Services

__all__ = ["UnpublishOutcome", "do_unpublish", "resend_operations"]

OP = OperationState
log = get_logger("syndicate.unpublish")

#: What one ``unpublish`` message did.
UnpublishOutcome = Literal["done", "retrying", "failed", "in_doubt", "unconfirmed", "not-claimable"]


def do_unpublish(rt: Services, op_id: int) -> UnpublishOutcome:
    """Carry out (or reconcile, when in doubt) the delete operation ``op_id``."""
    op = rt.ledger.operation(op_id)
    if op is None:
        return "not-claimable"
    if op.state == OP.IN_DOUBT:
        return _reconcile(rt, op)
    actor = worker_id()
    claimed = rt.ledger.claim_operation(op_id, worker=actor, lease=rt.timing.claim_lease)
    if claimed is None:
        return "not-claimable"
    op = claimed
    calling = (OP.CALLING,)
    try:
        adapter, ref = _adapter_and_ref(rt, op)
    except (ContentError, ConfigError) as exc:
        rt.ledger.move_operation(op.id, OP.FAILED, expect=calling, actor=actor, kind="unpublish-failed",
                                 error=str(exc), lease_until=None)
        return "failed"
    try:
        adapter.delete(op.remote_id, ref)
    except (TransientError, RateLimited) as exc:
        return _retry_or_fail(rt, op, str(exc), actor, calling)
    except (AuthError, PermanentError) as exc:
        rt.ledger.move_operation(op.id, OP.FAILED, expect=calling, actor=actor, kind="unpublish-failed",
                                 error=str(exc), lease_until=None)
        log.error("unpublish.failed", operation=op.id, account=op.account, remote_id=op.remote_id, error=str(exc))
        return "failed"
    except InDoubt as exc:
        if Capability.EXISTS not in adapter.capabilities and adapter.delete_safety is Safety.IDEMPOTENT:
            return _retry_or_fail(rt, op, str(exc), actor, calling)  # the receiver dedupes a repeat
        rt.ledger.move_operation(op.id, OP.IN_DOUBT, expect=calling, actor=actor, kind="unpublish-in-doubt",
                                 error=str(exc), lease_until=None)
        log.warning("unpublish.in_doubt", operation=op.id, account=op.account, remote_id=op.remote_id,
                    error=str(exc))
        rt.actors.unpublish.send(op.id)
        return "in_doubt"
    except BaseException as exc:
        # Interrupted during the call (time limit, shutdown, a bug): the delete may have gone out.
        rt.ledger.move_operation(op.id, OP.IN_DOUBT, expect=calling, actor=actor, kind="unpublish-in-doubt",
                                 error=f"interrupted during the call: {type(exc).__name__}: {exc}", lease_until=None)
        raise
    done = rt.ledger.finish_operation(op.id, expect=calling, actor=actor, kind="unpublish-done")
    log.info("unpublish.done", operation=op.id, account=op.account, remote_id=op.remote_id,
             publications=op.publication_ids, recorded=done is not None)
    return "done"


def _adapter_and_ref(rt: Services, op: Operation) -> tuple[Adapter, PublicationRef]:
    pub = rt.ledger.publication(op.publication_id)
    if pub is None:
        raise ContentError(f"publication {op.publication_id} is not in the ledger", item_id=op.item_id)
    if op.account not in rt.config.accounts:
        raise ConfigError([ConfigProblem("accounts.yaml", None, f"accounts.{op.account}",
                                         "the account of this post is no longer in accounts.yaml")])
    return rt.adapter(op.account), publication_ref(rt, pub)


def _reconcile(rt: Services, op: Operation) -> UnpublishOutcome:
    """Ask the platform whether the post of an in-doubt delete still exists."""
    actor = worker_id()
    doubt = (OP.IN_DOUBT,)
    try:
        adapter, ref = _adapter_and_ref(rt, op)
        if Capability.EXISTS not in adapter.capabilities:
            raise InDoubt(f"the {adapter.name} adapter cannot tell whether a post exists")
        still_there = adapter.exists(op.remote_id, ref)
    except (TransientError, RateLimited) as exc:
        rt.ledger.record_event("unpublish-reconcile-deferred", actor=actor, publication_id=op.publication_id,
                               item_id=op.item_id, error=str(exc), detail={"operation": op.id})
        rt.actors.unpublish.send_with_options(args=(op.id,), delay=5000)
        return "in_doubt"
    except (InDoubt, PermanentError, AuthError, ContentError, ConfigError) as exc:
        rt.ledger.move_operation(op.id, OP.UNCONFIRMED, expect=doubt, actor=actor, kind="unpublish-needs-operator",
                                 error=f"cannot tell whether the post still exists: {exc}")
        log.error("unpublish.unconfirmed", operation=op.id, account=op.account, remote_id=op.remote_id,
                  error=str(exc))
        return "unconfirmed"
    if not still_there:
        rt.ledger.finish_operation(op.id, expect=doubt, actor=actor, kind="unpublish-reconciled",
                                   detail={"found": False})
        return "done"
    return _retry_or_fail(rt, op, f"reconciled: the post still exists ({op.last_error})", actor, doubt)


def _retry_or_fail(rt: Services, op: Operation, error: str, actor: str, expect: tuple[OperationState, ...]
                   ) -> UnpublishOutcome:
    failures = op.failures + 1
    if failures >= rt.timing.max_attempts:
        rt.ledger.move_operation(op.id, OP.FAILED, expect=expect, actor=actor, kind="unpublish-failed",
                                 error=f"gave up after {failures} failed attempts; last: {error}",
                                 failures=failures, lease_until=None)
        return "failed"
    delay = backoff(failures, first=rt.timing.retry_min_backoff, cap=rt.timing.retry_max_backoff)
    rt.ledger.move_operation(op.id, OP.RETRYING, expect=expect, actor=actor, kind="unpublish-retrying", error=error,
                             failures=failures, scheduled_for=rt.ledger.now() + delay, lease_until=None)
    rt.actors.unpublish.send_with_options(args=(op.id,), delay=max(1, int(delay / timedelta(milliseconds=1))))
    return "retrying"


def resend_operations(rt: Services, *, actor: str, limit: int = 100) -> int:
    """The dispatcher's sweep: send again the deletes whose message may be lost (and move those
    whose worker died mid-call to ``in_doubt``). Returns how many were sent."""
    ops = rt.ledger.operations_to_resend(older_than=rt.timing.resend_after, limit=limit, actor=actor)
    for op in ops:
        rt.actors.unpublish.send(op.id)
    return len(ops)
