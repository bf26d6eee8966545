"""The one mapping, for every HTTP adapter, from what went wrong with a request to our error types.

Two questions decide, and the pipeline acts on the answer's type alone (docs/writing-an-adapter.md):

* **How far did the request get?** :func:`request_error` maps a ``requests`` exception by its
  phase: nothing sent (refused, DNS, connect timeout, proxy; :func:`~.http.nothing_sent`) is a
  :class:`~syndicate.errors.TransientError`, since a retry cannot duplicate anything; anything
  later (a read timeout, a reset, a deadline) may have created the post, so a create is
  :class:`~syndicate.errors.InDoubt` and a read is transient.
* **What did the platform answer?** :class:`StatusMap` maps an HTTP status through one table
  (:data:`STATUSES`, then :data:`CLASSES` by the status's hundred) to an :class:`Outcome`, and the
  outcome to an error with the platform's words attached.

Platforms differ in data only: a :class:`StatusMap` names the platform, the statuses it gives
another meaning (LinkedIn's 426, X's 403, a webhook's 410), the words of some messages and the
rate-limit headers it sends. The X adapter, which talks through tweepy, hands the exceptions and
answers tweepy gives it to the same two functions.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from ..errors import AuthError, ChannelError, EndpointGone, InDoubt, PermanentError, RateLimited, TransientError
from .http import nothing_sent, rate_limit_reset, retry_after

__all__ = ["CLASSES", "STATUSES", "Outcome", "StatusMap", "request_error"]


class Outcome(StrEnum):
    """What an answer means for the publication, whatever the platform."""

    #: Credentials missing, expired or refused: :class:`~syndicate.errors.AuthError`.
    AUTH = "auth"
    #: The endpoint is gone for good: :class:`~syndicate.errors.EndpointGone`.
    GONE = "gone"
    #: Refused for good: :class:`~syndicate.errors.PermanentError`.
    REFUSED = "refused"
    #: Asked to wait: :class:`~syndicate.errors.RateLimited` until the answer says (its rate-limit
    #: reset headers or ``Retry-After``), else the caller's default.
    WAIT = "wait"
    #: Down for now: :class:`~syndicate.errors.RateLimited` when ``Retry-After`` says until when,
    #: :class:`~syndicate.errors.TransientError` otherwise.
    UNAVAILABLE = "unavailable"
    #: Not done, nothing made: :class:`~syndicate.errors.TransientError`.
    RETRY = "retry"
    #: Failed while handling it: :class:`~syndicate.errors.InDoubt` for a create (the post may
    #: exist), :class:`~syndicate.errors.TransientError` for anything else.
    MAYBE = "maybe"


#: What a status means on every platform unless its :class:`StatusMap` says otherwise.
STATUSES: Mapping[int, Outcome] = {
    401: Outcome.AUTH,
    403: Outcome.AUTH,
    429: Outcome.WAIT,
    502: Outcome.RETRY,  # a gateway that could not reach the platform
    503: Outcome.UNAVAILABLE,
    504: Outcome.RETRY,
}
#: What a status that no table names means, by its hundred (a 1xx, 2xx or 3xx reaching the mapping
#: is not the answer asked for: redirects are never followed).
CLASSES: Mapping[int, Outcome] = {1: Outcome.REFUSED, 2: Outcome.REFUSED, 3: Outcome.REFUSED,
                                  4: Outcome.REFUSED, 5: Outcome.MAYBE}

#: Message templates by outcome; fields: ``platform``, ``what``, ``account``, ``status``,
#: ``location`` (a redirect's target) and whatever the caller adds.
_MESSAGES: Mapping[Outcome, str] = {
    Outcome.AUTH: "{platform} refused the account's credentials ({what})",
    Outcome.GONE: "{platform} is gone for good ({what}); the account is disabled",
    Outcome.REFUSED: "{platform} refused the request ({what})",
    Outcome.WAIT: "{platform} rate limit reached ({what})",
    Outcome.UNAVAILABLE: "{platform} is unavailable ({what})",
    Outcome.RETRY: "{platform} is unavailable ({what})",
    Outcome.MAYBE: "{platform} answered with a server error ({what})",
}


@dataclass(frozen=True)
class StatusMap:
    """How one platform's HTTP statuses map to our errors: the shared table plus its differences.

    Attributes:
        platform: how the platform is named in messages (``LinkedIn``).
        statuses: statuses this platform means otherwise than :data:`STATUSES` says.
        messages: message templates for some statuses, instead of the outcome's (fields as above).
        reset_windows: rate-limit windows the platform reports in ``{window}-remaining`` and
            ``{window}-reset`` headers (X: ``x-rate-limit``), read before ``Retry-After``.
        default_wait: how long to wait after a 429 that says not until when.
    """

    platform: str
    statuses: Mapping[int, Outcome] = field(default_factory=dict)
    messages: Mapping[int, str] = field(default_factory=dict)
    reset_windows: tuple[str, ...] = ()
    default_wait: timedelta = timedelta(minutes=1)

    def outcome(self, status: int) -> Outcome:
        """What ``status`` means on this platform."""
        found = self.statuses.get(status) or STATUSES.get(status)
        return found or CLASSES.get(status // 100, Outcome.REFUSED)

    def error(self, status: int, headers: Mapping[str, str], *, creates: bool, what: str, account: str = "",
              platform_message: str | None = None, wait_until: datetime | None = None, now: datetime | None = None,
              **fields: Any) -> ChannelError:
        """The error for an answer with ``status`` that is not the one asked for.

        Args:
            status: the answer's status.
            headers: its headers (``Retry-After``, rate-limit resets, ``Location``).
            creates: whether the request creates something (a post): then a success other than
                the expected one, or a server error, may have made it.
            what: what was asked, for the message (``the post``, ``create part 2 of 3``).
            account: the account id, for the message.
            platform_message: the platform's own words (already redacted and cut short).
            wait_until: when to come back after a 429 that says not (default: now + ``default_wait``).
            now: the time the answer arrived (default: now).
            fields: more fields for this platform's message templates.
        """
        moment = now or datetime.now(UTC)
        if creates and 200 <= status < 300:
            return InDoubt(f"{self.platform} answered {status} to {what}, not the status of a create; "
                           "the post may exist", status=status)
        outcome = self.outcome(status)
        template = self.messages.get(status) or _MESSAGES[outcome]
        message = template.format(platform=self.platform, what=what, account=account, status=status,
                                  location=headers.get("Location") or "?", **fields)
        if outcome is Outcome.WAIT:
            until = (rate_limit_reset(headers, self.reset_windows) if self.reset_windows else None) \
                or retry_after(headers.get("Retry-After"), now=moment) \
                or wait_until or moment + self.default_wait
            return RateLimited(message, until=max(until, moment), status=status, platform_message=platform_message)
        if outcome is Outcome.UNAVAILABLE:
            back = retry_after(headers.get("Retry-After"), now=moment)
            if back is not None:  # down for maintenance and says until when: wait, without burning an attempt
                return RateLimited(f"{message} and asked us to come back later", until=max(back, moment),
                                   status=status, platform_message=platform_message)
            outcome = Outcome.RETRY
        if outcome is Outcome.MAYBE:
            if creates:
                return InDoubt(f"{message}; the post may exist", status=status, platform_message=platform_message)
            outcome = Outcome.RETRY
        return _ERRORS[outcome](message, status=status, platform_message=platform_message)


#: The error of each outcome that maps to one type whatever the request.
_ERRORS: Mapping[Outcome, type[ChannelError]] = {
    Outcome.AUTH: AuthError,
    Outcome.GONE: EndpointGone,
    Outcome.REFUSED: PermanentError,
    Outcome.RETRY: TransientError,
}


def request_error(exc: BaseException, *, platform: str, what: str, creates: bool) -> ChannelError:
    """The error for a request that raised ``exc`` (a ``requests`` exception) before any answer.

    Nothing sent: :class:`~syndicate.errors.TransientError`. Sent, then no usable answer: the
    platform may have acted, so :class:`~syndicate.errors.InDoubt` for a create and
    :class:`~syndicate.errors.TransientError` for anything else. The message names the exception
    and the system's reason, never the URL or headers (they may carry credentials).
    """
    reason = _reason(exc)
    if nothing_sent(exc):
        return TransientError(f"cannot reach {platform} ({what}): cannot connect, nothing was sent: {reason}")
    message = f"the request was sent to {platform} but no answer came back ({what}): {reason}"
    if creates:
        return InDoubt(f"{message}; the post may exist")
    return TransientError(message)


def _reason(exc: BaseException) -> str:
    """``exc``'s type, and the operating system's words for the failure under it, if any."""
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        if isinstance(cur, OSError) and cur.strerror:
            return f"{type(exc).__name__}: {cur.strerror}"
        reason = getattr(cur, "reason", None)
        nested = cur.args[0] if cur.args and isinstance(cur.args[0], BaseException) else None
        cur = (reason if isinstance(reason, BaseException) else None) or nested or cur.__cause__ or cur.__context__
    return type(exc).__name__
