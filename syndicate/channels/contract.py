"""The channel adapter contract, and the registry that finds adapters by name.

An adapter is one small class per channel (``adapters/x.py``, ``adapters/linkedin.py``, ...), an
``Adapter[Options]`` whose type argument is the pydantic model of its accounts' ``options:``
(HTTP channels build on :class:`~syndicate.channels.httpadapter.HttpAdapter`):

* ``render(content) -> Rendered``: pure, no I/O. Turns one localized item into the exact post.
* ``publish(rendered, publication) -> Receipt``: one call to the platform; raises a typed
  :class:`~syndicate.errors.ChannelError` subclass on failure (see ``errors.py`` for what each means).
* ``find_existing(rendered, publication) -> Receipt | None``: look for a post we may have made;
  ``None`` means surely absent, :class:`~syndicate.errors.InDoubt` means it cannot tell.
* ``limits``: what the channel accepts, as data (:class:`Limits`).

Optional, for posts that already went out, each declared in ``capabilities`` (:class:`Capability`)
so the core knows what it may ask: ``update`` (a revision, in place), ``delete`` and ``exists``
(``unpublish``, and the reconciliation of a delete in doubt), ``reply`` (a correction in the
thread). What a revision does on an account is its :class:`RevisionPolicy`.

``publish_safety`` tells the pipeline what a repeated ``publish`` would do (docs/writing-an-adapter.md), so the
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
from typing import Any, ClassVar, Generic, Literal, cast, get_args, get_origin

from pydantic import BaseModel, ConfigDict
from typing_extensions import TypeVar

from ..base.secrets import Credentials
from ..errors import ConfigError, ConfigProblem
from .media import MediaStore
from .state import AccountState

__all__ = [
    "ENTRY_POINT_GROUP",
    "AccountContext",
    "Adapter",
    "AdapterRegistry",
    "Capability",
    "Limits",
    "MediaRef",
    "NoOptions",
    "PostContent",
    "PublicationRef",
    "RateWindow",
    "Receipt",
    "Rendered",
    "RevisionPolicy",
    "Safety",
    "default_registry",
]

#: The entry-point group in which adapters register (``name = "module:Class"``).
ENTRY_POINT_GROUP = "syndicate.adapters"


class Safety(StrEnum):
    """What repeating an operation does (docs/writing-an-adapter.md)."""

    #: Nothing is created (reads): repeat freely.
    SAFE = "safe"
    #: The platform dedupes (stable id, update by id): repeat after any failure.
    IDEMPOTENT = "idempotent"
    #: Creates without an idempotency key: after an ambiguous failure, look before repeating.
    RECONCILE_ONLY = "reconcile_only"
    #: Must not be repeated at all: an ambiguous failure goes to an operator.
    NEVER = "never"


class Capability(StrEnum):
    """What an adapter can do to a post that already went out (docs/writing-an-adapter.md)."""

    #: ``update``: change the post in place (same id, same permalink).
    UPDATE = "update"
    #: ``delete``: remove the post (an already-gone post counts as done).
    DELETE = "delete"
    #: ``exists``: tell whether a post still exists (reconciles a delete in doubt).
    EXISTS = "exists"
    #: ``reply``: post a correction as a reply to the post.
    REPLY = "reply"


class RevisionPolicy(StrEnum):
    """What a new revision of an item does to its post that already went out on an account."""

    #: Change the post in place (needs :attr:`Capability.UPDATE`).
    UPDATE = "update"
    #: Leave the post as it is; the revision is recorded as ``skipped``.
    KEEP = "keep"
    #: Post the new text as a reply to the post (needs :attr:`Capability.REPLY`).
    REPLY = "reply"
    #: Delete the post, then post the new text anew (needs :attr:`Capability.DELETE`).
    REPLACE = "replace"


#: The capability each revision policy needs.
POLICY_NEEDS: Mapping[RevisionPolicy, Capability | None] = {
    RevisionPolicy.UPDATE: Capability.UPDATE, RevisionPolicy.KEEP: None,
    RevisionPolicy.REPLY: Capability.REPLY, RevisionPolicy.REPLACE: Capability.DELETE,
}


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
        parent_remote_id: for a first comment, the platform id of the post it goes under (set
            only for adapters with :attr:`Adapter.first_comments`); None for a post.
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
    parent_remote_id: str | None = None


@dataclass(frozen=True)
class PostContent:
    """One item localized for one locale and prepared for one account: the input of ``render``.

    Links are already tagged with UTM parameters. ``channel_text`` is a hand-written override for
    this channel and locale; ``variant`` is the evergreen variant for this slot, if any.
    ``link_in_comment``: the link goes in the post's first comment, so the post leaves it out
    (only for adapters with :attr:`Adapter.first_comments`).
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
    link_in_comment: bool = False


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
    """What the platform gave back for a post: its id and its public URL (the back-link).

    ``warnings`` are things a human should know about a post that did go out (a WebSub ping that
    failed, a receiver's unusable answer); the pipeline records them with the ``published`` event.
    """

    remote_id: str
    permalink: str
    raw: Mapping[str, Any] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()


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
        state: a small durable key-value store shared by all workers (tokens, feed state); None
            when the adapter was built without a runtime.
        media: fetches an item's media once per item revision, cached (:mod:`.media`); None when
            the adapter was built without a runtime (then each ask fetches).
    """

    id: str
    options: BaseModel
    credentials: Credentials
    base_url: str | None = None
    connect_timeout_s: float = 5.0
    read_timeout_s: float = 20.0
    state: AccountState | None = None
    media: MediaStore | None = None


#: The options model of an adapter (``class WordPressAdapter(Adapter[WordPressOptions])``). A bare
#: ``Adapter`` (the registry's ``type[Adapter]``) is any adapter: its options are some ``BaseModel``.
OptionsT = TypeVar("OptionsT", bound=BaseModel, default=BaseModel, covariant=True)


class Adapter(ABC, Generic[OptionsT]):
    """Base class of channel adapters. Subclasses set ``name`` and implement the four members.

    The type argument is the adapter's options model: ``class NoticeboardAdapter(
    Adapter[NoticeboardOptions])`` sets :attr:`Options` and types :attr:`options`. An adapter that
    takes no options subclasses ``Adapter[NoOptions]`` (or plain ``Adapter``).
    """

    #: Registry name, used as ``adapter:`` in accounts.yaml and as the default ``utm_source``.
    name: ClassVar[str]
    #: Pydantic model of the ``options:`` an account of this adapter takes (from the type argument).
    Options: ClassVar[type[BaseModel]] = NoOptions
    #: Names that must appear under ``credentials:`` for an account of this adapter.
    required_credentials: ClassVar[tuple[str, ...]] = ()
    #: What repeating ``publish`` after an ambiguous failure would do.
    publish_safety: ClassVar[Safety] = Safety.RECONCILE_ONLY
    #: ``utm_medium`` of links posted here unless a route or account says otherwise
    #: (``social`` files social networks under Organic Social in GA4).
    default_utm_medium: ClassVar[str] = "social"
    #: Whether ``publish`` makes network calls bounded by the account's connect and read timeouts
    #: (those timeouts then size the publish time limit); False for adapters that write locally.
    uses_network: ClassVar[bool] = True
    #: URL schemes a permalink of this adapter's receipts may have (``syndicate.publishing.receipts``).
    permalink_schemes: ClassVar[frozenset[str]] = frozenset({"https", "http"})
    #: What this adapter can do to a post that went out: which of ``update``, ``delete``, ``exists``
    #: and ``reply`` it implements.
    capabilities: ClassVar[frozenset[Capability]] = frozenset()
    #: What repeating ``update`` after an ambiguous failure would do (an update by id is idempotent).
    update_safety: ClassVar[Safety] = Safety.IDEMPOTENT
    #: What repeating ``delete`` would do. A delete in doubt is reconciled with ``exists`` when the
    #: adapter has it; without it, an ``idempotent`` delete is sent again, any other goes to an operator.
    delete_safety: ClassVar[Safety] = Safety.IDEMPOTENT
    #: The revision policy of an account that sets none: ``update`` where the adapter can, else ``keep``.
    default_revision_policy: ClassVar[RevisionPolicy | None] = None
    #: Whether the channel can put a first comment under a post (docs/writing-an-adapter.md): the
    #: adapter then implements :meth:`render_comment`, and its ``publish`` and ``find_existing``
    #: make or find a comment when the publication's ``parent_remote_id`` is set.
    first_comments: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        declared = cls.__dict__.get("Options")
        for base in cls.__dict__.get("__orig_bases__", ()):  # this class's own bases, not inherited ones
            origin, args = get_origin(base), get_args(base)
            if not (isinstance(origin, type) and issubclass(origin, Adapter) and args):
                continue
            model = args[0]
            if not (isinstance(model, type) and issubclass(model, BaseModel)):
                continue  # a type variable: a generic base such as HttpAdapter[OptionsT]
            if declared is not None and declared is not model:
                raise TypeError(f"{cls.__name__} declares Options = {declared.__name__} but subclasses "
                                f"{origin.__name__}[{model.__name__}]")
            cls.Options = model

    def __init__(self, account: AccountContext) -> None:
        self.account = account

    @property
    def options(self) -> OptionsT:
        """This account's validated options, an instance of :attr:`Options`."""
        opts = self.account.options
        if not isinstance(opts, self.Options):
            raise TypeError(f"account {self.account.id!r}: options are a {type(opts).__name__}, "
                            f"not {self.Options.__name__}")
        return cast(OptionsT, opts)

    @classmethod
    def required_credentials_for(cls, options: BaseModel) -> tuple[str, ...]:
        """The credentials an account with these validated ``options`` must declare (when they
        depend on an option, such as the auth mode); by default :attr:`required_credentials`."""
        return cls.required_credentials

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

    def render_comment(self, text: str, link: str | None) -> Rendered:
        """Build the exact first comment: ``text`` (localized, its links tagged; may be empty)
        followed by ``link`` when the link goes in the comment. Pure, like :meth:`render`.

        Raises:
            ContentError: the comment does not fit the channel's comment limit (never cut).
        """
        raise NotImplementedError(f"the {self.name} adapter has no first comments")

    def fetch_metrics(self, remote_id: str, publication: PublicationRef) -> Mapping[str, int] | None:
        """Engagement counts of a published post (``likes``, ``reposts``, ``replies``, ``impressions``,
        ``clicks``, ...), or None when the channel offers none. Read-only: safe to repeat."""
        return None

    def update(self, rendered: Rendered, publication: PublicationRef, remote_id: str) -> Receipt:
        """Change the post ``remote_id`` to ``rendered`` in place (:attr:`Capability.UPDATE`).

        Returns the receipt of the same post (same id and permalink). Raises a ``ChannelError``
        subclass as ``publish`` does; a post that no longer exists is a ``PermanentError``.
        """
        raise NotImplementedError(f"the {self.name} adapter cannot update posts")

    def delete(self, remote_id: str, publication: PublicationRef) -> None:
        """Delete (or unpublish) the post ``remote_id`` (:attr:`Capability.DELETE`).

        A post that is already gone (a 404) is done: return normally. A timeout after sending
        raises ``InDoubt``: the pipeline then asks ``exists``.
        """
        raise NotImplementedError(f"the {self.name} adapter cannot delete posts")

    def exists(self, remote_id: str, publication: PublicationRef) -> bool:
        """Whether the post ``remote_id`` still exists (:attr:`Capability.EXISTS`); ``InDoubt`` when
        the platform cannot tell. Read-only: safe to repeat."""
        raise NotImplementedError(f"the {self.name} adapter cannot look posts up")

    def reply(self, rendered: Rendered, publication: PublicationRef, remote_id: str) -> Receipt:
        """Post ``rendered`` as a reply to the post ``remote_id`` (:attr:`Capability.REPLY`); like
        ``publish``, a create: found again by ``find_existing`` after an ambiguous failure."""
        raise NotImplementedError(f"the {self.name} adapter cannot reply to posts")

    @classmethod
    def revision_policy_for(cls, configured: RevisionPolicy | str | None) -> RevisionPolicy:
        """The policy of an account: ``configured`` if set, else :attr:`default_revision_policy`,
        else ``update`` when the adapter can update, else ``keep``."""
        if configured is not None:
            return RevisionPolicy(configured)
        if cls.default_revision_policy is not None:
            return cls.default_revision_policy
        return RevisionPolicy.UPDATE if Capability.UPDATE in cls.capabilities else RevisionPolicy.KEEP

    @property
    def label(self) -> str:
        """How the account's channel is named to people (``preview``): the adapter's name by default."""
        return self.name

    def safety_for(self, publication: PublicationRef) -> Safety:
        """The safety of publishing ``publication`` (an update in place may be idempotent)."""
        return self.publish_safety

    def close(self) -> None:
        """Release connections. Called when the worker stops."""


