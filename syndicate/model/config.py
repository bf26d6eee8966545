"""The configuration as data: routes, channel accounts and settings, validated and immutable.

Regional marketers write routes (``config/routes/*.yaml``); ops write accounts and settings
(``config/accounts.yaml``, ``config/settings.yaml``). :mod:`syndicate.config.loading` reads the
files, checks everything across them and builds one :class:`Config`; every stage reads it and
none writes it (a reload builds a new one and swaps it in).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import time, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, available_timezones

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
)

from ..base.fields import Duration, HostName, LocaleTag, WebUrl
from ..base.hints import did_you_mean, shown
from ..base.secrets import Credentials, SecretRef, SecretSource, parse_ref
from ..channels.contract import AccountContext, Adapter, AdapterRegistry
from ..channels.state import AccountState
from ..errors import ConfigProblem
from .glossary import Glossary
from .item import IntakeLimits
from .timing import Timing

__all__ = [
    "API_SCOPES",
    "BUILT_IN",
    "DEFAULT_API_SCOPES",
    "WEEKDAYS",
    "Account",
    "ApiScope",
    "ApiSettings",
    "ApiToken",
    "Config",
    "EngagementSettings",
    "EngineProfile",
    "LifecycleEvent",
    "NotificationSettings",
    "ProducerWebhook",
    "RateLimit",
    "Route",
    "RouteTranslation",
    "ShortLinks",
    "TranslationProfiles",
    "TranslationSettings",
    "UtmSettings",
    "Weekday",
    "Window",
    "WorkerSettings",
    "timezone_problem",
]

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9._-]{0,63}$")]
UtmValue = Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=r"^[^\s&#=?]+$")]
_HHMM = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])|24:00")


class _Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


def _hhmm(value: object) -> time | None:
    if not isinstance(value, str) or not _HHMM.fullmatch(value):
        raise ValueError(f"{value!r} is not a local time as HH:MM (00:00 to 24:00)")
    if value == "24:00":
        return None  # end of day
    h, m = value.split(":")
    return time(int(h), int(m))


class Window(_Strict):
    """A posting window: on these weekdays, between ``start`` and ``end`` local time.

    ``end`` may be ``24:00``. A window whose end is before its start runs past midnight.
    """

    days: list[Weekday] = Field(default_factory=lambda: list(WEEKDAYS))
    start: Annotated[time | None, BeforeValidator(_hhmm)] = time(0, 0)
    end: Annotated[time | None, BeforeValidator(_hhmm)] = None

    @field_validator("days")
    @classmethod
    def _days(cls, v: list[str]) -> list[str]:
        if not v:
            raise ValueError("a window needs at least one day")
        if len(set(v)) != len(v):
            raise ValueError("days repeat")
        return v


class UtmSettings(_Strict):
    """UTM values for links posted by a route or an account. Unset fields fall back (docs/attribution.md)."""

    source: UtmValue | None = None
    medium: UtmValue | None = None
    campaign: UtmValue | None = None
    term: UtmValue | None = None
    id: UtmValue | None = None

    def merged_over(self, base: UtmSettings) -> UtmSettings:
        """These settings, with unset fields taken from ``base``."""
        return UtmSettings(**{k: getattr(self, k) or getattr(base, k) for k in UtmSettings.model_fields})


class ShortLinks(_Strict):
    """Short links on the organisation's own domain instead of the tagged link (docs/short-links.md).

    Attributes:
        base_url: where ``syndicate links serve`` answers, up to and including the path's final
            ``/``; a post links to ``base_url`` followed by the code (``https://go.example.com/r/Ab3xK9pQ2m``).
        shortener: which :class:`~syndicate.intake.shortlinks.Shortener` makes the codes;
            ``builtin`` (the ledger's own) is the one syndicate ships.
    """

    base_url: WebUrl
    shortener: Literal["builtin"] = "builtin"

    @field_validator("base_url")
    @classmethod
    def _base(cls, v: str) -> str:
        if "?" in v or "#" in v:
            raise ValueError("must not hold a query or a fragment: the code is appended to its path")
        if not v.endswith("/"):
            raise ValueError(f"must end with '/' (the code is appended to it): did you mean {v + '/'!r}?")
        return v


class TranslationSettings(_Strict):
    """How a route localizes, resolved for the engines: what
    :func:`~syndicate.localization.localize_item` takes.
    :func:`~syndicate.localization.profiles.translation_settings` builds it from a route's
    :class:`RouteTranslation` and the engine profiles it names; a route file never holds these
    options (a Python caller, being ops, may build one directly).

    Attributes:
        engine: ``deepl``, ``google``, ``microsoft``, ``libretranslate``, ``mymemory``, ``pseudo``
            (pseudo-localization), or ``none`` (publish the source text). Unset: only human
            translations and items already in the route's language are published.
        options: the engine's options (credentials as ``${VAR}``, formality, server URL, timeouts);
            each engine's are listed in ``docs/localization.md``.
        glossary: a glossary file, relative to the config directory (``glossaries/x.yaml``).
        do_not_translate: terms kept as they are (brand and product names).
        review_required: machine output waits in ``awaiting_review`` until approved.
        fallback: what to do when the engine fails: ``hold`` (keep the publications waiting),
            ``source`` (publish the source text), or another engine's name.
        fallback_options: the fallback engine's options.
    """

    engine: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_-]{0,31}$")] | None = None
    options: dict[str, Any] = Field(default_factory=dict)
    glossary: str | None = None
    do_not_translate: list[Annotated[str, StringConstraints(min_length=1, max_length=100)]] = Field(
        default_factory=list)
    review_required: bool = False
    fallback: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_-]{0,31}$")] = "hold"
    fallback_options: dict[str, Any] = Field(default_factory=dict)


#: Engines a route may name without a profile: nothing leaves the machine.
BUILT_IN = frozenset({"pseudo", "none"})
#: Names a profile may not take (they mean something else in ``engine`` or ``fallback``).
RESERVED = BUILT_IN | {"hold", "source"}
Formality = Literal["default", "more", "less", "prefer_more", "prefer_less"]
#: An engine's name (``deepl``) in a profile.
EngineName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_-]{0,31}$")]
#: A profile's name, as settings.yaml defines it and routes name it (``deepl-eu``).
ProfileName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9._-]{0,63}$")]


class RouteTranslation(_Strict):
    """How a route localizes items whose source locale is not the route's locale (``translation:``
    in a route file). Only what a regional marketer decides: no endpoint, no key, no variable.

    Attributes:
        engine: an engine profile from ``settings.yaml`` (``translation.engines``), or ``pseudo``
            (pseudo-localization) or ``none`` (publish the source text; only when the route says
            so). Unset: only human translations and items already in the route's language are
            published; others are held with an error.
        formality: ``default``, ``more``, ``less``, ``prefer_more`` or ``prefer_less``, for
            engines that have it (DeepL); unset: the profile's.
        glossary: a glossary file inside the config directory (``glossaries/x.yaml``).
        do_not_translate: terms kept as they are (brand and product names).
        review_required: machine output waits in ``awaiting_review`` until approved.
        fallback: what to do when the engine fails: ``hold`` (keep the publications waiting),
            ``source`` (publish the source text), or another engine profile (or ``pseudo``).
    """

    engine: ProfileName | None = None
    formality: Formality | None = None
    glossary: str | None = None
    do_not_translate: list[Annotated[str, StringConstraints(min_length=1, max_length=100)]] = Field(
        default_factory=list)
    review_required: bool = False
    fallback: ProfileName = "hold"


class EngineProfile(_Strict):
    """An engine profile (``settings.yaml``, ``translation.engines.NAME``): which engine, and its
    options as ``docs/localization.md`` lists them: endpoint, credentials as ``${VAR}``,
    formality, timeouts and request limits."""

    engine: EngineName
    description: str | None = None
    options: dict[str, Any] = Field(default_factory=dict)


class TranslationProfiles(_Strict):
    """``translation:`` in ``settings.yaml``: the engine profiles routes may name."""

    engines: dict[ProfileName, EngineProfile] = Field(default_factory=dict)


class Route(_Strict):
    """One region's route: which locales go to which accounts, when, and how they are tagged."""

    region: Slug
    description: str | None = None
    locales: list[LocaleTag]
    timezone: str
    translation: RouteTranslation = Field(default_factory=RouteTranslation)
    accounts: list[Slug]
    windows: list[Window] = Field(default_factory=list)
    min_gap: Duration | None = None
    stagger: Duration | None = None
    utm: UtmSettings = Field(default_factory=UtmSettings)
    utm_overrides: dict[Slug, UtmSettings] = Field(default_factory=dict)
    never_tag: list[HostName] = Field(default_factory=list, max_length=100)
    buying_stages: list[Literal["awareness", "consideration", "decision"]] | None = None
    #: Skip items without a ``buying_stage`` (by default they go to every route).
    require_stage: bool = False
    #: First comments on channels that have them (docs/routes.md): ``text`` posts the item's
    #: ``first_comment``; ``link`` also moves the tagged link from the post into the comment;
    #: ``off`` posts none.
    first_comment: Literal["text", "link", "off"] = "text"
    #: Post short links instead of the tagged link, under ``settings.yaml`` ``short_links.base_url``
    #: (an account's own ``short_links`` wins; docs/short-links.md).
    short_links: bool = False

    @field_validator("locales", "accounts")
    @classmethod
    def _non_empty_unique(cls, v: list[str]) -> list[str]:
        if not v:
            raise ValueError("must list at least one entry")
        if len(set(v)) != len(v):
            raise ValueError("entries repeat")
        return v

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str) -> str:
        problem = timezone_problem(v)
        if problem:
            raise ValueError(problem)
        return v

    @property
    def tz(self) -> ZoneInfo:
        """The route's time zone."""
        return ZoneInfo(self.timezone)


