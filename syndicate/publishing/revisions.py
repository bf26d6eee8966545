"""What a new revision does to a post that already went out (docs/reliability.md, docs/routes.md).

A revision's publication whose account, locale and slot already have a ``published`` row of an
earlier revision (the *previous version*) reaches that post according to the account's
:class:`~syndicate.channels.contract.RevisionPolicy`:

* ``update``: the adapter's ``update`` changes the post in place (same id and permalink); an
  update by id is idempotent, so a doubtful answer is retried, never reconciled;
* ``keep``: no call; the row is ``skipped`` (``revision-kept``) and the post stays as it was;
* ``reply``: the adapter's ``reply`` posts the new text as a reply in the thread (a create:
  reconciled as a publish is);
* ``replace``: the previous post is deleted first (a ``delete`` operation, as ``unpublish`` makes),
  then the new text is posted as a new post.

Whatever the policy, a revision that changes nothing the channel shows (the post rendered from the
new revision, with the previous version's link, is the previous post exactly) makes no call: the
row is recorded ``published`` (``unchanged``) with the previous post's id, permalink and link.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, replace
from typing import TYPE_CHECKING, Any

from ..base.logging import get_logger
from ..channels.contract import Adapter, Receipt, Rendered, RevisionPolicy, Safety
from ..channels.rendering import cpu_budget
from ..ledger import Publication
from ..model.states import OperationState, PublicationState
from .content import RENDER_CPU_BUDGET, build_content

if TYPE_CHECKING:
    from ..channels.contract import PublicationRef
    from ..services import Services

__all__ = ["RevisionPlan", "call_for_revision", "keep_revision", "record_kind", "rendered_record",
           "revision_plan", "safety_of", "shows_no_change", "wait_for_replacement"]

S = PublicationState
log = get_logger("syndicate.revisions")


@dataclass(frozen=True)
class RevisionPlan:
    """A publication that reaches an earlier revision's post: that post's row and the policy."""

    previous: Publication
    policy: RevisionPolicy


def revision_plan(rt: Services, pub: Publication) -> RevisionPlan | None:
    """The plan for ``pub``, or None when no earlier revision of it is live (a plain publish)."""
    previous = rt.ledger.previous_version(pub)
    if previous is None or not previous.remote_id:
        return None
    account = rt.config.accounts.get(pub.account)
    policy = type(rt.adapter(pub.account)).revision_policy_for(account.on_revision if account else None)
    return RevisionPlan(previous, policy)


def keep_revision(rt: Services, pub: Publication, plan: RevisionPlan, actor: str) -> bool:
    """Policy ``keep``: record the row ``skipped`` without a call; False if it was moved meanwhile."""
    done = rt.ledger.transition(
        pub.id, S.SKIPPED, expect=(S.ENQUEUED, S.RETRYING), actor=actor, kind="revision-kept",
        error=f"account {pub.account!r} keeps its post of revision {plan.previous.revision} as it is "
              f"(on_revision: keep): {plan.previous.permalink}",
        detail={"previous": plan.previous.id, "remote_id": plan.previous.remote_id})
    return done is not None


def wait_for_replacement(rt: Services, pub: Publication, plan: RevisionPlan, actor: str) -> str | None:
    """Policy ``replace``: make sure the previous post's delete is asked for.

    Returns None when the delete could not be done (it failed or needs an operator: the caller
    fails the row with that reason in ``pub``'s stead), else ``"waiting"`` (the publish message
    comes back once the delete had time to run; the row stays ``enqueued``).
    """
    ops = [o for o in rt.ledger.operations(item_id=pub.item_id)
           if o.account == pub.account and o.remote_id == plan.previous.remote_id and o.kind == "delete"]
    if ops and ops[-1].state in (OperationState.FAILED, OperationState.UNCONFIRMED):
        return None
    if not ops or ops[-1].state == OperationState.DONE:
        made = rt.ledger.request_deletes(pub.item_id, locale=pub.locale, account=pub.account, actor=actor,
                                         can_delete=lambda _a: True, in_place=lambda _a: False,
                                         publication_id=plan.previous.id)
        for op in made.created:
            rt.actors.unpublish.send(op.id)
    rt.actors.publish.send_with_options(args=(pub.id,), delay=2000)
    return "waiting"


def rendered_record(rendered: Rendered) -> dict[str, Any]:
    """``rendered`` as the JSON the ledger keeps (``publications.rendered``)."""
    data = asdict(rendered)
    data["media"] = [asdict(m) for m in rendered.media]
    out: dict[str, Any] = json.loads(json.dumps(data, default=str))
    return out


def _shown(record: dict[str, Any] | None) -> str | None:
    if record is None:
        return None
    shown = {k: v for k, v in record.items() if k != "warnings"}
    return hashlib.sha256(json.dumps(shown, sort_keys=True).encode("utf-8")).hexdigest()


def shows_no_change(rt: Services, pub: Publication, previous: Publication, adapter: Adapter) -> bool:
    """Whether ``pub``'s revision, rendered as the previous version (its link, its revision
    number), is exactly the previous post: then nothing the channel shows changed.

    Any failure to tell (the earlier rendering cannot be repeated) answers False: the revision
    then takes its normal path, which reports a rendering problem where it belongs.
    """
    if previous.rendered is None:
        return False
    try:
        return _same_as_before(rt, pub, previous, adapter)
    except Exception:
        log.warning("revision.compare_failed", publication=pub.id, previous=previous.id, exc_info=True)
        return False


def _same_as_before(rt: Services, pub: Publication, previous: Publication, adapter: Adapter) -> bool:
    item = rt.ledger.item_content(pub.item_id, pub.revision)
    loc = rt.ledger.localization(pub.item_id, pub.revision, pub.locale)
    if item is None or loc is None or loc["state"] != "done":
        return False
    route = rt.config.routes.get(pub.region)
    content = build_content(item, loc["fields"] or {}, previous, never_tag=route.never_tag if route else ())
    with cpu_budget(RENDER_CPU_BUDGET.total_seconds()):
        as_before = adapter.render(replace(content, revision=previous.revision))
    return _shown(rendered_record(as_before)) == _shown(previous.rendered)


def call_for_revision(adapter: Adapter, rendered: Rendered, ref: PublicationRef, plan: RevisionPlan | None
                      ) -> Receipt:
    """The platform call a publication makes: ``update`` or ``reply`` for a revision of a live post
    (per its plan), ``publish`` otherwise."""
    if plan is not None and plan.policy is RevisionPolicy.UPDATE:
        return adapter.update(rendered, ref, plan.previous.remote_id or "")
    if plan is not None and plan.policy is RevisionPolicy.REPLY:
        return adapter.reply(rendered, ref, plan.previous.remote_id or "")
    return adapter.publish(rendered, ref)


def safety_of(adapter: Adapter, ref: PublicationRef, plan: RevisionPlan | None) -> Safety:
    """What repeating the call :func:`call_for_revision` makes would do."""
    if plan is not None and plan.policy is RevisionPolicy.UPDATE:
        return adapter.update_safety
    if plan is not None and plan.policy is RevisionPolicy.REPLY:
        return adapter.publish_safety
    return adapter.safety_for(ref)


def record_kind(plan: RevisionPlan | None) -> str:
    """The event kind of the ``published`` transition: ``updated``, ``replied`` or ``published``."""
    if plan is not None and plan.policy is RevisionPolicy.UPDATE:
        return "updated"
    if plan is not None and plan.policy is RevisionPolicy.REPLY:
        return "replied"
    return "published"
