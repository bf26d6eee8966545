"""The publish and reconcile steps behind the actors.

Each step loads what it needs from the ledger, does one thing, and records the outcome in the
ledger. Messages carry ids only, and any step may run twice: the ledger's conditional updates
make the second run a no-op (``docs/reliability.md``). The intake and localize steps are
:mod:`syndicate.intake.steps` and :mod:`syndicate.localization.step`.

Publishing is claim → call → record:

1. **claim**: ``enqueued``/``retrying`` → ``calling`` with a lease (zero rows: ack and stop);
2. **call** the adapter (its HTTP timeouts are always set);
3. **record** the outcome: ``published``; ``retrying`` after a transient error (with backoff);
   ``scheduled`` at the platform's reset time after a rate limit (no failure counted);
   ``failed`` on a permanent or auth error (auth also holds the account, and an endpoint that
   answered 410 Gone disables it); ``in_doubt`` when the
   post may exist, then reconcile; never post blindly again.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import asdict, replace
from datetime import timedelta
from typing import TYPE_CHECKING, Any, NamedTuple

import structlog

from ..base.backoff import backoff
from ..base.logging import get_logger
from ..base.metrics import PublishOutcome, platform_call
from ..base.secrets import redact
from ..channels.contract import Receipt, Rendered, RevisionPolicy, Safety
from ..errors import (
    AuthError,
    ConfigError,
    ContentError,
    EndpointGone,
    InDoubt,
    PermanentError,
    RateLimited,
    TransientError,
)
from ..ledger import Publication, worker_id
from ..model.states import PublicationState
from .content import publication_ref, render_publication
from .ratelimit import check_rate, windows_for
from .receipts import checked_permalink
from .revisions import (
    RevisionPlan,
    call_for_revision,
    keep_revision,
    record_kind,
    revision_plan,
    safety_of,
    shows_no_change,
    wait_for_replacement,
)

if TYPE_CHECKING:
    from ..services import Services

__all__ = ["do_publish", "do_reconcile", "publish_step", "reconcile_step"]

S = PublicationState
log = get_logger("syndicate.pipeline")

#: When a reconciliation could not ask the platform the first time, it asks again after this long.
RECONCILE_FIRST_DEFER = timedelta(seconds=5)
def hold_until_due(rt: Services, pub: Publication, actor: str) -> PublishOutcome | None:
    """Checks right before a claim; None when the publication may go out now.

    * The item expired before the publication could go out (it came due late, or a rate limit or
      retry pushed it past ``expires_at``): the row is ``skipped`` with the reason → ``"skipped"``.
    * The message came early (another process's clock, a re-sent message): it is sent again to
      arrive when the row is due, so nothing ever goes out before its planned time → ``"early"``.
    """
    now = rt.ledger.now()
    expires = rt.ledger.item_expires_at(pub.item_id, pub.revision)
    if expires is not None and expires <= max(now, pub.scheduled_for):
        done = rt.ledger.transition(
            pub.id, PublicationState.SKIPPED, expect=(PublicationState.ENQUEUED, PublicationState.RETRYING),
            actor=actor, kind="expired",
            error=f"the item expired at {expires.isoformat()} before this publication went out "
                  f"(due {pub.scheduled_for.isoformat()})")
        return "skipped" if done is not None else "not-claimable"
    if pub.scheduled_for > now:
        delay_ms = math.ceil((pub.scheduled_for - now).total_seconds() * 1000)
        rt.actors.publish.send_with_options(args=(pub.id,), delay=delay_ms)
        return "early"
    return None


def _bind_log_context(pub: Publication, *, attempt: int) -> None:
    """Add a publication's item, revision, locale, account, channel and attempt to the log context
    of the message being processed (the worker's ``LogContext`` clears it when the message ends)."""
    structlog.contextvars.bind_contextvars(publication=pub.id, item=pub.item_id, revision=pub.revision,
                                          locale=pub.locale, account=pub.account, channel=pub.channel,
                                          attempt=attempt)


def _backoff(rt: Services, failures: int) -> timedelta:
    return backoff(failures, first=rt.timing.retry_min_backoff, cap=rt.timing.retry_max_backoff)


def _rendered_record(rendered: Rendered) -> dict[str, Any]:
    data = asdict(rendered)
    data["media"] = [asdict(m) for m in rendered.media]
    out: dict[str, Any] = json.loads(json.dumps(data, default=str))
    return out


def _text_hash(rendered: Rendered) -> str:
    return hashlib.sha256(rendered.text.encode("utf-8")).hexdigest()


def _record_receipt(rt: Services, pub: Publication, receipt: Receipt, rendered: Rendered, actor: str,
                    expect: tuple[PublicationState, ...], kind: str) -> Publication | None:
    # The post exists: a permalink we cannot store is replaced by the tagged URL, never re-posted.
    permalink, problem = checked_permalink(receipt.permalink, schemes=rt.adapter(pub.account).permalink_schemes,
                                           fallback=pub.tagged_url)
    if problem is not None:
        log.warning("publication.permalink_refused", publication=pub.id, key=pub.key, reason=problem)
        receipt = replace(receipt, permalink=permalink, warnings=(*receipt.warnings, problem))
    done = rt.ledger.transition(
        pub.id, S.PUBLISHED, expect=expect, actor=actor, kind=kind,
        detail={"remote_id": receipt.remote_id, "permalink": receipt.permalink,
                **({"warnings": [redact(w) for w in receipt.warnings]} if receipt.warnings else {})},
        remote_id=receipt.remote_id[:256], permalink=receipt.permalink,
        published_at=rt.ledger.now(), rendered=_rendered_record(rendered), text_hash=_text_hash(rendered),
        last_error=None, lease_until=None)
    if done is None:
        log.error("publication.record_lost", publication=pub.id, key=pub.key, remote_id=receipt.remote_id,
                  permalink=receipt.permalink,
                  reason="published, but the row was moved meanwhile; an operator must check it")
    else:
        log.info("publication.published", publication=pub.id, key=pub.key, account=pub.account,
                 locale=pub.locale, item=pub.item_id, revision=pub.revision, permalink=receipt.permalink,
                 attempt=done.attempts)
    return done


def do_publish(rt: Services, pub_id: int) -> PublishOutcome:
    """Claim, call, record one publication. Returns what happened (for logs and tests)."""
    return publish_step(rt, pub_id)[0]


class _Claimed(NamedTuple):
    """A publication claimed by the general path, with the plan for the live post of an earlier
    revision it reaches (None: a plain publish)."""

    pub: Publication
    plan: RevisionPlan | None


def _claim_checked(rt: Services, pub_id: int, actor: str) -> _Claimed | tuple[PublishOutcome, Publication | None]:
    """Read the row, decide what stops it (gone account, held account, expiry, early message, the
    revision policy), else claim it: the claimed publication and its revision plan, or the outcome
    and the row as it is."""
    pub, status, reason = rt.ledger.publication_for_publish(pub_id)
    if pub is None or S(pub.state) not in (S.ENQUEUED, S.RETRYING):
        return "not-claimable", pub
    _bind_log_context(pub, attempt=pub.attempts + 1)
    if pub.account not in rt.config.accounts:
        rt.ledger.transition(pub.id, S.FAILED, expect=(S.ENQUEUED, S.RETRYING), actor=actor,
                             error=f"account {pub.account!r} is no longer in accounts.yaml")
        return "failed", pub
    if status != "ok":
        # The account was marked (expired credentials, endpoint gone) after this row was queued:
        # hold it with the others instead of burning an attempt; it resumes when the account is reset.
        if pub.state == S.ENQUEUED:
            rt.ledger.transition(pub.id, S.SCHEDULED, expect=(S.ENQUEUED,), actor=actor, kind="held",
                                 error=f"account {pub.account!r} is {status}: {reason or 'no reason given'}")
        return "held", pub
    held = hold_until_due(rt, pub, actor)
    if held is not None:
        return held, pub
    # A revision of a post that went out follows the account's policy (publishing/revisions.py).
    plan = revision_plan(rt, pub)
    if plan is not None and plan.policy is RevisionPolicy.KEEP:
        return ("skipped" if keep_revision(rt, pub, plan, actor) else "not-claimable"), pub
    if plan is not None and plan.policy is RevisionPolicy.REPLACE:
        if wait_for_replacement(rt, pub, plan, actor) is not None:
            return "early", pub
        rt.ledger.transition(pub.id, S.FAILED, expect=(S.ENQUEUED, S.RETRYING), actor=actor,
                             error=f"the post of revision {plan.previous.revision} could not be deleted, so it was "
                                   "not replaced; see its delete in `syndicate status`")
        return "failed", pub
    claimed = rt.ledger.claim(pub.id, worker=actor, lease=rt.timing.claim_lease)
    if claimed is None:
        return "not-claimable", pub
    return _Claimed(claimed, plan)


def publish_step(rt: Services, pub_id: int) -> tuple[PublishOutcome, Publication | None]:
    """:func:`do_publish`, also returning the publication as the step left it (for metrics)."""
    actor = worker_id()
    # The common case in one statement: claimed with its localization when nothing below would stop
    # it (no earlier revision of it is live, so there is no revision plan).
    fast = rt.ledger.claim_ready(pub_id, worker=actor, lease=rt.timing.claim_lease, accounts=list(rt.config.accounts))
    plan: RevisionPlan | None = None
    if fast is not None:
        pub, localization = fast
        _bind_log_context(pub, attempt=pub.attempts)
    else:
        claimed = _claim_checked(rt, pub_id, actor)
        if not isinstance(claimed, _Claimed):
            return claimed
        (pub, plan), localization = claimed, None
    calling = (S.CALLING,)
    try:
        rendered = render_publication(rt, pub, localization=localization)
        adapter = rt.adapter(pub.account)
        ref = publication_ref(rt, pub)
    except (ContentError, ConfigError) as exc:
        rt.ledger.transition(pub.id, S.FAILED, expect=calling, actor=actor, error=str(exc), lease_until=None)
        log.error("publication.failed", publication=pub.id, key=pub.key, error=redact(str(exc)), stage="render")
        return "failed", pub
    except Exception as exc:  # a fault in rendering repeats on every attempt; nothing was sent
        error = f"rendering failed: {type(exc).__name__}: {exc}"
        rt.ledger.transition(pub.id, S.FAILED, expect=calling, actor=actor, error=error, lease_until=None)
        log.exception("publication.failed", publication=pub.id, key=pub.key, error=redact(error), stage="render")
        return "failed", pub
    except BaseException as exc:
        # Interrupted before the call (time limit, shutdown): nothing was sent, so never in doubt.
        _retry_or_fail(rt, pub, f"interrupted while rendering, before any call: {type(exc).__name__}", actor)
        raise
    if plan is not None and shows_no_change(rt, pub, plan.previous, adapter):
        return "published", _record_unchanged(rt, pub, plan.previous, actor) or pub
    try:
        # our shared per-account caps: over them, defer like a 429
        check_rate(rt.rate_limiter(), pub.account,
                   windows_for(rt.config.accounts.get(pub.account), adapter.limits), now=rt.ledger.now())
        with platform_call(pub.channel):
            receipt = call_for_revision(adapter, rendered, ref, plan)
    except RateLimited as exc:
        rt.ledger.transition(pub.id, S.SCHEDULED, expect=calling, actor=actor, kind="deferred", error=str(exc),
                             scheduled_for=max(exc.until, rt.ledger.now()), deferrals=pub.deferrals + 1,
                             attempts=pub.attempts - 1, lease_until=None)
        log.info("rate_limit.deferred", publication=pub.id, key=pub.key, account=pub.account,
                 until=exc.until.isoformat())
        return "deferred", pub
    except TransientError as exc:
        return _retry_or_fail(rt, pub, str(exc), actor), pub
    except EndpointGone as exc:
        rt.ledger.transition(pub.id, S.FAILED, expect=calling, actor=actor, error=str(exc), lease_until=None)
        rt.ledger.set_account_status(pub.account, "disabled", str(exc), actor=actor)
        log.error("account.endpoint_gone", account=pub.account, publication=pub.id, error=redact(str(exc)))
        return "failed", pub
    except AuthError as exc:
        rt.ledger.transition(pub.id, S.FAILED, expect=calling, actor=actor, error=str(exc), lease_until=None)
        rt.ledger.set_account_status(pub.account, "needs_credentials", str(exc), actor=actor)
        log.error("account.auth_expired", account=pub.account, publication=pub.id, error=redact(str(exc)))
        return "failed", pub
    except PermanentError as exc:
        rt.ledger.transition(pub.id, S.FAILED, expect=calling, actor=actor, error=str(exc), lease_until=None)
        log.error("publication.failed", publication=pub.id, key=pub.key, error=redact(str(exc)))
        return "failed", pub
    except InDoubt as exc:
        return _in_doubt(rt, safety_of(adapter, ref, plan), pub, str(exc), actor), pub
    except BaseException as exc:
        # A bug or an interrupt (time limit, shutdown) during the call: the request may have gone out.
        _in_doubt(rt, Safety.RECONCILE_ONLY, pub, f"interrupted during the call: {type(exc).__name__}: {exc}",
                  actor)
        raise
    done = _record_receipt(rt, pub, receipt, rendered, actor, (*calling, S.IN_DOUBT), record_kind(plan))
    return "published", done or pub


def _record_unchanged(rt: Services, pub: Publication, previous: Publication, actor: str) -> Publication | None:
    """Nothing the channel shows changed: the row stands for the previous post as it is (its id,
    permalink, link and rendering), with no call."""
    done = rt.ledger.transition(
        pub.id, S.PUBLISHED, expect=(S.CALLING,), actor=actor, kind="unchanged",
        detail={"previous": previous.id, "remote_id": previous.remote_id, "permalink": previous.permalink},
        remote_id=previous.remote_id, permalink=previous.permalink, tagged_url=previous.tagged_url,
        utm=previous.utm, rendered=previous.rendered, text_hash=previous.text_hash,
        published_at=previous.published_at, last_error=None, lease_until=None)
    log.info("publication.unchanged", publication=pub.id, key=pub.key, previous=previous.id,
             permalink=previous.permalink)
    return done


def _retry_or_fail(rt: Services, pub: Publication, error: str, actor: str,
                   expect: tuple[PublicationState, ...] = (S.CALLING,), delay: timedelta | None = None
                   ) -> PublishOutcome:
    failures = pub.failures + 1
    if failures >= rt.timing.max_attempts:
        rt.ledger.transition(pub.id, S.FAILED, expect=expect, actor=actor, failures=failures, lease_until=None,
                             error=f"gave up after {failures} failed attempts; last: {error}")
        log.error("publication.failed", publication=pub.id, key=pub.key, error=redact(error), failures=failures)
        return "failed"
    when = rt.ledger.now() + (_backoff(rt, failures) if delay is None else delay)
    rt.ledger.transition(pub.id, S.RETRYING, expect=expect, actor=actor, error=error, failures=failures,
                         scheduled_for=when, lease_until=None)
    log.warning("publication.retrying", publication=pub.id, key=pub.key, error=redact(error), failures=failures,
                retry_at=when.isoformat())
    return "retrying"


def _in_doubt(rt: Services, safety: Safety, pub: Publication, error: str, actor: str) -> PublishOutcome:
    if safety in (Safety.IDEMPOTENT, Safety.SAFE):
        return _retry_or_fail(rt, pub, error, actor)
    if safety is Safety.NEVER:
        rt.ledger.transition(pub.id, S.IN_DOUBT, expect=(S.CALLING,), actor=actor, error=error, lease_until=None)
        rt.ledger.transition(pub.id, S.UNCONFIRMED, expect=(S.IN_DOUBT,), actor=actor, error=error,
                             kind="needs-operator")
        log.error("publication.unconfirmed", publication=pub.id, key=pub.key, error=redact(error))
        return "unconfirmed"
    rt.ledger.transition(pub.id, S.IN_DOUBT, expect=(S.CALLING,), actor=actor, error=error, lease_until=None)
    log.warning("publication.in_doubt", publication=pub.id, key=pub.key, error=redact(error))
    rt.actors.reconcile.send(pub.id)
    return "in_doubt"


def do_reconcile(rt: Services, pub_id: int) -> PublishOutcome:
    """Decide an ``in_doubt`` publication by looking for its post on the platform.

    Found → ``published``; surely absent → ``retrying`` (the normal retry budget applies);
    cannot tell → ``unconfirmed`` for an operator (``syndicate resolve``).
    """
    return reconcile_step(rt, pub_id)[0]


def reconcile_step(rt: Services, pub_id: int) -> tuple[PublishOutcome, Publication | None]:
    """:func:`do_reconcile`, also returning the publication as the step left it (for metrics)."""
    actor = worker_id()
    pub = rt.ledger.publication(pub_id)
    if pub is None or pub.state != S.IN_DOUBT:
        return "not-in-doubt", pub
    _bind_log_context(pub, attempt=pub.attempts)
    # Only the dispatcher's lease expiry (a worker that died or hung mid-call) leaves the claim's
    # lease on an in_doubt row; the pipeline clears it when it records a doubtful answer itself.
    crashed = pub.lease_until is not None
    try:
        rendered = render_publication(rt, pub)
        adapter = rt.adapter(pub.account)
        found = adapter.find_existing(rendered, publication_ref(rt, pub))
    except (InDoubt, PermanentError, AuthError, ContentError, ConfigError) as exc:
        rt.ledger.transition(pub.id, S.UNCONFIRMED, expect=(S.IN_DOUBT,), actor=actor, kind="needs-operator",
                             error=f"cannot tell whether the post exists: {exc}")
        log.error("publication.unconfirmed", publication=pub.id, key=pub.key, error=redact(str(exc)))
        return "unconfirmed", pub
    except (TransientError, RateLimited) as exc:
        # The platform cannot be asked right now: ask again later, sooner for a first deferral (X's
        # timeline lags a new post by seconds); the dispatcher's sweep of in_doubt rows backs this up.
        deferred = sum(1 for e in rt.ledger.events(publication_id=pub.id) if e["kind"] == "reconcile-deferred")
        delay = RECONCILE_FIRST_DEFER if deferred == 0 else _backoff(rt, deferred)
        if isinstance(exc, RateLimited):
            delay = max(delay, exc.until - rt.ledger.now())
        delay = min(delay, rt.timing.resend_after)
        rt.ledger.record_event("reconcile-deferred", actor=actor, publication_id=pub.id, error=str(exc),
                               detail={"retry_in_s": round(delay.total_seconds(), 1)})
        rt.actors.reconcile.send_with_options(args=(pub.id,), delay=max(1, int(delay.total_seconds() * 1000)))
        return "deferred", pub
    if found is not None:
        done = _record_receipt(rt, pub, found, rendered, actor, (S.IN_DOUBT,), "reconciled")
        return "published", done or pub
    # After a crash the platform is not at fault: no backoff. The lease outlasted the time limit,
    # after which a live worker sends nothing, so any request of the dead claim had time to land.
    return _retry_or_fail(rt, pub, f"reconciled: no post found ({pub.last_error})", actor, expect=(S.IN_DOUBT,),
                          delay=timedelta(0) if crashed else None), pub
