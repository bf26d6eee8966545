"""The embedded run behind ``syndicate run``: publish what is due, finish the job, say what happened.

:func:`run_embedded` runs worker threads and the dispatcher in this process until every
publication that is *due* has settled, where:

* **due** means its time came: it was planned for now or earlier (or that time came during the
  run), or it has been handed to a worker. A publication planned for later (a posting window, an evergreen repeat) is
  left for ``syndicate worker``; one that comes due while the run is still going is due work.
* **settled** means there is nothing left for this run to do: it is published, skipped, cancelled,
  failed or unconfirmed; it waits for a human (review, a held account, a localization that
  failed); or its next attempt (a retry after a 500 or a refused connection, a rate-limit
  deferral) falls after the run's timeout. A retry that comes due before the timeout is due work:
  the run waits for it.

:class:`RunResult` then tells what *this run* did (whatever the submission said: a second run of
an approved item publishes its released locale) and what is left, with when and why.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from ..ledger import Publication
from ..model.states import PublicationState
from ..operations.holds import account_problem, held_note
from .host import WorkerHost

if TYPE_CHECKING:
    from ..services import Services

__all__ = ["RunResult", "run_embedded"]

S = PublicationState

#: States that wait for their ``scheduled_for``: not due before it.
_WAITING = frozenset({S.SCHEDULED, S.RETRYING, S.AWAITING_REVIEW})
#: States whose publication goes out once its ``scheduled_for`` comes (nothing else is needed).
_TIMED = frozenset({S.SCHEDULED, S.RETRYING})
_DONE = frozenset({S.PUBLISHED, S.SKIPPED, S.CANCELLED})
_GAVE_UP = frozenset({S.FAILED, S.UNCONFIRMED})


def _utc(t: datetime) -> str:
    return t.strftime("%Y-%m-%d %H:%M:%S UTC")


@dataclass(frozen=True)
class RunResult:
    """What one embedded run did and what it left.

    Attributes:
        publications: every publication of the run's items, as the run left them.
        before: the state of each publication that existed before the run (absent: new in this run).
        due: ids of the publications whose time came during the run.
        held: accounts that are not ``ok`` at the end, with status and reason.
        localization_errors: ``(item, revision, locale)`` → error, for localizations that failed.
        ended_at: ledger time when the run ended.
        deadline: ledger time at which the run's timeout ran out.
        timed_out: the timeout ended the run while due work was still going on.
    """

    publications: list[Publication]
    before: Mapping[int, str]
    due: frozenset[int]
    held: Mapping[str, tuple[str, str | None]]
    localization_errors: Mapping[tuple[str, int, str], str]
    ended_at: datetime
    deadline: datetime
    timed_out: bool = False

    def _changed_to(self, states: frozenset[PublicationState]) -> list[Publication]:
        return [p for p in self.publications if S(p.state) in states and self.before.get(p.id) != p.state]

    @property
    def published(self) -> list[Publication]:
        """Published by this run."""
        return self._changed_to(frozenset({S.PUBLISHED}))

    @property
    def skipped(self) -> list[Publication]:
        """Skipped in this run by a route's rules (planned as skipped, or expired before their call)."""
        return self._changed_to(frozenset({S.SKIPPED}))

    @property
    def later(self) -> list[Publication]:
        """Planned for after the run; ``syndicate worker`` publishes them when due."""
        return sorted((p for p in self.publications if p.id not in self.due and S(p.state) in _TIMED
                       and p.account not in self.held), key=lambda p: (p.scheduled_for, p.key))

    def held_publications(self) -> list[Publication]:
        """Publications waiting for a held account (nothing was sent)."""
        return [p for p in self.publications if held_note(p, self.held) is not None]

    @property
    def awaiting_review(self) -> list[Publication]:
        """Publications whose machine translation waits for a reviewer."""
        return [p for p in self.publications if p.state == S.AWAITING_REVIEW]

    def localization_held(self) -> list[tuple[Publication, str]]:
        """Due publications that wait because their localization failed, with the error."""
        out = []
        for p in self.publications:
            err = self.localization_errors.get((p.item_id, p.revision, p.locale))
            if err is not None and p.state == S.SCHEDULED and not p.ready and p.id in self.due:
                out.append((p, err))
        return out

    @property
    def pending(self) -> list[Publication]:
        """Due publications still on their way when the run ended: a retry or deferral that comes after
        the timeout, or work in flight when the timeout ran out."""
        held = {p.id for p in self.held_publications()} | {p.id for p, _ in self.localization_held()}
        return [p for p in self.publications if p.id in self.due and p.id not in held
                and S(p.state) not in _DONE | _GAVE_UP | {S.AWAITING_REVIEW}]

    @property
    def gave_up(self) -> list[Publication]:
        """Due publications that failed or that nobody could confirm (including earlier runs' ones)."""
        return [p for p in self.publications if p.id in self.due and S(p.state) in _GAVE_UP]

    @property
    def complete(self) -> bool:
        """Every due publication was published, skipped by a route's rules or cancelled."""
        return all(S(p.state) in _DONE for p in self.publications if p.id in self.due) and not self.awaiting_review

    def summary(self) -> list[str]:
        """What this run did, for stdout: counts, and what is planned for later."""
        published, skipped = self.published, self.skipped
        lines = []
        if published or skipped:
            parts = [f"published {len(published)}"] + ([f"skipped {len(skipped)} by the routes' rules"]
                                                       if skipped else [])
            lines.append("this run: " + ", ".join(parts))
        elif self.complete and not self.pending:
            lines.append("this run: nothing new to publish: every item was already submitted with this revision "
                         "and all of it that is due has gone out")
        else:
            lines.append("this run: published nothing")
        later = self.later
        if later:
            first = _utc(later[0].scheduled_for)
            lines.append(f"{len(later)} publication(s) are planned for later (the first at {first}); "
                         "run 'syndicate worker' to publish them when due")
        return lines

    def problems(self) -> list[str]:
        """What keeps the run from being complete, for stderr: held accounts, reviews, pending
        retries, failures; each with what to do."""
        lines: list[str] = []
        held_pubs = self.held_publications()
        by_account = Counter(p.account for p in held_pubs)
        failed_by_account = Counter(p.account for p in self.gave_up if p.account in self.held)
        for account in sorted(set(by_account) | set(failed_by_account)):
            status, reason = self.held[account]
            what = []
            if failed_by_account[account]:
                what.append(f"{failed_by_account[account]} publication(s) failed")
            if by_account[account]:
                what.append(f"{by_account[account]} wait (nothing sent)")
            fix = f"fix it, then run 'syndicate accounts reset {account}'"
            if failed_by_account[account]:
                fix += f" and 'syndicate replay --account {account}'"
            lines.append(f"held: {account_problem(account, status, reason)}: {' and '.join(what)}; {fix}")
        review = self.awaiting_review
        for (item, locale), n in sorted(Counter((p.item_id, p.locale) for p in review).items()):
            lines.append(f"review: {n} publication(s) of {item} in {locale} await review: "
                         f"'syndicate review {item} --locale {locale}', then 'syndicate approve' or 'syndicate reject'")
        for p, err in self.localization_held():
            lines.append(f"  {p.key}: waits for its {p.locale} translation, which failed: {err}")
        pending = self.pending
        if pending:
            ended = "the --timeout ran out" if self.timed_out else "the run ended"
            lines.append(f"{len(pending)} publication(s) still pending when {ended}:")
            for p in pending[:20]:
                lines.append("  " + self._pending_line(p))
        gave_up = [p for p in self.gave_up if p.account not in self.held or p.state != S.FAILED]
        for p in gave_up[:20]:
            earlier = " (before this run)" if self.before.get(p.id) == p.state else ""
            lines.append(f"  {p.key}: {p.state}{earlier}: {p.last_error or 'no error recorded'}")
        return lines

    def _pending_line(self, p: Publication) -> str:
        state = S(p.state)
        if state in _TIMED and p.scheduled_for > self.ended_at:
            kind = "next attempt" if state is S.RETRYING else "goes out"
            why = f" (last error: {p.last_error})" if p.last_error else ""
            return (f"{p.key}: {p.state}, {kind} at {_utc(p.scheduled_for)}, after this run; "
                    f"'syndicate worker' {'retries' if state is S.RETRYING else 'publishes'} it then{why}")
        if state is S.IN_DOUBT:
            return f"{p.key}: in_doubt: being looked for on the platform ({p.last_error or 'no error recorded'})"
        return f"{p.key}: {p.state}: still in flight; 'syndicate status {p.item_id}' shows how it ends"


