"""The channel adapter contract, and the registry that finds adapters by name.

An adapter is one small class per channel (``adapters/x.py``, ``adapters/linkedin.py``, ...):

* ``render(content) -> Rendered``: pure, no I/O. Turns one localized item into the exact post.
* ``publish(rendered, publication) -> Receipt``: one call to the platform; raises a typed
  :class:`~syndicate.errors.ChannelError` subclass on failure (see ``errors.py`` for what each means).
* ``find_existing(rendered, publication) -> Receipt | None``: look for a post we may have made;
  ``None`` means surely absent, :class:`~syndicate.errors.InDoubt` means it cannot tell.
* ``limits``: what the channel accepts, as data (:class:`Limits`).

``publish_safety`` tells the pipeline what a repeated ``publish`` would do (design §3.5), so the
pipeline, not each adapter, decides between retrying and reconciling.

Adapters are found through the ``syndicate.adapters`` entry-point group; built-in adapters
register there too. Core code never imports a concrete adapter.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from importlib.metadata import entry_points
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict

from .errors import ConfigError, ConfigProblem
from .secrets import Credentials

__all__ = [
    "ENTRY_POINT_GROUP",
    "AccountContext",
    "Adapter",
    "AdapterRegistry",
    "Limits",
    "MediaRef",
    "NoOptions",
    "PostContent",
    "PublicationRef",
    "RateWindow",
    "Receipt",
    "Rendered",
    "Safety",
    "default_registry",
]

#: The entry-point group in which adapters register (``name = "module:Class"``).
ENTRY_POINT_GROUP = "syndicate.adapters"


class Safety(StrEnum):
    """What repeating an operation does (design §3.5)."""

    #: Nothing is created (reads): repeat freely.
    SAFE = "safe"
    #: The platform dedupes (stable id, update by id): repeat after any failure.
    IDEMPOTENT = "idempotent"
    #: Creates without an idempotency key: after an ambiguous failure, look before repeating.
    RECONCILE_ONLY = "reconcile_only"
    #: Must not be repeated at all: an ambiguous failure goes to an operator.
    NEVER = "never"


@dataclass(frozen=True)
class RateWindow:
    """At most ``max_posts`` posts per ``per`` for one account."""

    max_posts: int
    per: timedelta


def _code_points(text: str) -> int:
    return len(text)


@dataclass(frozen=True)
class Limits:
    """What a channel accepts, as data. Adapters declare one; rendering code obeys it.

    Attributes:
        max_length: the longest post, in the units of ``counter``.
        counter: measures a text as the platform does (code points by default; X weighs them).
        max_parts: how many parts a thread may have (1: no threads).
        max_title_length: the longest title, in code points, for channels with titles.
        max_media: how many media a post may carry.
        rate_windows: default post caps for an account; an account's config may lower them.
    """

    max_length: int
    counter: Callable[[str], int] = _code_points
    max_parts: int = 1
    max_title_length: int | None = None
    max_media: int = 4
    rate_windows: tuple[RateWindow, ...] = ()


@dataclass(frozen=True)
class MediaRef:
    """A medium to attach: where it is and its alt text."""

    url: str
    alt: str | None = None
    kind: Literal["image", "video"] = "image"


@dataclass(frozen=True)
class PublicationRef:
    """The ledger's view of one publication, as adapters see it.

    Attributes:
        id: ledger row id.
        key: the unique key ``item/revision/locale/account/slot``.
        marker: a short token unique to this publication, usable to find the post again.
        previous_remote_id: the platform id of this item's post in an earlier revision on the same
            account and slot, for channels that update in place (blogs, feeds).
    """

    id: int
    key: str
    item_id: str
    revision: int
    locale: str
    account: str
    slot: int
    tagged_url: str
    marker: str
    scheduled_for: datetime
    previous_remote_id: str | None = None


@dataclass(frozen=True)
class PostContent:
    """One item localized for one locale and prepared for one account: the input of ``render``.

    Links are already tagged with UTM parameters. ``channel_text`` is a hand-written override for
    this channel and locale; ``variant`` is the evergreen variant for this slot, if any.
    """

    item_id: str
    revision: int
    locale: str
    title: str
    summary: str
    body: str
    body_format: Literal["markdown", "html"]
    link: str
    canonical_url: str
    cta_text: str | None
    cta_url: str | None
    tags: tuple[str, ...] = ()
    media: tuple[MediaRef, ...] = ()
    channel_text: str | None = None
    variant: str | None = None
    slot: int = 0
    campaign: str = ""
    published_at: datetime | None = None
    rtl: bool = False


@dataclass(frozen=True)
class Rendered:
    """The exact post an adapter will send.

    Attributes:
        text: the post text (``format == "text"``), HTML (``"html"``) or JSON (``"json"``).
        length: ``text`` measured by the channel's counter; for threads, the longest part.
        limit: the channel's ``max_length``.
        link: the tagged link the post carries.
        parts: thread parts in order when the text was split; empty otherwise.
        title: title for channels that have one.
        media: media to attach.
        extra: channel-specific, JSON-serializable details (article card, categories, ...).
        warnings: what a human should know (cut text, missing alt text, machine translation).
    """

    text: str
    length: int
    limit: int
    link: str
    format: Literal["text", "html", "json"] = "text"
    parts: tuple[str, ...] = ()
    title: str | None = None
    media: tuple[MediaRef, ...] = ()
    extra: Mapping[str, Any] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class Receipt:
    """What the platform gave back for a post: its id and its public URL (the back-link)."""

    remote_id: str
    permalink: str
    raw: Mapping[str, Any] = field(default_factory=dict)


class NoOptions(BaseModel):
    """Options model for adapters that take none."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


