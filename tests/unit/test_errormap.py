"""The one mapping of an answer's status to our errors: the shared table, and each platform's
differences given as data."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import BaseModel

from syndicate.channels import Outcome, StatusMap
from syndicate.errors import (
    AuthError,
    ChannelError,
    EndpointGone,
    InDoubt,
    PermanentError,
    RateLimited,
    TransientError,
)

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
PLAIN = StatusMap(platform="Board")


@pytest.mark.parametrize(("status", "creates", "expected"), [
    (401, True, AuthError), (403, False, AuthError),
    (400, True, PermanentError), (404, False, PermanentError), (408, True, PermanentError), (422, True, PermanentError),
    (301, True, PermanentError), (200, False, PermanentError),
    (200, True, InDoubt), (204, True, InDoubt),  # a success, but not the one a create answers
    (500, True, InDoubt), (500, False, TransientError), (599, True, InDoubt),
    (502, True, TransientError), (503, True, TransientError), (504, True, TransientError),
    (429, True, RateLimited), (429, False, RateLimited),
])
def test_the_shared_table_gives_each_status_its_error(status: int, creates: bool, expected: type[ChannelError]) -> None:
    # Given an answer with no headers / When mapped for a create or a read / Then the error is the table's
    err = PLAIN.error(status, {}, creates=creates, what="the note", now=NOW)
    assert type(err) is expected, f"{status} {'create' if creates else 'read'}: {type(err).__name__}"
    assert err.status == status


def test_the_error_keeps_the_status_and_the_platforms_words() -> None:
    err = PLAIN.error(422, {}, creates=True, what="the note", platform_message="text is too long", now=NOW)
    assert str(err) == "Board refused the request (the note) (HTTP 422): text is too long"
    assert err.platform_message == "text is too long"


def test_a_429_waits_until_retry_after_else_the_callers_time_else_the_default() -> None:
    # Given 429s with seconds, without a header but a caller's time, and with nothing at all
    said = PLAIN.error(429, {"Retry-After": "120"}, creates=True, what="the note", now=NOW)
    callers = PLAIN.error(429, {}, creates=True, what="the note", wait_until=NOW + timedelta(hours=3), now=NOW)
    default = StatusMap(platform="Board", default_wait=timedelta(minutes=5)).error(429, {}, creates=True,
                                                                                  what="the note", now=NOW)
    # Then each waits until the best thing it was told
    assert isinstance(said, RateLimited) and said.until == NOW + timedelta(seconds=120)
    assert isinstance(callers, RateLimited) and callers.until == NOW + timedelta(hours=3)
    assert isinstance(default, RateLimited) and default.until == NOW + timedelta(minutes=5)


def test_a_503_that_says_until_when_is_a_wait_and_never_one_in_the_past() -> None:
    # Given a 503 asking for two minutes, and one whose date has passed
    later = PLAIN.error(503, {"Retry-After": "120"}, creates=True, what="the note", now=NOW)
    passed = PLAIN.error(503, {"Retry-After": "Mon, 23 Nov 2026 11:00:00 GMT"}, creates=True, what="the note",
                         now=NOW)
    # Then both defer, the second at once; no attempt is burnt on maintenance
    assert isinstance(later, RateLimited) and later.until == NOW + timedelta(seconds=120)
    assert isinstance(passed, RateLimited) and passed.until == NOW
    assert "come back later" in str(later)


def test_a_platforms_reset_headers_come_before_its_retry_after() -> None:
    # Given a platform that reports rate-limit windows, and a 429 with both kinds of header
    x = StatusMap(platform="X", reset_windows=("x-rate-limit",))
    reset = int((NOW + timedelta(minutes=9)).timestamp())
    err = x.error(429, {"x-rate-limit-remaining": "0", "x-rate-limit-reset": str(reset), "Retry-After": "5"},
                  creates=True, what="create post", now=NOW)
    # Then the window's reset decides
    assert isinstance(err, RateLimited) and err.until == NOW + timedelta(minutes=9)


def test_a_platform_gives_statuses_other_meanings_as_data() -> None:
    # Given a receiver whose 410 means "gone for good", a 408 that may have been handled, and a 403
    # that is a refusal rather than a credential problem
    hooks = StatusMap(platform="the endpoint", statuses={408: Outcome.MAYBE, 410: Outcome.GONE, 403: Outcome.REFUSED})
    # Then those statuses map otherwise, and the rest as the shared table says
    assert isinstance(hooks.error(410, {}, creates=True, what="the message", now=NOW), EndpointGone)
    assert isinstance(hooks.error(408, {}, creates=True, what="the message", now=NOW), InDoubt)
    assert isinstance(hooks.error(408, {}, creates=False, what="the status", now=NOW), TransientError)
    assert type(hooks.error(403, {}, creates=True, what="the message", now=NOW)) is PermanentError
    assert isinstance(hooks.error(401, {}, creates=True, what="the message", now=NOW), AuthError)


class _Options(BaseModel):
    linkedin_version: str = "202401"


def test_a_platforms_message_may_name_the_account_an_option_or_a_redirects_target() -> None:
    # Given message templates that use the account, an option and the Location header
    words = StatusMap(platform="LinkedIn", statuses={426: Outcome.REFUSED}, messages={
        426: "LinkedIn no longer serves {options.linkedin_version} for account {account!r}",
        302: "{platform} redirects to {location}"})
    # When mapped / Then the messages say them
    retired = words.error(426, {}, creates=True, what="the post", account="li", options=_Options(), now=NOW)
    moved = words.error(302, {"Location": "https://elsewhere.example/"}, creates=True, what="the post", now=NOW)
    assert str(retired).startswith("LinkedIn no longer serves 202401 for account 'li' (HTTP 426)")
    assert str(moved).startswith("LinkedIn redirects to https://elsewhere.example/ (HTTP 302)")
