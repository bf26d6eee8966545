"""Posting windows in the route's time zone across DST changes in both hemispheres, and the gap."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from syndicate.intake.schedule import local_instant, next_free, next_in_windows, window_bounds
from syndicate.model.config import Window

BERLIN = ZoneInfo("Europe/Berlin")    # 2026-03-29 02:00 CET → 03:00 CEST; 2026-10-25 03:00 CEST → 02:00 CET
SYDNEY = ZoneInfo("Australia/Sydney")  # 2026-04-05 03:00 AEDT → 02:00 AEST; 2026-10-04 02:00 AEST → 03:00 AEDT
EVERY_DAY = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def window(start: str, end: str, days: list[str] | None = None) -> Window:
    return Window.model_validate({"days": days or EVERY_DAY, "start": start, "end": end})


OFFICE = window("09:00", "17:00")


@pytest.mark.parametrize(("tz", "earliest", "expected"), [
    # Berlin, spring: 09:00 is 08:00 UTC on Saturday (CET) and 07:00 UTC on Sunday (CEST)
    (BERLIN, utc(2026, 3, 27, 18), utc(2026, 3, 28, 8)),
    (BERLIN, utc(2026, 3, 28, 18), utc(2026, 3, 29, 7)),
    # Berlin, autumn: 07:00 UTC on Saturday (CEST), 08:00 UTC on Sunday (CET)
    (BERLIN, utc(2026, 10, 23, 18), utc(2026, 10, 24, 7)),
    (BERLIN, utc(2026, 10, 24, 18), utc(2026, 10, 25, 8)),
    # Sydney, spring (October): 09:00 AEST is 23:00 UTC the day before, 09:00 AEDT is 22:00 UTC
    (SYDNEY, utc(2026, 10, 2, 10), utc(2026, 10, 2, 23)),
    (SYDNEY, utc(2026, 10, 3, 10), utc(2026, 10, 3, 22)),
    # Sydney, autumn (April): 09:00 AEDT is 22:00 UTC, 09:00 AEST is 23:00 UTC
    (SYDNEY, utc(2026, 4, 3, 10), utc(2026, 4, 3, 22)),
    (SYDNEY, utc(2026, 4, 4, 10), utc(2026, 4, 4, 23)),
])
def test_a_window_opens_at_the_same_local_time_on_both_sides_of_a_dst_change(
    tz: ZoneInfo, earliest: datetime, expected: datetime
) -> None:
    # Given a 09:00–17:00 window in the route's zone / When the next opening after an evening is asked
    got = next_in_windows(earliest, [OFFICE], tz)
    # Then it is 09:00 local, whatever the UTC offset that day
    assert got == expected
    assert got.astimezone(tz).time() == time(9, 0)


@pytest.mark.parametrize(("tz", "day", "opens_utc"), [
    (BERLIN, date(2026, 3, 29), utc(2026, 3, 29, 1)),   # 02:30 does not exist: 03:00 CEST = 01:00 UTC
    (SYDNEY, date(2026, 10, 4), utc(2026, 10, 3, 16)),  # 02:30 does not exist: 03:00 AEDT = 16:00 UTC
])
def test_a_window_starting_in_the_skipped_hour_opens_when_the_clocks_jump(
    tz: ZoneInfo, day: date, opens_utc: datetime
) -> None:
    # Given a window 02:30–05:00 on the night the clocks go forward from 02:00 to 03:00
    start, end = window_bounds(window("02:30", "05:00"), day, tz)  # type: ignore[misc]
    # Then it opens at the first instant after the gap (03:00 local), neither before nor half an hour late
    assert start == opens_utc
    assert start.astimezone(tz).time() == time(3, 0)
    assert end.astimezone(tz).time() == time(5, 0)
    # And a post asked for just before the jump waits for that instant
    assert next_in_windows(opens_utc - timedelta(minutes=30), [window("02:30", "05:00")], tz) == opens_utc


@pytest.mark.parametrize(("tz", "day", "first_0230", "end_0500"), [
    (BERLIN, date(2026, 10, 25), utc(2026, 10, 25, 0, 30), utc(2026, 10, 25, 4)),
    (SYDNEY, date(2026, 4, 5), utc(2026, 4, 4, 15, 30), utc(2026, 4, 4, 19)),
])
def test_a_window_starting_in_the_repeated_hour_opens_at_its_first_occurrence(
    tz: ZoneInfo, day: date, first_0230: datetime, end_0500: datetime
) -> None:
    # Given a window 02:30–05:00 on the night the clocks go back and 02:00–03:00 happens twice
    start, end = window_bounds(window("02:30", "05:00"), day, tz)  # type: ignore[misc]
    # Then it opens at the first 02:30 (summer time) and closes at 05:00 standard time: 3.5 hours
    assert (start, end) == (first_0230, end_0500)
    assert end - start == timedelta(hours=3, minutes=30)
    # And the second 02:30 (an hour later, standard time) is inside the window, not a second opening
    second = start + timedelta(hours=1)
    assert second.astimezone(tz).time() == time(2, 30) and second.astimezone(tz).fold == 1
    assert next_in_windows(second, [window("02:30", "05:00")], tz) == second


def test_a_window_past_midnight_belongs_to_the_day_it_opens() -> None:
    # Given a Friday window 22:00–02:00 in Berlin
    late = window("22:00", "02:00", ["fri"])
    # When a post is due at Saturday 01:00 local, Then it goes at once (Friday's window is still open)
    sat_0100 = datetime(2026, 6, 6, 1, 0, tzinfo=BERLIN)
    assert next_in_windows(sat_0100, [late], BERLIN) == sat_0100.astimezone(UTC)
    # When it is due at Saturday 03:00, Then it waits for next Friday 22:00
    sat_0300 = datetime(2026, 6, 6, 3, 0, tzinfo=BERLIN)
    assert next_in_windows(sat_0300, [late], BERLIN) == datetime(2026, 6, 12, 22, 0, tzinfo=BERLIN).astimezone(UTC)


def test_a_window_past_midnight_into_the_skipped_hour_ends_when_the_clocks_jump() -> None:
    # Given a Saturday window 22:00–02:00 in Berlin on the night 02:00 CET becomes 03:00 CEST
    start, end = window_bounds(window("22:00", "02:00", ["sat"]), date(2026, 3, 28), BERLIN)  # type: ignore[misc]
    # Then it runs from 22:00 CET to the jump: four real hours
    assert (start, end) == (utc(2026, 3, 28, 21), utc(2026, 3, 29, 1))


def test_a_window_past_midnight_over_the_repeated_hour_lasts_an_hour_longer() -> None:
    # Given a Saturday window 22:00–04:00 in Sydney on the night 03:00 AEDT becomes 02:00 AEST
    start, end = window_bounds(window("22:00", "04:00", ["sat"]), date(2026, 4, 4), SYDNEY)  # type: ignore[misc]
    # Then it lasts seven real hours (22:00 AEDT to 04:00 AEST)
    assert end - start == timedelta(hours=7)


def test_a_window_entirely_in_the_skipped_hour_does_not_open_that_day() -> None:
    # Given a window 02:00–02:45 and the night that hour does not exist in Berlin
    w = window("02:00", "02:45")
    # Then it does not open that night, and the next opening is the following night
    assert window_bounds(w, date(2026, 3, 29), BERLIN) is None
    got = next_in_windows(utc(2026, 3, 28, 23, 30), [w], BERLIN)
    assert got == datetime(2026, 3, 30, 2, 0, tzinfo=BERLIN).astimezone(UTC)


def test_local_instant_of_24_00_is_the_next_midnight() -> None:
    # Given 24:00 on the day Berlin springs forward / Then it is Monday 00:00 CEST
    assert local_instant(date(2026, 3, 29), None, BERLIN) == utc(2026, 3, 29, 22)


def test_weekdays_are_read_in_the_route_zone() -> None:
    # Given a Monday-only window in Sydney and a UTC Sunday afternoon that is already Monday there
    monday = window("06:00", "12:00", ["mon"])
    sunday_utc = utc(2026, 6, 7, 21)  # Monday 07:00 AEST
    # Then the post may go at once
    assert next_in_windows(sunday_utc, [monday], SYDNEY) == sunday_utc


def test_no_windows_means_any_time_and_naive_times_are_refused() -> None:
    t = utc(2026, 5, 5, 3, 17)
    assert next_in_windows(t, [], BERLIN) == t
    with pytest.raises(ValueError, match="aware"):
        next_in_windows(datetime(2026, 5, 5, 3, 17), [OFFICE], BERLIN)


def test_next_free_keeps_the_gap_from_every_taken_time_and_stays_in_windows() -> None:
    # Given posts on the account at 09:00 and 09:40 Berlin time, a 30-minute gap, a 09:00–17:00 window
    day = date(2026, 7, 1)
    taken = [datetime.combine(day, time(9, 0), tzinfo=BERLIN), datetime.combine(day, time(9, 40), tzinfo=BERLIN)]
    # When a post wants 09:00
    got = next_free(taken[0], [OFFICE], BERLIN, taken=taken, gap=timedelta(minutes=30))
    # Then it goes at 10:10, the first time 30 minutes clear of both
    assert got.astimezone(BERLIN).time() == time(10, 10)


def test_next_free_moves_to_the_next_window_when_the_gap_pushes_past_its_end() -> None:
    # Given a post at 16:45 and a one-hour gap / When another wants 16:30
    taken = [datetime(2026, 7, 1, 16, 45, tzinfo=BERLIN)]
    got = next_free(datetime(2026, 7, 1, 16, 30, tzinfo=BERLIN), [OFFICE], BERLIN, taken=taken,
                    gap=timedelta(hours=1))
    # Then it waits for the next morning's window
    assert got == datetime(2026, 7, 2, 9, 0, tzinfo=BERLIN).astimezone(UTC)


def test_next_free_takes_a_hole_between_taken_times_when_it_is_wide_enough() -> None:
    # Given posts at 10:00 and 12:00 and a one-hour gap / When another wants 10:30
    taken = [utc(2026, 7, 1, 10), utc(2026, 7, 1, 12)]
    # Then 11:00 is exactly one hour from both and is taken
    assert next_free(utc(2026, 7, 1, 10, 30), [], UTC, taken=taken, gap=timedelta(hours=1)) == utc(2026, 7, 1, 11)
