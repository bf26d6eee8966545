"""Errors that syndicate raises, and what each one means for a publication.

The tree::

    SyndicateError
    ├── ConfigError            invalid routes/accounts/settings: refuse to start
    ├── ContentError           an item cannot be validated or rendered: give up before any call
    │   ├── NotApproved        the item is not approved for publication
    │   ├── NotOwner           the item belongs to another producer: they may not supersede or cancel it
    │   └── InvalidFilter      a filter names a state, account, locale... that does not exist
    ├── LocalizationError      a localization could not be produced
    │   ├── TranslationUnavailable   engine down, timeout, 5xx: try again later (or the fallback)
    │   ├── TranslationQuotaExceeded engine quota or rate limit hit: fallback, else later
    │   │   └── TranslationThrottled  HTTP 429: retried within the step at the engine's pace, then later
    │   └── TranslationRejected      the engine refused the text or the key: fallback, else hold
    │       └── PlaceholderMismatch  protected spans did not come back exactly once
    └── ChannelError           a channel call did not publish
        ├── TransientError     nothing was created: retry with backoff
        │   └── FetchUnavailable   a medium the item names could not be fetched now
        ├── RateLimited        the platform asked us to wait: reschedule, not a failure
        ├── PermanentError     the platform refused the post: failed, keep its message
        │   ├── EndpointGone   the endpoint answered 410 Gone: failed, disable the account
        │   └── FetchRefused   a medium the item names may not or cannot be fetched
        ├── AuthError          credentials expired or revoked: failed, hold the account
        └── InDoubt            the post may exist: reconcile, never post blindly again

Programming mistakes are not ``SyndicateError``: they propagate as the builtin they are.
Every message here is safe to log and to store: callers must not put secrets in them, and
``syndicate.redaction`` scrubs registered secret values from them again before they leave.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

__all__ = [
    "AuthError",
    "BrokerError",
    "ChannelError",
    "ConfigError",
    "ConfigProblem",
    "ContentError",
    "EndpointGone",
    "FetchRefused",
    "FetchUnavailable",
    "InDoubt",
    "InvalidFilter",
    "LocalizationError",
    "NotApproved",
    "NotOwner",
    "PermanentError",
    "PlaceholderMismatch",
    "RateLimited",
    "SyndicateError",
    "TransientError",
    "TranslationQuotaExceeded",
    "TranslationRejected",
    "TranslationThrottled",
    "TranslationUnavailable",
]


class SyndicateError(Exception):
    """Base class of every error syndicate raises on purpose."""


@dataclass(frozen=True)
class ConfigProblem:
    """One problem found in a configuration file.

    Attributes:
        path: the file, as given on the command line or found in the config directory.
        line: 1-based line of the offending node, or None when the whole file is at fault.
        field: dotted path of the field inside the file (``accounts.x-na.adapter``), or "".
        message: what is wrong, in words an editor of that file understands.
        severity: ``error`` (the config is refused) or ``warning`` (valid, but probably not meant).
    """

    path: str
    line: int | None
    field: str
    message: str
    severity: Literal["error", "warning"] = "error"

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line is not None else self.path
        if self.severity == "warning":
            where += ": warning"
        return f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"


class ConfigError(SyndicateError):
    """The configuration is invalid; ``problems`` lists every problem found, not just the first, and
    ``warnings`` what was found valid but probably not meant."""

    def __init__(self, problems: Sequence[ConfigProblem], warnings: Sequence[ConfigProblem] = ()) -> None:
        self.problems = tuple(problems)
        self.warnings = tuple(warnings)
        super().__init__("\n".join(str(p) for p in self.problems) or "invalid configuration")


class BrokerError(SyndicateError):
    """The broker settings contradict each other, or the broker does not answer. The message names
    the setting and the URL, never its password."""


class ContentError(SyndicateError):
    """An item is invalid or cannot be rendered for a channel.

    Args:
        message: the reason.
        item_id: the producer's id of the item, when known.
        field: dotted path of the offending field, when known.
    """

    def __init__(self, message: str, *, item_id: str | None = None, field: str | None = None) -> None:
        self.item_id = item_id
        self.field = field
        self.reason = message
        parts = []
        if item_id:
            parts.append(f"item {item_id!r}")
        if field:
            parts.append(f"field {field!r}")
        prefix = ", ".join(parts)
        super().__init__(f"{prefix}: {message}" if prefix else message)


class NotApproved(ContentError):
    """The item is not approved (``approved`` must be literally ``true``)."""


class NotOwner(ContentError):
    """The item was submitted by another producer: only that producer, a token with the ``admin``
    scope, or an operator (command line, Python without ``producer=``) may supersede or cancel it."""


class InvalidFilter(ContentError):
    """A filter (a command's ``--state``, ``--account``, ``--locale``, ``--channel``..., an API
    query or body field) names a value that does not exist. Matching nothing silently would look
    like "nothing to do"; this names the filter and lists the values that exist.

    Args:
        name: the filter (``state``, ``account``, ``locale``...).
        value: what was given.
        message: the whole message, naming the valid values.
        valid: the valid values.
    """

    def __init__(self, name: str, value: str, message: str, valid: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.args = (message,)  # no "field 'x':" prefix: the message names the filter itself
        self.field = name
        self.value = value
        self.valid = tuple(valid)

    def __str__(self) -> str:
        return str(self.args[0])


class LocalizationError(SyndicateError):
    """A localization (one item revision in one locale) could not be produced.

    Args:
        message: the reason, safe to log.
        retry_after: how long the engine asked us to wait (its ``Retry-After``), when it said.
    """

    def __init__(self, message: str = "", *, retry_after: timedelta | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class TranslationUnavailable(LocalizationError):
    """The engine could not be reached or answered with a server error; nothing is lost by retrying."""


class TranslationQuotaExceeded(LocalizationError):
    """The engine's quota or rate limit is exhausted."""