class AdapterRegistry:
    """Adapters by name, from the ``syndicate.adapters`` entry-point group.

    Names are listed without importing anything; an adapter's module is imported the first time
    its name is asked for, so an installation without, say, an X account never imports tweepy.
    Two entry points with one name stop start-up, naming both.
    """

    def __init__(self, adapters: Mapping[str, type[Adapter]] | None = None) -> None:
        self._adapters: dict[str, type[Adapter]] = dict(adapters or {})
        self._entry_points: dict[str, Any] = {}
        self._scanned = adapters is not None
        self._lock = threading.Lock()

    def _scan(self) -> None:
        with self._lock:
            if self._scanned:
                return
            problems: list[ConfigProblem] = []
            for ep in entry_points(group=ENTRY_POINT_GROUP):
                other = self._entry_points.get(ep.name)
                if other is not None and other.value != ep.value:
                    problems.append(ConfigProblem(
                        f"entry point group {ENTRY_POINT_GROUP}", None, ep.name,
                        f"adapter name registered twice: {_origin(other)} and {_origin(ep)}"))
                    continue
                self._entry_points[ep.name] = ep
            if problems:
                raise ConfigError(problems)
            self._scanned = True

    def register(self, name: str, cls: type[Adapter]) -> None:
        """Register ``cls`` under ``name`` (for tests and embedding); a clash raises ``ConfigError``."""
        self._scan()
        taken = self._adapters.get(name)
        if (taken is not None and taken is not cls) or (taken is None and name in self._entry_points):
            raise ConfigError([ConfigProblem("adapter registry", None, name, "adapter name registered twice")])
        self._adapters[name] = cls

    def get(self, name: str) -> type[Adapter] | None:
        """The adapter class called ``name``, or None if no adapter has that name.

        Raises:
            ConfigError: the adapter is registered but cannot be imported.
        """
        self._scan()
        cls = self._adapters.get(name)
        if cls is not None:
            return cls
        ep = self._entry_points.get(name)
        if ep is None:
            return None
        try:
            loaded = ep.load()
        except Exception as exc:
            raise ConfigError([ConfigProblem(f"entry point group {ENTRY_POINT_GROUP}", None, name,
                                             f"cannot load {ep.value}: {type(exc).__name__}: {exc}")]) from exc
        if not (isinstance(loaded, type) and issubclass(loaded, Adapter)):
            raise ConfigError([ConfigProblem(f"entry point group {ENTRY_POINT_GROUP}", None, name,
                                             f"{ep.value} is not a syndicate.Adapter subclass")])
        with self._lock:
            self._adapters[name] = loaded
        return loaded

    def names(self) -> list[str]:
        """Every registered adapter name, sorted."""
        self._scan()
        return sorted(set(self._adapters) | set(self._entry_points))


def _origin(ep: Any) -> str:
    dist = getattr(ep, "dist", None)
    return f"{ep.value} ({dist.name if dist is not None else 'unknown distribution'})"


_default_registry: AdapterRegistry | None = None


def default_registry() -> AdapterRegistry:
    """The process-wide registry of installed adapters."""
    global _default_registry
    if _default_registry is None:
        _default_registry = AdapterRegistry()
    return _default_registry