class RateLimit(_Strict):
    """At most ``max_posts`` per ``per`` on one account, shared by every worker."""

    max_posts: Annotated[int, Field(ge=1)]
    per: Duration


class Account(_Strict):
    """A channel account: which adapter, which credentials (by reference), which limits."""

    adapter: Slug
    description: str | None = None
    credentials: dict[str, Annotated[SecretRef, BeforeValidator(parse_ref)]] = Field(default_factory=dict)
    base_url: WebUrl | None = None
    connect_timeout_s: Annotated[float, Field(gt=0, le=60)] = 5.0
    read_timeout_s: Annotated[float, Field(gt=0, le=300)] = 10.0
    rate_limits: list[RateLimit] = Field(default_factory=list)
    utm: UtmSettings = Field(default_factory=UtmSettings)
    options: dict[str, Any] = Field(default_factory=dict)
    enabled: bool = True
    #: What a new revision of an item does to its post that already went out here: ``update`` (in
    #: place), ``keep``, ``reply`` or ``replace``; None: the adapter's default (docs/routes.md).
    on_revision: Literal["update", "keep", "reply", "replace"] | None = None
    #: Post short links instead of the tagged link, on every route (wins over a route's setting).
    short_links: ShortLinks | None = None

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True, arbitrary_types_allowed=True)


