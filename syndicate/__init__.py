"""syndicate: localize approved content and publish it to every channel, exactly once.

The public API is what this module exports: the producer API (:func:`submit`, :func:`cancel`), the item model,
the errors, the channel adapter contract, the review gate (:func:`show_review`,
:func:`approve_review`, :func:`reject_review`), and the operator's :func:`resolve` and
:func:`replay`. Everything else is internal and may change.
"""

from collections.abc import Mapping
from typing import Any

from .channels.contract import (
    AccountContext,
    Adapter,
    Limits,
    MediaRef,
    NoOptions,
    PostContent,
    PublicationRef,
    RateWindow,
    Receipt,
    Rendered,
    Safety,
)
from .errors import (
    AuthError,
    ChannelError,
    ConfigError,
    ConfigProblem,
    ContentError,
    EndpointGone,
    InDoubt,
    InvalidFilter,
    LocalizationError,
    NotApproved,
    NotOwner,
    PermanentError,
    PlaceholderMismatch,
    RateLimited,
    SyndicateError,
    TransientError,
    TranslationQuotaExceeded,
    TranslationRejected,
    TranslationUnavailable,
)
from .intake import producer as _producer
from .intake.producer import Cancellation, Submission
from .localization.review import Review, ReviewField, approve_review, reject_review, show_review
from .model.item import (
    CallToAction,
    ContentItem,
    IntakeLimits,
    InvalidItem,
    LocalizedFields,
    Media,
    Overrides,
    Repeat,
)
from .operations.operator import Decision, ReplayPlan, ReplayRow, ResolveError, replay, resolve
from .runtime import Runtime, default_runtime

__all__ = [
    "AccountContext",
    "Adapter",
    "AuthError",
    "CallToAction",
    "Cancellation",
    "ChannelError",
    "ConfigError",
    "ConfigProblem",
    "ContentError",
    "ContentItem",
    "Decision",
    "EndpointGone",
    "InDoubt",
    "IntakeLimits",
    "InvalidFilter",
    "InvalidItem",
    "Limits",
    "LocalizationError",
    "LocalizedFields",
    "Media",
    "MediaRef",
    "NoOptions",
    "NotApproved",
    "NotOwner",
    "Overrides",
    "PermanentError",
    "PlaceholderMismatch",
    "PostContent",
    "PublicationRef",
    "RateLimited",
    "RateWindow",
    "Receipt",
    "Rendered",
    "Repeat",
    "ReplayPlan",
    "ReplayRow",
    "ResolveError",
    "Review",
    "ReviewField",
    "Runtime",
    "Safety",
    "Submission",
    "SyndicateError",
    "TransientError",
    "TranslationQuotaExceeded",
    "TranslationRejected",
    "TranslationUnavailable",
    "approve_review",
    "cancel",
    "reject_review",
    "replay",
    "resolve",
    "show_review",
    "submit",
]


def submit(item: ContentItem | Mapping[str, Any], *, runtime: Runtime | None = None, ignore_schedule: bool = False,
           actor: str = "api", producer: str | None = None) -> Submission:
    """Validate, store, plan and enqueue ``item``, in ``runtime`` or the process's runtime built from
    the environment (``SYNDICATE_CONFIG``, ``SYNDICATE_DATABASE_URL``, ``SYNDICATE_BROKER_URL``,
    ``SYNDICATE_REDIS_URL``).

    Arguments and errors: :func:`syndicate.intake.producer.submit`.
    """
    return _producer.submit(item, runtime=runtime or default_runtime(), ignore_schedule=ignore_schedule,
                            actor=actor, producer=producer)


def cancel(item_id: str, *, locale: str | None = None, account: str | None = None, runtime: Runtime | None = None,
           reason: str | None = None, actor: str = "api", producer: str | None = None) -> Cancellation:
    """Cancel every publication of ``item_id`` that has not gone out yet, in ``runtime`` or the
    process's runtime built from the environment.

    Arguments and errors: :func:`syndicate.intake.producer.cancel`.
    """
    return _producer.cancel(item_id, locale=locale, account=account, runtime=runtime or default_runtime(),
                            reason=reason, actor=actor, producer=producer)

__version__ = "0.1.0"