class TranslationThrottled(TranslationQuotaExceeded):
    """The engine asked us to slow down (HTTP 429), not a used-up quota: the request is retried
    within the localize step after ``retry_after`` (or a short backoff), then left to a later attempt."""


class TranslationRejected(LocalizationError):
    """The engine refused the request (bad key, unsupported language, invalid text)."""


class PlaceholderMismatch(TranslationRejected):
    """The engine's output lost, duplicated or invented a protected span; the text is not used.

    Args:
        message: which spans of which field.
        answers: field name → the engine's refused answer (placeholders as it returned them), for
            the reviewer; empty when the answer cannot be told apart per field.
    """

    def __init__(self, message: str = "", *, answers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.answers = dict(answers or {})


class ChannelError(SyndicateError):
    """A channel call did not publish.

    Args:
        message: our description of what happened.
        status: the HTTP status the platform answered with, when there was one.
        platform_message: the platform's own error text (scrubbed of secrets), when there was one.
    """

    def __init__(self, message: str, *, status: int | None = None, platform_message: str | None = None) -> None:
        self.status = status
        self.platform_message = platform_message
        text = message
        if status is not None:
            text = f"{text} (HTTP {status})"
        if platform_message:
            text = f"{text}: {platform_message}"
        super().__init__(text)


class TransientError(ChannelError):
    """Nothing was created (connection refused, DNS, 502/503 before a body): retry with backoff."""


class RateLimited(ChannelError):
    """The platform or our shared limiter asked us to wait until ``until`` (aware, UTC).

    This is a deferral, not a failure: the publication is rescheduled and no attempt is counted.
    """

    def __init__(
        self,
        message: str,
        *,
        until: datetime,
        status: int | None = None,
        platform_message: str | None = None,
    ) -> None:
        if until.tzinfo is None:
            raise ValueError("RateLimited.until must be an aware datetime")
        self.until = until
        super().__init__(message, status=status, platform_message=platform_message)


class PermanentError(ChannelError):
    """The platform refused the post for good (validation, duplicate, too long)."""


class EndpointGone(PermanentError):
    """The endpoint answered 410 Gone: its owner wants no more posts. The publication fails and the
    account is disabled, which holds its other publications until an operator enables it again."""


class AuthError(ChannelError):
    """The account's credentials are missing, expired or revoked: a human must renew them."""


class InDoubt(ChannelError):
    """The request may have created the post (read timeout after sending, reset, 500 on create)."""


class FetchRefused(PermanentError):
    """A URL an item names was not fetched and will not be: it does not lead to a public address
    (after resolution, on any redirect hop), its answer is too large or of a type not accepted, or
    the server refused it (4xx). The message is generic: it never says which addresses answer."""


class FetchUnavailable(TransientError):
    """A URL an item names could not be fetched this time: no connection, no answer within the
    time limit, a server error. Nothing was posted; a later attempt may succeed."""