@dataclass(frozen=True)
class AccountContext:
    """Everything an adapter instance needs about its account.

    Attributes:
        id: account id from ``accounts.yaml``.
        options: the adapter's validated ``Options``.
        credentials: resolves ``${VAR}`` references on demand; values are never logged.
        base_url: override of the platform's base URL (self-hosted targets and test fakes).
        connect_timeout_s: seconds to wait for a connection.
        read_timeout_s: seconds to wait for each read of an answer.
        state: a small durable key-value store shared by all workers (tokens, feed state).
    """

    id: str
    options: BaseModel
    credentials: Credentials
    base_url: str | None = None
    connect_timeout_s: float = 5.0
    read_timeout_s: float = 20.0
    state: Any = None


class Adapter(ABC):
    """Base class of channel adapters. Subclasses set ``name`` and implement the four members."""

    #: Registry name, used as ``adapter:`` in accounts.yaml and as the default ``utm_source``.
    name: ClassVar[str]
    #: Pydantic model of the ``options:`` an account of this adapter takes.
    Options: ClassVar[type[BaseModel]] = NoOptions
    #: Names that must appear under ``credentials:`` for an account of this adapter.
    required_credentials: ClassVar[tuple[str, ...]] = ()
    #: What repeating ``publish`` after an ambiguous failure would do.
    publish_safety: ClassVar[Safety] = Safety.RECONCILE_ONLY
    #: ``utm_medium`` of links posted here unless a route or account says otherwise
    #: (``social`` files social networks under Organic Social in GA4).
    default_utm_medium: ClassVar[str] = "social"

    def __init__(self, account: AccountContext) -> None:
        self.account = account

    @property
    @abstractmethod
    def limits(self) -> Limits:
        """What this channel (and this account) accepts."""

    @abstractmethod
    def render(self, content: PostContent) -> Rendered:
        """Build the exact post for ``content``. Pure: no I/O, same input gives the same output."""

    @abstractmethod
    def publish(self, rendered: Rendered, publication: PublicationRef) -> Receipt:
        """Send ``rendered``; return the platform's receipt or raise a ``ChannelError`` subclass."""

    @abstractmethod
    def find_existing(self, rendered: Rendered, publication: PublicationRef) -> Receipt | None:
        """Find a post made for ``publication``; ``None`` if surely absent, ``InDoubt`` if unknown."""

    def safety_for(self, publication: PublicationRef) -> Safety:
        """The safety of publishing ``publication`` (an update in place may be idempotent)."""
        return self.publish_safety

    def close(self) -> None:  # noqa: B027 - optional hook, a no-op by default
        """Release connections. Called when the worker stops."""


class AdapterRegistry:
    """Adapters by name, loaded from the ``syndicate.adapters`` entry-point group.

    Two adapters with one name stop start-up, naming both.
    """

    def __init__(self, adapters: Mapping[str, type[Adapter]] | None = None) -> None:
        self._adapters: dict[str, type[Adapter]] = dict(adapters or {})
        self._loaded = adapters is not None
        self._lock = threading.Lock()

    def _load(self) -> None:
        with self._lock:
            if self._loaded:
                return
            problems: list[ConfigProblem] = []
            origins: dict[str, str] = {}
            for ep in entry_points(group=ENTRY_POINT_GROUP):
                origin = f"{ep.value} ({ep.dist.name if ep.dist else 'unknown distribution'})"
                if ep.name in self._adapters:
                    problems.append(ConfigProblem(
                        f"entry point {ENTRY_POINT_GROUP}", None, ep.name,
                        f"adapter name registered twice: {origins[ep.name]} and {origin}"))
                    continue
                try:
                    cls = ep.load()
                except Exception as exc:  # noqa: BLE001 - a broken plugin must not hide the others
                    problems.append(ConfigProblem(f"entry point {ENTRY_POINT_GROUP}", None, ep.name,
                                                  f"cannot load {ep.value}: {type(exc).__name__}: {exc}"))
                    continue
                if not (isinstance(cls, type) and issubclass(cls, Adapter)):
                    problems.append(ConfigProblem(f"entry point {ENTRY_POINT_GROUP}", None, ep.name,
                                                  f"{ep.value} is not a syndicate.Adapter subclass"))
                    continue
                self._adapters[ep.name] = cls
                origins[ep.name] = origin
            if problems:
                raise ConfigError(problems)
            self._loaded = True

    def register(self, name: str, cls: type[Adapter]) -> None:
        """Register ``cls`` under ``name`` (for tests and embedding); a clash raises ``ConfigError``."""
        self._load()
        if name in self._adapters and self._adapters[name] is not cls:
            raise ConfigError([ConfigProblem("adapter registry", None, name, "adapter name registered twice")])
        self._adapters[name] = cls

    def get(self, name: str) -> type[Adapter] | None:
        """The adapter class called ``name``, or None."""
        self._load()
        return self._adapters.get(name)

    def names(self) -> list[str]:
        """Every registered adapter name, sorted."""
        self._load()
        return sorted(self._adapters)


_default_registry: AdapterRegistry | None = None


def default_registry() -> AdapterRegistry:
    """The process-wide registry of installed adapters."""
    global _default_registry
    if _default_registry is None:
        _default_registry = AdapterRegistry()
    return _default_registry
