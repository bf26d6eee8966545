"""Response metrics: periodic snapshots of engagement counts for recent publications.

Every ``engagement.interval`` (``settings.yaml``; default 1 h), one worker in the cluster (chosen
by a compare-and-set on the ledger's key-value table, so workers need not agree on anything else)
asks each adapter that implements ``fetch_metrics(remote_id, publication)`` for the counts of
every post it published within ``engagement.window`` (default 7 days), and stores one
``engagement_snapshots`` row per publication and time. ``syndicate report`` shows the newest
snapshot beside the back-link and the UTM fields.

Reading counts is safe to repeat, so a failure is only logged: a rate limit or an auth error
stops asking that account until the next round; anything else skips that publication.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from ..base import metrics
from ..base.logging import get_logger
from ..base.secrets import redact
from ..channels.contract import Adapter
from ..errors import AuthError, ChannelError, RateLimited
from ..ledger import Snapshot

if TYPE_CHECKING:
    from ..ledger import Ledger
    from ..services import Services

__all__ = ["CollectReport", "EngagementJob", "Snapshot", "collect_engagement", "latest_engagement", "snapshots"]

log = get_logger("syndicate.engagement")

#: The key-value entry that records the last round (namespace, key).
LAST_RUN = ("engagement", "last_run")
#: Longest metric name kept, and the most metrics kept per snapshot.
MAX_NAME_CHARS = 48
MAX_COUNTS = 32


@dataclass
class CollectReport:
    """What one round did."""

    stored: int = 0
    skipped: int = 0
    errors: int = 0
    accounts_stopped: list[str] = field(default_factory=list)


def _clean(counts: Mapping[str, Any]) -> dict[str, int]:
    out: dict[str, int] = {}
    for name, value in counts.items():
        if len(out) >= MAX_COUNTS:
            break
        if isinstance(name, str) and isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            out[name[:MAX_NAME_CHARS]] = value
    return out


def offers_metrics(adapter_cls: type[Adapter]) -> bool:
    """Whether an adapter class implements ``fetch_metrics`` (the base answers None)."""
    return adapter_cls.fetch_metrics is not Adapter.fetch_metrics


def collect_engagement(rt: Services, *, window: timedelta | None = None) -> CollectReport:
    """Snapshot the engagement of every publication published within ``window`` (default: settings).

    Only accounts whose adapter implements ``fetch_metrics`` and whose status is ``ok`` are asked.
    """
    report = CollectReport()
    win = window or rt.config.engagement.window
    now = rt.ledger.now()
    accounts = [a for a in rt.config.accounts if offers_metrics(rt.config.adapter_class(a))
                and rt.ledger.account_status(a)[0] == "ok"]
    if not accounts:
        return report
    from ..publishing.content import publication_ref

    stopped: set[str] = set()
    for pub in rt.ledger.published_since(now - win, accounts=accounts):
        if pub.account in stopped:
            report.skipped += 1
            continue
        try:
            counts = rt.adapter(pub.account).fetch_metrics(pub.remote_id or "", publication_ref(rt, pub))
        except (RateLimited, AuthError) as exc:
            stopped.add(pub.account)
            report.accounts_stopped.append(pub.account)
            report.errors += 1
            log.warning("engagement.account_paused", account=pub.account, publication=pub.id,
                        error=redact(str(exc)), reason=type(exc).__name__)
            continue
        except ChannelError as exc:
            report.errors += 1
            log.warning("engagement.fetch_failed", account=pub.account, publication=pub.id, error=redact(str(exc)))
            continue
        except Exception as exc:  # noqa: BLE001 - an adapter bug must not stop the round
            report.errors += 1
            log.error("engagement.fetch_failed", account=pub.account, publication=pub.id,
                      error=redact(f"{type(exc).__name__}: {exc}"))
            continue
        if counts is None:
            report.skipped += 1
            continue
        store_snapshot(rt.ledger, pub.id, _clean(counts), taken_at=rt.ledger.now())
        metrics.count_engagement_snapshot(pub.channel)
        report.stored += 1
    log.info("engagement.collected", stored=report.stored, skipped=report.skipped, errors=report.errors)
    return report


def store_snapshot(ledger: Ledger, publication_id: int, counts: Mapping[str, int], *, taken_at: datetime) -> None:
    """Store one snapshot."""
    ledger.store_engagement(publication_id, counts, taken_at=taken_at)


def snapshots(ledger: Ledger, publication_id: int) -> list[Snapshot]:
    """Every snapshot of one publication, oldest first."""
    return ledger.engagement_snapshots(publication_id)


def latest_engagement(ledger: Ledger, publication_ids: Iterable[int]) -> dict[int, Snapshot]:
    """The newest snapshot of each publication that has one."""
    return ledger.latest_engagement(publication_ids)


class EngagementJob:
    """The periodic round, run from a daemon thread in every worker; one worker wins each round."""

    def __init__(self, rt: Services, *, check_every: timedelta = timedelta(seconds=30)) -> None:
        self.rt = rt
        self.check_every = check_every
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @classmethod
    def for_runtime(cls, rt: Services) -> EngagementJob | None:
        """A job for ``rt``, or None when disabled or no account's adapter offers metrics."""
        if not rt.config.engagement.enabled:
            return None
        if not any(offers_metrics(rt.config.adapter_class(a)) for a in rt.config.accounts):
            return None
        return cls(rt)

    def take_turn(self) -> bool:
        """Claim this round if the last one is older than the interval (compare-and-set)."""
        led = self.rt.ledger
        now = led.now()
        current = led.kv_get(*LAST_RUN)
        if current is not None:
            value, version = current
            last = datetime.fromisoformat(value["at"]) if isinstance(value, dict) and "at" in value else None
            if last is not None and now - last < self.rt.config.engagement.interval:
                return False
            return led.kv_put(*LAST_RUN, {"at": now.isoformat()}, expect_version=version)
        return led.kv_put(*LAST_RUN, {"at": now.isoformat()}, expect_version=None)

    def run(self) -> None:
        """Every ``check_every``, collect when this worker wins the round. The first check comes one
        period after start, so short-lived embedded runs (``syndicate run``) do not start a round."""
        while not self._stop.wait(self.check_every.total_seconds()):
            try:
                if self.take_turn():
                    collect_engagement(self.rt)
            except Exception:  # the loop must outlive a ledger hiccup
                log.exception("engagement.round_failed")

    def start(self) -> EngagementJob:
        """Run in a daemon thread."""
        self._thread = threading.Thread(target=self.run, name="engagement", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the loop and wait for it."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
