"""Per-account post caps kept in the ledger, for deployments without Redis.

The same sliding-window log as :class:`~syndicate.publishing.ratelimit.RedisRateLimiter`, one row
of ``rate_windows`` per (account, window length) holding the grant times (ms) still inside the
window. One grant is one transaction:

1. the account's window rows are created if missing (an ``INSERT`` that a lost race skips);
2. they are locked in a fixed order (``SELECT ... FOR UPDATE`` on PostgreSQL, ordered by window
   length so two grants never deadlock; SQLite's ``BEGIN IMMEDIATE`` already serializes writers);
3. the times older than each window are dropped; if any window is full, nothing is written and
   the time its oldest counted grant leaves is returned; else ``now`` is appended to every window.

So the check-and-take is atomic across every process sharing the ledger, as the Redis script is.
Times are the ledger clock's (the one that schedules publications), as with Redis.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, insert, select, update
from sqlalchemy.exc import IntegrityError

from .schema import rate_windows

if TYPE_CHECKING:
    from ..channels.contract import RateWindow

__all__ = ["LedgerRateLimiter"]


def _per_ms(w: RateWindow) -> int:
    return max(1, int(w.per.total_seconds() * 1000))


class LedgerRateLimiter:
    """Caps shared by every process through the ledger (see the module docstring).

    Args:
        ledger: the ledger (a :class:`~syndicate.ledger.Ledger`).
    """

    def __init__(self, ledger: Any) -> None:
        self.ledger = ledger

    def acquire(self, account: str, windows: Sequence[RateWindow], *, now: datetime) -> datetime | None:
        """Take one post under every window atomically: None when granted, else when a slot frees."""
        if not windows:
            return None
        now_ms = math.floor(now.timestamp() * 1000)
        caps: dict[int, int] = {}
        for w in windows:  # two caps of one length: the stricter counts
            per = _per_ms(w)
            caps[per] = min(caps.get(per, w.max_posts), w.max_posts)
        pers = sorted(caps)
        with self.ledger.begin() as conn:
            have = set(conn.execute(select(rate_windows.c.per_ms).where(and_(
                rate_windows.c.account == account, rate_windows.c.per_ms.in_(pers)))).scalars())
            for per in pers:
                if per in have:
                    continue
                try:
                    with conn.begin_nested():
                        conn.execute(insert(rate_windows).values(account=account, per_ms=per, grants=[]))
                except IntegrityError:  # another grant created it first
                    pass
            rows = conn.execute(select(rate_windows.c.per_ms, rate_windows.c.grants).where(and_(
                rate_windows.c.account == account, rate_windows.c.per_ms.in_(pers)))
                .order_by(rate_windows.c.per_ms).with_for_update()).all()
            logs = {int(r.per_ms): sorted(int(t) for t in r.grants if int(t) > now_ms - int(r.per_ms)) for r in rows}
            free_at = 0
            for per, log in logs.items():
                if len(log) >= caps[per]:
                    free_at = max(free_at, log[len(log) - caps[per]] + per)
            if free_at:
                return datetime.fromtimestamp(free_at / 1000, UTC)
            for per, log in logs.items():
                conn.execute(update(rate_windows).where(and_(
                    rate_windows.c.account == account, rate_windows.c.per_ms == per)).values(grants=[*log, now_ms]))
        return None
