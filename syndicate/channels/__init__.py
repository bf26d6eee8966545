"""The channel kit: everything an adapter author needs, in one import (``from syndicate.channels
import ...``); ``__all__`` is the kit's public surface, pinned by ``tests/unit/test_exported_members.py``.

* the contract (:mod:`.contract`): :class:`Adapter` and what it takes and gives, and the
  account's shared state (:mod:`.state`);
* the HTTP boundary: :class:`HttpAdapter` (:mod:`.httpadapter`: session, timeouts, capped answers,
  the error mapping), the one mapping of request phase and status to our errors
  (:mod:`.errormap`), bounded sessions and the ``Retry-After`` reading (:mod:`.http`), and the
  guarded fetcher for URLs an item names (:mod:`.fetching`) and the media store over it that
  fetches an item's images once per revision, sniffs and checks them (:mod:`.media`);
* text and markup: fitting text to a channel's limits (:mod:`.rendering`), Markdown, sanitizing,
  plain text and direction (:mod:`.markup`);
* the errors an adapter raises, and what it needs of the base (redaction, logging, option types).

It knows nothing of items, routes or the ledger, so an adapter (``adapters/`` or a third-party
package in the ``syndicate.adapters`` entry-point group) depends on it and on :mod:`syndicate.base`
alone. Submodules hold more (the registry, the deadline machinery) for the core.
"""

from ..base.fields import AwareDatetime, Duration, LocaleTag, WebUrl
from ..base.logging import get_logger
from ..base.secrets import redact
from ..errors import (
    AuthError,
    ChannelError,
    ConfigError,
    ConfigProblem,
    ContentError,
    EndpointGone,
    FetchRefused,
    FetchUnavailable,
    InDoubt,
    PermanentError,
    RateLimited,
    TransientError,
)
from .contract import (
    AccountContext,
    Adapter,
    Capability,
    Limits,
    MediaRef,
    NoOptions,
    PostContent,
    PublicationRef,
    RateWindow,
    Receipt,
    Rendered,
    RevisionPolicy,
    Safety,
)
from .errormap import Outcome, StatusMap, request_error
from .fetching import Fetched, fetch
from .http import (
    MAX_ANSWER_BYTES,
    BoundedTransport,
    DeadlineExceeded,
    answer_complete,
    bounded_session,
    is_loopback,
    nothing_sent,
    rate_limit_reset,
    retry_after,
    retry_delay,
)
from .httpadapter import HttpAdapter, answer_text
from .markup import body_html, body_text, html_to_text, markdown_to_html, sanitize_html, with_direction
from .media import MediaSpec, MediaStore, Medium, images_to_attach, sniff_image_type
from .rendering import ELLIPSIS, Fitted, Post, SpanFinder, compose, fit_text, hashtags, render_post
from .state import AccountState, MemoryState

__all__ = [
    "ELLIPSIS",
    "MAX_ANSWER_BYTES",
    "AccountContext",
    "AccountState",
    "Adapter",
    "AuthError",
    "AwareDatetime",
    "BoundedTransport",
    "Capability",
    "ChannelError",
    "ConfigError",
    "ConfigProblem",
    "ContentError",
    "DeadlineExceeded",
    "Duration",
    "EndpointGone",
    "FetchRefused",
    "FetchUnavailable",
    "Fetched",
    "Fitted",
    "HttpAdapter",
    "InDoubt",
    "Limits",
    "LocaleTag",
    "MediaRef",
    "MediaSpec",
    "MediaStore",
    "Medium",
    "MemoryState",
    "NoOptions",
    "Outcome",
    "PermanentError",
    "Post",
    "PostContent",
    "PublicationRef",
    "RateLimited",
    "RateWindow",
    "Receipt",
    "Rendered",
    "RevisionPolicy",
    "Safety",
    "SpanFinder",
    "StatusMap",
    "TransientError",
    "WebUrl",
    "answer_complete",
    "answer_text",
    "body_html",
    "body_text",
    "bounded_session",
    "compose",
    "fetch",
    "fit_text",
    "get_logger",
    "hashtags",
    "html_to_text",
    "images_to_attach",
    "is_loopback",
    "markdown_to_html",
    "nothing_sent",
    "rate_limit_reset",
    "redact",
    "render_post",
    "request_error",
    "retry_after",
    "retry_delay",
    "sanitize_html",
    "sniff_image_type",
    "with_direction",
]