def run_embedded(
    rt: Services,
    publications: Callable[[], list[Publication]],
    *,
    before: Mapping[int, str] | None = None,
    threads: int = 8,
    timeout: timedelta = timedelta(minutes=10),
    on_progress: Callable[[int, int, str | None], None] | None = None,
    poll: float = 0.05,
) -> RunResult:
    """Run worker threads and the dispatcher until every due publication has settled (see the
    module docstring), or the timeout runs out.

    Args:
        rt: an embedded runtime.
        publications: returns the publications of the run's items (re-read from the ledger each time).
        before: the state of each publication before the run (to tell what this run did).
        threads: publishing threads (intake and localization get the config's ``worker.prepare_threads``).
        timeout: stop waiting after this long.
        on_progress: called with (settled, due, what is awaited) whenever that changes.
        poll: seconds between looks at the ledger.
    """
    led = rt.ledger
    host = WorkerHost(rt, threads=threads, dispatcher=True)
    start = led.now()
    deadline = start + timeout
    give_up_at = time.monotonic() + timeout.total_seconds()
    due: set[int] = set()
    last: tuple[int, int, str | None] | None = None
    timed_out = False
    host.start()
    try:
        while True:
            pubs = publications()
            now = led.now()
            held = led.held_accounts()
            loc_errors = _localization_errors(rt, pubs)
            for p in pubs:
                # planned_for is the planned time, which retries and deferrals do not move
                if p.id not in due and (p.planned_for <= now or p.scheduled_for <= now
                                        or S(p.state) not in _WAITING):
                    due.add(p.id)
            open_ = [p for p in pubs if p.id in due and not _settled(p, held, loc_errors, deadline)]
            waiting = sorted(p.scheduled_for for p in open_ if S(p.state) in _TIMED and p.scheduled_for > now)
            note = (f"waiting for {len(waiting)} retr{'y' if len(waiting) == 1 else 'ies'}, the next at "
                    f"{_utc(waiting[0])}") if waiting else None
            state = (len(due) - len(open_), len(due), note)
            if on_progress is not None and state != last:
                on_progress(*state)
            last = state
            if not open_:
                break
            if time.monotonic() > give_up_at:
                timed_out = True
                break
            time.sleep(poll)
    finally:
        host.stop()
    final = publications()
    held = led.held_accounts()
    return RunResult(publications=final, before=dict(before or {}), due=frozenset(due), held=held,
                     localization_errors=_localization_errors(rt, final), ended_at=led.now(), deadline=deadline,
                     timed_out=timed_out)


