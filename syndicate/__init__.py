"""syndicate: localize approved content and publish it to every channel, exactly once.

The public API is what this module exports: the producer API (:func:`submit`, :func:`cancel`), the item model,
the errors, the channel adapter contract, the review gate (:func:`show_review`,
:func:`approve_review`, :func:`reject_review`), and the operator's :func:`resolve` and
:func:`replay`. Everything else is internal and may change.
"""

from .channels import (
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
    PermanentError,
    PlaceholderMismatch,
    RateLimited,
    SyndicateError,
    TransientError,
    TranslationQuotaExceeded,
    TranslationRejected,
    TranslationUnavailable,
)
from .models import CallToAction, ContentItem, IntakeLimits, InvalidItem, LocalizedFields, Media, Overrides, Repeat
from .operator import Decision, ReplayPlan, ReplayRow, ResolveError, replay, resolve
from .producer import Cancellation, Submission, cancel, submit
from .review import Review, ReviewField, approve_review, reject_review, show_review
from .runtime import Runtime

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

__version__ = "0.1.0"
