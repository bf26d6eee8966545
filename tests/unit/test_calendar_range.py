"""The calendar's days: ``--from``/``--to`` parsing, defaults, limits, and the UTC span read from the ledger."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from syndicate.errors import InvalidFilter
from syndicate.operations.calendar import DEFAULT_DAYS, MAX_DAYS, CalendarRange, calendar_range, parse_day

TODAY = date(2026, 12, 7)


def test_without_dates_the_calendar_shows_today_and_the_next_two_weeks() -> None:
    span = calendar_range(None, None, TODAY)
    assert (span.first, span.last) == (TODAY, TODAY + timedelta(days=DEFAULT_DAYS))
    assert calendar_range("2026-12-20", None, TODAY).last == date(2027, 1, 3)


@pytest.mark.parametrize(("given", "expected"), [
    ("2026-12-24", date(2026, 12, 24)), ("today", TODAY), ("Today", TODAY), ("+7", date(2026, 12, 14)),
    ("-1", date(2026, 12, 6)), (" 2027-01-02 ", date(2027, 1, 2)),
])
def test_a_day_is_a_date_today_or_days_from_today(given: str, expected: date) -> None:
    assert parse_day(given, "--from", TODAY) == expected


@pytest.mark.parametrize("given", ["2026-13-01", "2026-02-30", "07/12/2026", "20261207", "tomorrow", "+x", "",
                                   "2026-12-07T10:00", "0001-01-01", "9999-12-31", "+99999999999", "-3000000"])
def test_a_bad_day_is_refused_naming_the_option_and_the_value(given: str) -> None:
    with pytest.raises(InvalidFilter) as exc:
        parse_day(given, "--to", TODAY)
    assert str(exc.value).startswith(f"invalid --to {given!r}: ")
    assert "YYYY-MM-DD" in str(exc.value)


def test_an_end_before_the_start_or_a_range_over_a_year_is_refused() -> None:
    with pytest.raises(InvalidFilter, match=r"--to 2026-12-06 is before --from 2026-12-07"):
        calendar_range("2026-12-07", "2026-12-06", TODAY)
    with pytest.raises(InvalidFilter, match=rf"is {MAX_DAYS + 1} days; a calendar shows at most {MAX_DAYS}"):
        calendar_range("2026-01-01", "2027-01-02", TODAY)
    assert calendar_range("2026-01-01", "2027-01-01", TODAY).days == MAX_DAYS


@pytest.mark.parametrize("zone", ["Pacific/Kiritimati", "Etc/GMT+12", "Asia/Kathmandu", "America/St_Johns", "UTC"])
def test_the_utc_span_holds_every_local_day_of_the_range_in_any_zone(zone: str) -> None:
    # Given a range of local days and a zone as far east or west as there are
    span = CalendarRange(date(2026, 12, 7), date(2026, 12, 9))
    start, end = span.utc_bounds()
    tz = ZoneInfo(zone)
    # Then the first instant of the first day and the last of the last day are inside the UTC span
    assert start <= datetime.combine(span.first, time(0), tz)
    assert datetime.combine(span.last, time(23, 59, 59, 999999), tz) < end