def _settled(p: Publication, held: Mapping[str, tuple[str, str | None]],
             loc_errors: Mapping[tuple[str, int, str], str], deadline: datetime) -> bool:
    state = S(p.state)
    if state in _DONE or state in _GAVE_UP or state is S.AWAITING_REVIEW:
        return True
    if held_note(p, held) is not None:
        return True  # waits for an operator: 'syndicate accounts reset'
    if state is S.SCHEDULED and not p.ready and (p.item_id, p.revision, p.locale) in loc_errors:
        return True  # its localization failed: needs a human
    # A retry (or rate-limit deferral) due after the timeout cannot finish in this run.
    return state in _TIMED and p.scheduled_for > deadline


def _localization_errors(rt: Services, pubs: Iterable[Publication]) -> dict[tuple[str, int, str], str]:
    """Failed localizations of the publications still waiting for theirs."""
    out: dict[tuple[str, int, str], str] = {}
    seen: set[tuple[str, int, str]] = set()
    for p in pubs:
        key = (p.item_id, p.revision, p.locale)
        if p.ready or p.state != S.SCHEDULED or key in seen:
            continue
        seen.add(key)
        loc = rt.ledger.localization(*key)
        if loc is not None and loc["state"] == "failed":
            out[key] = str(loc.get("error") or "no error recorded")
    return out
