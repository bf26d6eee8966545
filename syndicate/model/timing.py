"""Time limits, leases and backoff of the workers: one definition, read by every stage."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta

__all__ = ["Timing"]


@dataclass(frozen=True)
class Timing:
    """Time limits, leases and backoff; ``docs/reliability.md`` explains the values.

    The order must hold: worker shutdown timeout > publish time limit > each account's HTTP
    timeouts (connect + read), and claim lease > publish time limit, so a live worker's claim
    never expires under it. The defaults bring a publication owned by a worker killed with
    ``kill -9`` to a terminal state within about 25 s (measured in ``docs/reliability.md``).
    """

    #: Dramatiq time limit of a publish or reconcile message. A live worker sends nothing after
    #: it (the interrupt is raised before the next request), so it bounds when a request can leave.
    publish_time_limit: timedelta = timedelta(seconds=15)
    localize_time_limit: timedelta = timedelta(minutes=5)
    #: How long a claim (``calling``) lasts; then the dispatcher reconciles the row as crashed.
    #: ``claim_lease - publish_time_limit`` is the least time a platform has had to make a post
    #: visible before a crashed worker's row is looked up.
    claim_lease: timedelta = timedelta(seconds=20)
    shutdown_timeout: timedelta = timedelta(minutes=3)
    retry_min_backoff: timedelta = timedelta(seconds=15)
    retry_max_backoff: timedelta = timedelta(hours=1)
    max_attempts: int = 8
    dispatch_interval: timedelta = timedelta(seconds=1)
    dispatch_horizon: timedelta = timedelta(seconds=5)
    #: Rows left ``enqueued`` (or ``in_doubt``) this long get their message sent again (it was lost).
    enqueued_stale_after: timedelta = timedelta(minutes=5)
    localize_stale_after: timedelta = timedelta(minutes=2)
    #: Redis broker: a worker process silent this long is dead, and its fetched messages go back
    #: to their queues at the next maintenance pass.
    heartbeat_timeout: timedelta = timedelta(seconds=10)
    #: Redis broker: how many broker commands in a million run a maintenance pass (10 %: a pass
    #: within about a second of a heartbeat expiring, with workers polling every 100 ms).
    maintenance_chance: int = 100_000

    def check(self) -> None:
        """Raise ``ValueError`` when the ordering above does not hold."""
        if not self.claim_lease > self.publish_time_limit:
            raise ValueError("claim_lease must exceed publish_time_limit")
        if not self.shutdown_timeout > self.publish_time_limit:
            raise ValueError("shutdown_timeout must exceed publish_time_limit")
        if not 0 < self.maintenance_chance <= 1_000_000:
            raise ValueError("maintenance_chance must be between 1 and 1,000,000")
        if self.heartbeat_timeout < timedelta(seconds=1):
            raise ValueError("heartbeat_timeout must be at least 1 s")

    def fitted(self, longest_http: timedelta) -> Timing:
        """This timing with the publish time limit raised above ``longest_http`` (the longest
        connect + read timeout of an account) when needed; the claim lease and the shutdown
        timeout move up with it and keep their margins. Unchanged when the limit already exceeds it."""
        if self.publish_time_limit > longest_http:
            return self
        limit = longest_http + timedelta(seconds=1)
        raised = limit - self.publish_time_limit
        return replace(self, publish_time_limit=limit, claim_lease=self.claim_lease + raised,
                       shutdown_timeout=max(self.shutdown_timeout, limit + timedelta(seconds=1)))
