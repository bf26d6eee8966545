"""Operator decisions: resolve a publication reconciliation could not decide, replay what failed.

``resolve`` settles one ``unconfirmed`` (or still ``in_doubt``) publication after a human looked
at the platform:

* ``published``: the post is there; its URL becomes the permalink (an absolute http(s) URL, checked)
  and its platform id the remote id when given;
* ``retry``: the post is not there; the publication is retried now, with a fresh retry budget;
* ``failed``: give it up.

``replay`` re-queues ``failed`` (and, when asked explicitly, ``unconfirmed``) publications chosen by
item, account, state and time range, and can re-request an item's failed localizations. It never
replays a row it should not without saying why: a revision that was superseded or cancelled
(replaying would post stale content), an account that is gone from ``accounts.yaml``, or an
account that is not ``ok`` (``needs_credentials``, ``disabled``: reset it first, or pass
``include_held`` to queue the rows behind it). ``dry_run`` reports the same without a change.

Every change is a ledger transition with an event naming who (``operator:<name>``) and why.
Nothing here calls a platform or sends a message: the dispatcher sends due ``retrying`` rows
and pending localizations on its next tick.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from ..base.fields import validate_url
from ..base.logging import get_logger
from ..errors import ConfigError, ContentError, SyndicateError
from ..ledger import Publication
from ..model.states import PublicationState

if TYPE_CHECKING:
    from ..services import Services

__all__ = ["Decision", "ReplayPlan", "ReplayRow", "ResolveError", "find_publication", "replay", "resolve"]

S = PublicationState
log = get_logger("syndicate.operator")

#: States ``resolve`` settles.
RESOLVABLE = (S.UNCONFIRMED, S.IN_DOUBT)
#: States ``replay`` re-queues.
REPLAYABLE = (S.FAILED, S.UNCONFIRMED)
#: Longest remote id the ledger keeps.
MAX_REMOTE_ID_CHARS = 256


class ResolveError(SyndicateError):
    """An operator request that cannot be carried out (unknown publication, wrong state, bad URL)."""


class Decision(StrEnum):
    """What an operator decided about a publication."""

    PUBLISHED = "published"
    RETRY = "retry"
    FAILED = "failed"


def _actor(by: str) -> str:
    return f"operator:{by or 'unknown'}"[:200]


def find_publication(runtime: Services, publication: int | str) -> Publication:
    """A publication by row id (``42`` or ``"42"``) or by key (``item/revision/locale/account/slot``).

    Raises:
        ResolveError: no such publication.
    """
    led = runtime.ledger
    text = str(publication).strip()
    pub = led.publication(int(text)) if text.isdigit() and len(text) < 19 else led.publication_by_key(text)
    if pub is None:
        raise ResolveError(f"no publication with id or key {text!r}")
    return pub


def resolve(
    publication: int | str,
    decision: Decision | str,
    *,
    runtime: Services,
    by: str,
    reason: str | None = None,
    permalink: str | None = None,
    remote_id: str | None = None,
) -> Publication:
    """Settle an ``unconfirmed`` or ``in_doubt`` publication by an operator's decision.

    Args:
        publication: row id or key.
        decision: ``published`` (needs ``permalink``), ``retry`` or ``failed``.
        runtime: the ledger and config to use.
        by: who decides (recorded as ``operator:<by>``).
        reason: why (recorded in the event; for ``failed`` also as ``last_error``).
        permalink: the post's URL, for ``published``.
        remote_id: the post's platform id, for ``published`` (optional).

    Returns:
        The publication after the change.

    Raises:
        ResolveError: unknown publication, a state that is not resolvable (or that changed
            meanwhile), a missing or invalid URL, or an unusable remote id.
    """
    try:
        choice = Decision(decision)
    except ValueError:
        raise ResolveError(f"unknown decision {decision!r}; choose published, retry or failed") from None
    pub = find_publication(runtime, publication)
    if S(pub.state) not in RESOLVABLE:
        hint = " (use replay for failed publications)" if pub.state == S.FAILED else ""
        raise ResolveError(f"publication #{pub.id} ({pub.key}) is {pub.state}; only unconfirmed or in-doubt "
                           f"publications are resolved{hint}")
    actor = _actor(by)
    detail: dict[str, object] = {"decision": choice.value, "by": by, "reason": reason, "was": pub.state}
    led = runtime.ledger
    now = led.now()
    if choice is Decision.PUBLISHED:
        url = _checked_permalink(permalink)
        rid = _checked_remote_id(remote_id)
        detail.update(permalink=url, remote_id=rid)
        done = led.transition(pub.id, S.PUBLISHED, expect=RESOLVABLE, actor=actor, kind="resolved", detail=detail,
                              permalink=url, remote_id=rid, published_at=now, lease_until=None,
                              **_rendered_values(runtime, pub))
    elif choice is Decision.RETRY:
        if permalink or remote_id:
            raise ResolveError("a URL or remote id goes with --published only")
        done = led.transition(pub.id, S.RETRYING, expect=RESOLVABLE, actor=actor, kind="resolved", detail=detail,
                              scheduled_for=now, failures=0, lease_until=None)
    else:
        if permalink or remote_id:
            raise ResolveError("a URL or remote id goes with --published only")
        done = led.transition(pub.id, S.FAILED, expect=RESOLVABLE, actor=actor, kind="resolved", detail=detail,
                              error=f"resolved as failed by {by}: {reason or 'no reason given'}", lease_until=None)
    if done is None:
        now_pub = led.publication(pub.id)
        raise ResolveError(f"publication #{pub.id} changed meanwhile (now {now_pub.state if now_pub else 'gone'}); "
                           "look at it again")
    log.info("publication.resolved", publication=pub.id, key=pub.key, decision=choice.value, by=by, reason=reason)
    return done


def _checked_permalink(permalink: str | None) -> str:
    if not permalink:
        raise ResolveError("--published needs the post's URL")
    try:
        return validate_url(permalink.strip())
    except ValueError as exc:
        raise ResolveError(f"the post's URL is not usable: {exc}") from None


def _checked_remote_id(remote_id: str | None) -> str | None:
    if remote_id is None:
        return None
    rid = remote_id.strip()
    if not rid or len(rid) > MAX_REMOTE_ID_CHARS or not rid.isprintable():
        raise ResolveError(f"the remote id must be 1 to {MAX_REMOTE_ID_CHARS} printable characters")
    return rid


def _rendered_values(runtime: Services, pub: Publication) -> dict[str, Any]:
    """What publishing would have recorded about the text (best effort: the row may not render now)."""
    from ..publishing.content import render_publication
    from ..publishing.steps import _rendered_record, _text_hash

    if pub.rendered is not None:
        return {}
    try:
        rendered = render_publication(runtime, pub)
    except (ContentError, ConfigError, KeyError):
        return {}
    return {"rendered": _rendered_record(rendered), "text_hash": _text_hash(rendered)}


@dataclass(frozen=True)
class ReplayRow:
    """One publication replay looked at: ``action`` is ``replay`` or ``skip``, with the reason."""

    publication: Publication
    action: str
    reason: str | None = None


@dataclass
class ReplayPlan:
    """What :func:`replay` did (or, with ``dry_run``, would do)."""

    dry_run: bool
    rows: list[ReplayRow] = field(default_factory=list)
    localizations: list[tuple[str, int, str]] = field(default_factory=list)

    @property
    def replayed(self) -> list[Publication]:
        """The publications re-queued (or to be)."""
        return [r.publication for r in self.rows if r.action == "replay"]

    @property
    def skipped(self) -> list[ReplayRow]:
        """The publications left alone, each with its reason."""
        return [r for r in self.rows if r.action == "skip"]


def replay(
    *,
    runtime: Services,
    by: str,
    item: str | None = None,
    account: str | None = None,
    states: Iterable[PublicationState | str] = (S.FAILED,),
    since: datetime | None = None,
    until: datetime | None = None,
    include_held: bool = False,
    localizations: bool = False,
    reason: str | None = None,
    dry_run: bool = False,
) -> ReplayPlan:
    """Re-queue ``failed`` (or ``unconfirmed``) publications; optionally re-request failed localizations.

    Args:
        runtime: the ledger and config to use.
        by: who replays (recorded as ``operator:<by>``).
        item: only this item's publications (any revision; only the active one is replayed).
        account: only this account's publications.
        states: ``failed`` (default) and/or ``unconfirmed``. An unconfirmed post may exist: replay
            one only after checking the platform (or use :func:`resolve`).
        since: only rows that reached their state at or after this time (``updated_at``).
        until: only rows that reached their state before this time.
        include_held: also queue rows of accounts that are not ``ok``; they wait until the
            account is reset. By default they are skipped, with the account's status as reason.
        localizations: with ``item``, also set the item's failed localizations back to pending,
            so the dispatcher asks for them again.
        reason: why, recorded in each event.
        dry_run: report what would be done; change nothing.

    Raises:
        ResolveError: a state that is not replayable, or ``localizations`` without ``item``.
    """
    wanted = []
    for s in states:
        try:
            state = S(s)
        except ValueError:
            raise ResolveError(f"unknown state {s!r}") from None
        if state not in REPLAYABLE:
            raise ResolveError(f"{state.value} publications are not replayed; replay failed or unconfirmed ones")
        wanted.append(state)
    if not wanted:
        raise ResolveError("no state to replay")
    if localizations and item is None:
        raise ResolveError("re-requesting localizations needs an item")
    led = runtime.ledger
    actor = _actor(by)
    plan = ReplayPlan(dry_run=dry_run)
    pubs = led.publications(item_id=item, account=account, state=[s.value for s in wanted])
    pubs = [p for p in pubs if (since is None or p.updated_at >= since) and (until is None or p.updated_at < until)]
    statuses: dict[str, tuple[str, str | None]] = {}
    active: dict[tuple[str, int], bool] = {}
    for p in sorted(pubs, key=lambda p: p.id):
        action, why = _decide(runtime, p, statuses, active, include_held)
        plan.rows.append(ReplayRow(p, action, why))
    if localizations and item is not None:
        stored = led.item(item)
        if stored is not None and stored.state == "active":
            rev = stored.item.revision
            if dry_run:
                plan.localizations = [(item, rev, loc) for loc in led.failed_localizations(item, rev)]
            else:
                plan.localizations = [(item, rev, loc) for loc in led.requeue_localizations(item, rev, actor=actor)]
    if dry_run:
        return plan
    now = led.now()
    done_rows: list[ReplayRow] = []
    for row in plan.rows:
        if row.action != "replay":
            done_rows.append(row)
            continue
        p = row.publication
        moved = led.transition(p.id, S.RETRYING, expect=(S(p.state),), actor=actor, kind="replayed",
                               detail={"by": by, "reason": reason, "was": p.state, "note": row.reason},
                               scheduled_for=now, failures=0, lease_until=None)
        done_rows.append(ReplayRow(moved, "replay", row.reason) if moved is not None
                         else ReplayRow(p, "skip", "changed meanwhile"))
    plan.rows = done_rows
    led.record_event("replay", actor=actor, item_id=item, detail={
        "by": by, "reason": reason, "account": account, "states": [s.value for s in wanted],
        "since": since.isoformat() if since else None, "until": until.isoformat() if until else None,
        "replayed": [p.id for p in plan.replayed], "skipped": {str(r.publication.id): r.reason for r in plan.skipped},
        "localizations": [loc for _, _, loc in plan.localizations]})
    log.info("publication.replayed", by=by, replayed=len(plan.replayed), skipped=len(plan.skipped),
             localizations=len(plan.localizations), item=item, account=account)
    return plan


def _decide(runtime: Services, p: Publication, statuses: dict[str, tuple[str, str | None]],
            active: dict[tuple[str, int], bool], include_held: bool) -> tuple[str, str | None]:
    """``("replay" | "skip", reason)`` for one publication."""
    key = (p.item_id, p.revision)
    if key not in active:
        stored = runtime.ledger.item(p.item_id, p.revision)
        active[key] = stored is not None and stored.state == "active"
    if not active[key]:
        return "skip", f"revision {p.revision} of {p.item_id} is no longer active (superseded or cancelled)"
    if p.account not in runtime.config.accounts:
        return "skip", f"account {p.account!r} is no longer in accounts.yaml"
    if p.account not in statuses:
        statuses[p.account] = runtime.ledger.account_status(p.account)
    status, why = statuses[p.account]
    if status == "ok":
        return "replay", None
    if include_held:
        return "replay", (f"account {p.account!r} is {status} ({why or 'no reason given'}): queued, it waits "
                          "until the account is reset")
    return "skip", (f"account {p.account!r} is {status} ({why or 'no reason given'}); reset it with "
                    f"'syndicate accounts reset {p.account}' first, or include held accounts")


def describe(rows: Sequence[ReplayRow]) -> list[str]:
    """One line per row, for the command line."""
    out = []
    for r in rows:
        p = r.publication
        head = f"#{p.id:<6} {p.state:<12} {p.key}"
        out.append(f"{'replay' if r.action == 'replay' else 'skip  '} {head}" + (f"  ({r.reason})" if r.reason else ""))
    return out
