"""One reading of "when may we call again" for the whole project: ``Retry-After`` (seconds or an
HTTP date, as a time or a delay, with an optional cap) and rate-limit windows' reset headers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from requests.structures import CaseInsensitiveDict

from syndicate.channels.http import rate_limit_reset, retry_after, retry_delay

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
X_WINDOWS = ("x-rate-limit", "x-user-limit-24hour", "x-app-limit-24hour")


def test_a_delay_in_seconds_counts_from_when_the_answer_arrived() -> None:
    assert retry_after(" 120 ", now=NOW) == NOW + timedelta(seconds=120)
    assert retry_delay("0", now=NOW) == timedelta(0)


def test_an_http_date_in_the_past_is_a_delay_of_nothing_not_a_negative_one() -> None:
    # Given a date a minute before the answer arrived
    value = "Mon, 23 Nov 2026 11:59:00 GMT"
    # Then the time is that date, and the delay is zero
    assert retry_after(value, now=NOW) == NOW - timedelta(minutes=1)
    assert retry_delay(value, now=NOW) == timedelta(0)


def test_digits_other_than_ascii_are_not_a_delay() -> None:
    # Given full-width and Arabic-Indic digits, which int() would read / Then neither is a usable answer
    assert retry_after("１２０", now=NOW) is None
    assert retry_after("١٢٠", now=NOW) is None


def test_a_delay_too_long_to_mean_anything_is_no_answer_and_never_an_overflow() -> None:
    # Given delays of ten digits and of 5,000 (more than int() reads from a string by default)
    for value in ("9999999999", "9" * 5000):
        # Then no time is given, or the cap when the caller has one
        assert retry_after(value, now=NOW) is None
        assert retry_after(value, now=NOW, longest=timedelta(days=1)) == NOW + timedelta(days=1)


def test_a_cap_brings_a_later_time_back_and_leaves_an_earlier_one() -> None:
    day = timedelta(days=1)
    assert retry_delay("172800", now=NOW, longest=day) == day
    assert retry_delay("Wed, 25 Nov 2026 12:00:00 GMT", now=NOW, longest=day) == day
    assert retry_delay("60", now=NOW, longest=day) == timedelta(seconds=60)


def test_anything_else_is_no_answer() -> None:
    for value in (None, "", "  ", "soon", "-5", "1.5", "Mon, 99 Nov 2026 99:00:00 GMT"):
        assert retry_after(value, now=NOW) is None, value
        assert retry_delay(value, now=NOW) is None, value


def test_a_spent_24_hour_window_outlasts_the_15_minute_one() -> None:
    # Given X's answer: the 15-minute window has room, the user's 24-hour window is spent
    headers = CaseInsensitiveDict({"x-rate-limit-remaining": "50", "x-rate-limit-reset": "1795000000",
                                   "X-User-Limit-24hour-Remaining": "0", "x-user-limit-24hour-reset": "1795050000"})
    # Then we may call again when the spent window resets
    assert rate_limit_reset(headers, X_WINDOWS) == datetime.fromtimestamp(1795050000, UTC)


def test_without_a_window_said_to_be_spent_the_main_windows_reset_counts() -> None:
    # Given a reset without a remaining count, and a 24-hour window with room left
    headers = {"x-rate-limit-reset": "1795000000", "x-app-limit-24hour-remaining": "3",
               "x-app-limit-24hour-reset": "1795090000"}
    # Then the main window's reset counts
    assert rate_limit_reset(headers, X_WINDOWS) == datetime.fromtimestamp(1795000000, UTC)


def test_unreadable_or_missing_resets_say_nothing() -> None:
    assert rate_limit_reset({}, X_WINDOWS) is None
    assert rate_limit_reset({"x-rate-limit-reset": "tomorrow", "x-rate-limit-remaining": "0"}, X_WINDOWS) is None
    assert rate_limit_reset({"x-rate-limit-reset": "9" * 40, "x-rate-limit-remaining": "0"}, X_WINDOWS) is None
