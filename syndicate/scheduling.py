"""When a publication goes out: posting windows in the route's time zone.

All arithmetic is done on aware datetimes: local wall-clock times are built in the route's IANA
zone (``zoneinfo``), so a window of 09:00–17:00 stays 09:00–17:00 local across DST changes.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from .config import WEEKDAYS, Window

__all__ = ["next_in_windows", "window_bounds"]


def _local(d: date, t: time | None, tz: ZoneInfo) -> datetime:
    if t is None:  # 24:00 = start of the next day
        return datetime.combine(d + timedelta(days=1), time(0, 0), tzinfo=tz)
    return datetime.combine(d, t, tzinfo=tz)


def window_bounds(window: Window, day: date, tz: ZoneInfo) -> tuple[datetime, datetime] | None:
    """The UTC start and end of ``window`` opening on local ``day``, or None if it does not open then."""
    if WEEKDAYS[day.weekday()] not in window.days:
        return None
    start = _local(day, window.start, tz)
    end = _local(day, window.end, tz)
    if end <= start:  # runs past midnight
        end = _local(day + timedelta(days=1), window.end, tz)
    return start.astimezone(UTC), end.astimezone(UTC)


def next_in_windows(earliest: datetime, windows: Sequence[Window], tz: ZoneInfo) -> datetime:
    """The first instant at or after ``earliest`` that lies in one of ``windows`` (all times if none).

    Args:
        earliest: aware datetime.
        windows: the route's posting windows.
        tz: the route's time zone, in which the windows' days and hours are read.
    """
    if earliest.tzinfo is None:
        raise ValueError("earliest must be aware")
    if not windows:
        return earliest
    local_day = earliest.astimezone(tz).date()
    best: datetime | None = None
    for offset in range(-1, 9):
        day = local_day + timedelta(days=offset)
        for w in windows:
            bounds = window_bounds(w, day, tz)
            if bounds is None:
                continue
            start, end = bounds
            if end <= earliest:
                continue
            candidate = max(start, earliest.astimezone(UTC))
            if best is None or candidate < best:
                best = candidate
        if best is not None and best <= _local(day + timedelta(days=1), time(0), tz).astimezone(UTC):
            return best
    if best is None:
        raise ValueError("no posting window opens within a week")
    return best