class WorkerSettings(Timing):
    """``worker:`` in ``settings.yaml``: the :class:`~syndicate.model.timing.Timing` of the workers
    (every knob by the same name, with the same default and checks) and how many processes and
    threads to run; the counts can be overridden on the command line."""

    #: Threads per process for the queues that call platforms (publish, unpublish, reconcile).
    threads: Annotated[int, Field(ge=1, le=256)] = 8
    #: Threads per process for intake and localization, apart from those above, so that a slow
    #: translation engine or a burst of new items never holds up a post that is due.
    prepare_threads: Annotated[int, Field(ge=1, le=64)] = 2
    processes: Annotated[int, Field(ge=1, le=64)] = 1


#: What an API token may do: ``submit`` items, ``read`` them, ``cancel`` its own items, ``review``
#: (approve or reject machine translations), and ``admin`` (supersede or cancel items another
#: token submitted). See docs/api.md.
ApiScope = Literal["submit", "read", "cancel", "review", "admin"]
API_SCOPES: tuple[ApiScope, ...] = ("submit", "read", "cancel", "review", "admin")
#: A token's scopes when settings.yaml lists none: a producer submits and reads, nothing more.
DEFAULT_API_SCOPES: tuple[ApiScope, ...] = ("submit", "read")
#: Lifecycle events a producer webhook can receive (``publication.<state>``).
LifecycleEvent = Literal["scheduled", "awaiting_review", "published", "failed", "in_doubt", "unconfirmed",
                         "cancelled", "skipped", "retrying"]


class ApiToken(_Strict):
    """A bearer token of the HTTP intake API: the value by ``${VAR}`` reference, and what it may do."""

    token: Annotated[SecretRef, BeforeValidator(parse_ref)]
    scopes: list[ApiScope] = Field(default_factory=lambda: list(DEFAULT_API_SCOPES))

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True, arbitrary_types_allowed=True)


class ApiSettings(_Strict):
    """``api:`` in ``settings.yaml``: tokens by name (the name is recorded as the actor) and limits."""

    tokens: dict[Slug, ApiToken] = Field(default_factory=dict)
    max_body_bytes: Annotated[int, Field(ge=1024, le=64 * 1024 * 1024)] = 2 * 1024 * 1024


