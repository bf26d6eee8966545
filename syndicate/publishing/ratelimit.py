"""Per-account post caps, shared by every worker process.

An account's caps come from ``accounts.yaml`` (``rate_limits``) over its adapter's defaults
(``Limits.rate_windows``): a configured cap replaces the adapter's cap of the same duration, and
the adapter's other caps stay. Each cap is a sliding window ("at most 100 posts in any 15
minutes"), kept as a log of grant times:

* with Redis, one sorted set per (account, window) under the runtime's namespace, checked and
  updated by one Lua script, so the check-and-take is atomic across every process;
* with a broker but no Redis (RabbitMQ), one ledger row per (account, window), locked and updated
  in one transaction (:class:`syndicate.ledger.ratewindows.LedgerRateLimiter`);
* in embedded mode, the same log in this process's memory.

``Runtime.rate_limiter`` picks one.

A request over a cap is not granted and is told when the window frees; the pipeline turns that
into :class:`~syndicate.errors.RateLimited`, which reschedules the publication to that time
without counting a failed attempt. Nothing ever sleeps in a worker thread.

Times are the ledger clock's (the same clock that schedules publications); hosts sharing one Redis
must keep their clocks in sync (NTP), as they must for scheduling anyway.
"""

from __future__ import annotations

import math
import threading
import uuid
from collections import deque
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from ..channels.contract import RateWindow
from ..errors import RateLimited

if TYPE_CHECKING:
    from ..channels.contract import Limits
    from ..model.config import Account, RateLimit

__all__ = ["LocalRateLimiter", "RateLimiter", "RedisRateLimiter", "check_rate", "limiter_for", "merge_windows",
           "windows_for"]

# KEYS: one sorted set per window. ARGV: now_ms, member, then (max_posts, per_ms) per window.
# Returns 0 when granted (the member is added to every window), else the ms time a slot frees.
_ACQUIRE = """
local now = tonumber(ARGV[1])
local member = ARGV[2]
local free_at = 0
for i, key in ipairs(KEYS) do
  local max = tonumber(ARGV[1 + 2 * i])
  local per = tonumber(ARGV[2 + 2 * i])
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - per)
  local count = redis.call('ZCARD', key)
  if count >= max then
    local oldest = redis.call('ZRANGE', key, count - max, count - max, 'WITHSCORES')
    local at = tonumber(oldest[2]) + per
    if at > free_at then free_at = at end
  end
end
if free_at > 0 then return free_at end
for i, key in ipairs(KEYS) do
  redis.call('ZADD', key, now, member)
  redis.call('PEXPIRE', key, tonumber(ARGV[2 + 2 * i]))
end
return 0
"""


def _ms(d: datetime) -> int:
    return math.floor(d.timestamp() * 1000)


def _from_ms(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


def _per_ms(w: RateWindow) -> int:
    return max(1, int(w.per.total_seconds() * 1000))


class RateLimiter(Protocol):
    """Grants posts on an account under its caps."""

    def acquire(self, account: str, windows: Sequence[RateWindow], *, now: datetime) -> datetime | None:
        """Take one post under every window: None when granted, else when a slot frees."""
        ...


class RedisRateLimiter:
    """Caps shared by every process through Redis (see the module docstring).

    Args:
        client: a ``redis.Redis`` client.
        namespace: key prefix (the runtime's Redis namespace).
    """

    def __init__(self, client: Any, namespace: str) -> None:
        self.client = client
        self.namespace = namespace
        self._script = client.register_script(_ACQUIRE)

    def key(self, account: str, window: RateWindow) -> str:
        """The sorted set of one account's window."""
        return f"{self.namespace}:ratelimit:{account}:{_per_ms(window)}ms"

    def acquire(self, account: str, windows: Sequence[RateWindow], *, now: datetime) -> datetime | None:
        """Take one post under every window atomically: None when granted, else when a slot frees."""
        if not windows:
            return None
        args: list[Any] = [_ms(now), f"{_ms(now)}:{uuid.uuid4().hex}"]
        for w in windows:
            args += [w.max_posts, _per_ms(w)]
        free_at = int(self._script(keys=[self.key(account, w) for w in windows], args=args))
        return None if free_at == 0 else _from_ms(free_at)


class LocalRateLimiter:
    """The same sliding-window log in this process's memory (embedded mode)."""

    def __init__(self) -> None:
        self._logs: dict[tuple[str, int], deque[int]] = {}
        self._lock = threading.Lock()

    def acquire(self, account: str, windows: Sequence[RateWindow], *, now: datetime) -> datetime | None:
        """Take one post under every window: None when granted, else when a slot frees."""
        now_ms = _ms(now)
        with self._lock:
            free_at = 0
            logs = []
            for w in windows:
                per = _per_ms(w)
                log = self._logs.setdefault((account, per), deque())
                while log and log[0] <= now_ms - per:
                    log.popleft()
                if len(log) >= w.max_posts:
                    free_at = max(free_at, log[len(log) - w.max_posts] + per)
                logs.append(log)
            if free_at:
                return _from_ms(free_at)
            for log in logs:
                log.append(now_ms)  # grants come in clock order per process, so the log stays sorted
            return None


_local: dict[str, LocalRateLimiter] = {}
_local_guard = threading.Lock()


def limiter_for(redis: Any, namespace: str, ledger_url: str) -> RateLimiter:
    """Shared through Redis (``redis``, a client, under ``namespace``) when there is one, else one
    limiter per ledger in this process."""
    if redis is not None:
        return RedisRateLimiter(redis, namespace)
    with _local_guard:
        return _local.setdefault(ledger_url, LocalRateLimiter())


def merge_windows(configured: Sequence[RateLimit], defaults: Sequence[RateWindow]) -> tuple[RateWindow, ...]:
    """An account's caps: each configured cap replaces the adapter's cap of the same duration."""
    by_duration: dict[timedelta, RateWindow] = {w.per: w for w in defaults}
    for rl in configured:
        by_duration[rl.per] = RateWindow(rl.max_posts, rl.per)
    return tuple(sorted(by_duration.values(), key=lambda w: w.per))


def windows_for(account: Account | None, limits: Limits) -> tuple[RateWindow, ...]:
    """The caps of ``account``: its configured ``rate_limits`` over the adapter's defaults."""
    return merge_windows(account.rate_limits if account is not None else (), limits.rate_windows)


def _human(d: timedelta) -> str:
    s = int(d.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if s % size == 0 and s >= size:
            return f"{s // size}{unit}"
    return f"{s}s"


def check_rate(limiter: RateLimiter, account: str, windows: Sequence[RateWindow], *, now: datetime) -> None:
    """Take one post on ``account`` under its caps ``windows``, or raise :class:`RateLimited` with
    when a slot frees.

    Called by the publish step right before the adapter's call, after the claim.
    """
    if not windows:
        return
    until = limiter.acquire(account, windows, now=now)
    if until is not None:
        until = max(until, now)
        caps = ", ".join(f"{w.max_posts} per {_human(w.per)}" for w in windows)
        raise RateLimited(f"account {account} is at its post cap ({caps}); next slot at {until.isoformat()}",
                          until=until)
