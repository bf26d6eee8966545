"""Time limits, leases and backoff of the workers: one definition, read by every stage.

``settings.yaml``'s ``worker:`` section is parsed straight into :class:`Timing` (as
:class:`~syndicate.model.config.WorkerSettings`, which adds the process and thread counts), so
each knob has one name, one default and one check, whether it comes from YAML or from code.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..base.fields import Duration

__all__ = ["Timing"]


def _s(td: timedelta) -> str:
    return f"{td.total_seconds():g} s"


class Timing(BaseModel):
    """Time limits, leases and backoff; ``docs/reliability.md`` explains the values.

    The order must hold: worker shutdown timeout > publish time limit > each account's HTTP
    timeouts (connect + read), and claim lease > publish time limit, so a live worker's claim
    never expires under it. The defaults bring a publication owned by a worker killed with
    ``kill -9`` to a terminal state within about 25 s (measured in ``docs/reliability.md``).
    Every instance is checked when it is built (a ``ValueError`` names the rule it breaks).
    """

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)

    #: Dramatiq time limit of a publish or reconcile message. A live worker sends nothing after
    #: it (the interrupt is raised before the next request), so it bounds when a request can leave.
    publish_time_limit: Duration = timedelta(seconds=15)
    #: Dramatiq time limit of a localize message.
    localize_time_limit: Duration = timedelta(minutes=5)
    #: How long a claim (``calling``) lasts; then the dispatcher reconciles the row as crashed.
    #: ``claim_lease - publish_time_limit`` is the least time a platform has had to make a post
    #: visible before a crashed worker's row is looked up.
    claim_lease: Duration = timedelta(seconds=20)
    #: How long a stopping worker waits for the messages it is processing.
    shutdown_timeout: Duration = timedelta(minutes=3)
    #: Backoff after the first failed platform call; doubled per failure, jittered, capped below.
    retry_min_backoff: Duration = timedelta(seconds=15)
    retry_max_backoff: Duration = timedelta(hours=1)
    #: Failed platform calls before a publication is failed.
    max_attempts: Annotated[int, Field(ge=1, le=100)] = 8
    #: How often the dispatcher looks for due rows, and how far ahead it sends them.
    dispatch_interval: Duration = timedelta(seconds=1)
    dispatch_horizon: Duration = timedelta(seconds=5)
    #: Rows left ``enqueued`` (or ``in_doubt``) this long get their message sent again (it was lost).
    resend_after: Duration = timedelta(minutes=5)
    #: A localization requested this long ago and still pending is requested again.
    localize_stale_after: Duration = timedelta(minutes=2)
    #: Redis broker: a worker process silent this long is dead, and its fetched messages go back
    #: to their queues at the next maintenance pass.
    heartbeat_timeout: Duration = timedelta(seconds=10)
    #: Redis broker: how many broker commands in a million run a maintenance pass (10 %: a pass
    #: within about a second of a heartbeat expiring, with workers polling every 100 ms).
    maintenance_chance: Annotated[int, Field(ge=1, le=1_000_000)] = 100_000

    @model_validator(mode="after")
    def _ordered(self) -> Timing:
        self.check()
        return self

    def check(self) -> None:
        """Raise ``ValueError`` when the ordering above does not hold."""
        if not self.claim_lease > self.publish_time_limit:
            raise ValueError(f"claim_lease ({_s(self.claim_lease)}) must exceed publish_time_limit "
                             f"({_s(self.publish_time_limit)}): a live worker's claim must never expire under it, "
                             "and claim_lease must exceed it by the time a platform takes to show a new post")
        if not self.shutdown_timeout > self.publish_time_limit:
            raise ValueError(f"shutdown_timeout ({_s(self.shutdown_timeout)}) must exceed publish_time_limit "
                             f"({_s(self.publish_time_limit)}): a stopping worker must let its calls end")
        if self.heartbeat_timeout < timedelta(seconds=1):
            raise ValueError(f"heartbeat_timeout must be at least 1 s, not {_s(self.heartbeat_timeout)}")

    def fitted(self, longest_http: timedelta) -> Timing:
        """This timing with the publish time limit raised above ``longest_http`` (the longest
        connect + read timeout of an account) when needed; the claim lease and the shutdown
        timeout move up with it and keep their margins. Unchanged when the limit already exceeds it."""
        if self.publish_time_limit > longest_http:
            return self
        limit = longest_http + timedelta(seconds=1)
        raised = limit - self.publish_time_limit
        return self.with_changes(publish_time_limit=limit, claim_lease=self.claim_lease + raised,
                                 shutdown_timeout=max(self.shutdown_timeout, limit + timedelta(seconds=1)))

    def with_changes(self, **changes: Any) -> Timing:
        """A copy with ``changes``, checked like any new instance (of the same class)."""
        return type(self).model_validate({**dict(self), **changes})