class ProducerWebhook(_Strict):
    """One producer endpoint for lifecycle webhooks (signed per Standard Webhooks)."""

    url: WebUrl
    secret: Annotated[SecretRef, BeforeValidator(parse_ref)]
    events: list[LifecycleEvent] | None = None
    timeout_s: Annotated[float, Field(gt=0, le=60)] = 10.0

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True, arbitrary_types_allowed=True)


class NotificationSettings(_Strict):
    """``notifications:`` in ``settings.yaml``: producer webhooks and their retry policy."""

    webhooks: dict[Slug, ProducerWebhook] = Field(default_factory=dict)
    max_attempts: Annotated[int, Field(ge=1, le=100)] = 20
    min_backoff: Duration = timedelta(seconds=5)
    max_backoff: Duration = timedelta(hours=1)
    poll_interval: Duration = timedelta(seconds=1)


class EngagementSettings(_Strict):
    """``engagement:`` in ``settings.yaml``: how often, and for how long after publication, to
    snapshot response counts."""

    enabled: bool = True
    interval: Duration = timedelta(hours=1)
    window: Duration = timedelta(days=7)


@dataclass(frozen=True)
class Config:
    """A validated configuration directory (immutable: a reload builds a new one and swaps it in)."""

    directory: Path
    routes: dict[str, Route]
    accounts: dict[str, Account]
    secrets: SecretSource
    registry: AdapterRegistry
    intake_limits: IntakeLimits = field(default_factory=IntakeLimits)
    worker: WorkerSettings = field(default_factory=WorkerSettings)
    glossaries: dict[str, Glossary] = field(default_factory=dict)
    route_files: dict[str, Path] = field(default_factory=dict)
    api: ApiSettings = field(default_factory=ApiSettings)
    notifications: NotificationSettings = field(default_factory=NotificationSettings)
    engagement: EngagementSettings = field(default_factory=EngagementSettings)
    #: ``settings.yaml`` ``short_links``: where the redirect app answers, for routes that say
    #: ``short_links: true`` (docs/short-links.md).
    short_links: ShortLinks | None = None
    #: What is valid but probably not meant (an overnight window, a locale without a region).
    warnings: list[ConfigProblem] = field(default_factory=list)
    engine_profiles: dict[str, EngineProfile] = field(default_factory=dict)

    def adapter_class(self, account_id: str) -> type[Adapter]:
        """The adapter class of ``account_id`` (validated to exist at load)."""
        cls = self.registry.get(self.accounts[account_id].adapter)
        assert cls is not None
        return cls

    def account_context(self, account_id: str, state: AccountState | None = None) -> AccountContext:
        """Build the context an adapter instance is constructed with."""
        acc = self.accounts[account_id]
        cls = self.adapter_class(account_id)
        return AccountContext(
            id=account_id,
            options=cls.Options.model_validate(acc.options),
            credentials=Credentials(account_id, acc.credentials, self.secrets),
            base_url=acc.base_url,
            connect_timeout_s=acc.connect_timeout_s,
            read_timeout_s=acc.read_timeout_s,
            state=state,
        )

    def routes_for_locale(self, locale: str) -> list[Route]:
        """Routes that publish ``locale``."""
        return [r for r in self.routes.values() if locale in r.locales]

    def glossary_for(self, route: Route) -> Glossary | None:
        """The parsed glossary file ``route`` names, if any."""
        name = route.translation.glossary
        return self.glossaries.get(name) if name else None



# -- time zones -------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _zones() -> tuple[str, ...]:
    return tuple(sorted(available_timezones()))


def timezone_problem(value: str) -> str | None:
    """None when ``value`` is an IANA time zone, else what is wrong and the zone probably meant
    (``europe/madrid`` → ``Europe/Madrid``, ``New York`` → ``America/New_York``)."""
    try:
        if value.strip() == value and value:
            ZoneInfo(value)
            return None
    except (ValueError, OSError):  # ZoneInfoNotFoundError is a KeyError; also "Europe" (a directory)
        pass
    except KeyError:
        pass
    zones = _zones()
    wanted = value.strip().replace(" ", "_")
    guess = did_you_mean(wanted, zones, cutoff=0.8)
    if guess is None:  # a city alone: "Madrid" → Europe/Madrid
        cities = [z for z in zones if z.casefold().endswith("/" + wanted.casefold())]
        guess = cities[0] if len(cities) == 1 else None
    if guess is None and wanted in zones:
        guess = wanted
    hint = f"did you mean {guess!r}?" if guess else "e.g. 'Europe/Berlin' or 'America/New_York'"
    return f"{shown(value)} is not an IANA time zone; {hint}"


