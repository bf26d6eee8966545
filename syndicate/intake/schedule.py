"""When a publication may go out: posting windows in the route's time zone, and the minimum gap.

Windows are local wall-clock times in the route's IANA zone (``zoneinfo``), so 09:00–17:00 stays
09:00–17:00 local across DST changes. Two wall-clock times need a rule:

* a time that does not exist that day (it falls in the hour skipped when clocks go forward)
  means the first instant after the gap: a window opening at 02:30 on the night clocks jump from
  02:00 to 03:00 opens at 03:00;
* a time that happens twice (the hour repeated when clocks go back) means its first occurrence.

A window whose end is not after its start runs past midnight into the next day; ``24:00`` is the
end of the day. Every function takes and returns aware datetimes; results are in UTC.

Planning uses these rules to store each publication's time; the publish step checks the last ones
again right before a claim (expiry, and never before the planned time).
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from ..model.config import WEEKDAYS, Window

__all__ = ["local_instant", "next_free", "next_in_windows", "window_bounds"]

#: How far ahead :func:`next_in_windows` looks for an open window.
SEARCH_DAYS = 8
#: Upper bound of gap-resolution steps in :func:`next_free` (each step moves past one clash).
MAX_GAP_STEPS = 10_000


def _exists(local: datetime) -> bool:
    back = local.astimezone(UTC).astimezone(local.tzinfo)
    return back.replace(tzinfo=None, fold=0) == local.replace(tzinfo=None, fold=0)


def local_instant(day: date, t: time | None, tz: tzinfo) -> datetime:
    """The UTC instant of wall-clock time ``t`` on ``day`` in ``tz`` (``None`` means 24:00).

    A time in a skipped hour gives the first instant after the skip; a repeated time gives its
    first occurrence.
    """
    if t is None:
        day, t = day + timedelta(days=1), time(0, 0)
    local = datetime.combine(day, t, tzinfo=tz)  # fold=0: the first occurrence of a repeated time
    if _exists(local):
        return local.astimezone(UTC)
    # In a gap. fold=1 reads it with the offset after the change (an instant before the change),
    # fold=0 with the offset before (an instant after it): the change lies between; find it.
    lo = local.replace(fold=1).astimezone(UTC)
    hi = local.replace(fold=0).astimezone(UTC)
    after = hi.astimezone(tz).utcoffset()
    while hi - lo > timedelta(seconds=1):
        mid = lo + (hi - lo) / 2
        if mid.astimezone(tz).utcoffset() == after:
            hi = mid
        else:
            lo = mid
    return hi.replace(microsecond=0)  # changes fall on whole seconds; hi is within 1 s after it


def _minutes(t: time | None) -> int:
    return 24 * 60 if t is None else t.hour * 60 + t.minute


def window_bounds(window: Window, day: date, tz: tzinfo) -> tuple[datetime, datetime] | None:
    """The UTC start and end of ``window`` opening on local ``day``, or None if it does not open then."""
    if WEEKDAYS[day.weekday()] not in window.days:
        return None
    start = local_instant(day, window.start, tz)
    end = local_instant(day, window.end, tz)
    if _minutes(window.end) <= _minutes(window.start):  # runs past midnight (wall clock)
        end = local_instant(day + timedelta(days=1), window.end, tz)
    if end <= start:  # e.g. 02:00–02:30 on the night that hour is skipped
        return None
    return start, end


def next_in_windows(earliest: datetime, windows: Sequence[Window], tz: tzinfo) -> datetime:
    """The first instant at or after ``earliest`` that lies in one of ``windows`` (any time if none).

    Args:
        earliest: aware datetime.
        windows: the route's posting windows.
        tz: the route's time zone, in which the windows' days and hours are read.

    Raises:
        ValueError: ``earliest`` is naive, or no window opens within :data:`SEARCH_DAYS` days.
    """
    if earliest.tzinfo is None or earliest.utcoffset() is None:
        raise ValueError("earliest must be aware")
    at = earliest.astimezone(UTC)
    if not windows:
        return at
    local_day = at.astimezone(tz).date()
    best: datetime | None = None
    for offset in range(-1, SEARCH_DAYS + 1):  # -1: a window opened yesterday may run past midnight
        day = local_day + timedelta(days=offset)
        for w in windows:
            bounds = window_bounds(w, day, tz)
            if bounds is None or bounds[1] <= at:
                continue
            candidate = max(bounds[0], at)
            if best is None or candidate < best:
                best = candidate
        if best is not None and best == at:
            break
    if best is None:
        raise ValueError(f"no posting window opens within {SEARCH_DAYS} days of {at.isoformat()}")
    return best


def next_free(earliest: datetime, windows: Sequence[Window], tz: tzinfo, *, taken: Sequence[datetime] = (),
              gap: timedelta | None = None) -> datetime:
    """The first instant at or after ``earliest`` in a window and at least ``gap`` from every ``taken`` time.

    Args:
        earliest: aware datetime.
        windows: the route's posting windows (none: any time).
        tz: the route's time zone.
        taken: times of other posts on the same account (any order).
        gap: the minimum gap between two posts on the account; None or zero: no gap.
    """
    t = next_in_windows(earliest, windows, tz)
    if not gap or not taken:
        return t
    times = sorted(x.astimezone(UTC) for x in taken)
    for _ in range(MAX_GAP_STEPS):
        # every taken time x with |t - x| < gap clashes; the latest one decides where to try next
        i = bisect.bisect_left(times, t + gap)
        clash = times[i - 1] if i > 0 and times[i - 1] > t - gap else None
        if clash is None:
            return t
        t = next_in_windows(clash + gap, windows, tz)
    raise ValueError("cannot find a time that keeps the minimum gap")
