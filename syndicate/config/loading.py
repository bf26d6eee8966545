"""Routes and channel accounts: the YAML that regional marketers and ops write.

Layout of a config directory::

    config/
      accounts.yaml        channel accounts, by id
      routes/*.yaml        one file per region
      settings.yaml        optional: intake limits, worker defaults, API tokens, engine profiles
      glossaries/*.yaml    optional: term lists that routes name

Routes are edited by regional marketers; accounts and settings by ops. A route never references
an environment variable or names an endpoint: it names accounts by id and engine profiles by
name (see :mod:`syndicate.engine_profiles`).

:func:`load_config` reads and checks everything and raises :class:`~syndicate.errors.ConfigError`
with **every** problem, each as ``file:line: field: message``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import time, timedelta
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)

from ..base.secrets import Credentials, SecretRef, SecretSource, parse_ref
from ..channels.contract import AccountContext, Adapter, AdapterRegistry, default_registry
from ..errors import ConfigError, ConfigProblem
from ..intake.attribution import HostName
from ..localization.glossary import Glossary, GlossaryFile
from ..model.fields import Duration, LocaleTag, WebUrl
from ..model.inputs import Document, InputError, line_of, load_yaml
from ..model.item import IntakeLimits
from .problems import did_you_mean, problems_from_validation, route_warnings, sort_problems, timezone_problem
from .profiles import (
    EngineProfile,
    RouteTranslation,
    TranslationProfiles,
    profile_problems,
    profile_secret_problems,
    resolve,
    route_file_problems,
    route_translation_problems,
)

__all__ = [
    "Account",
    "ApiSettings",
    "ApiToken",
    "Config",
    "EngagementSettings",
    "EngineProfile",
    "NotificationSettings",
    "ProducerWebhook",
    "RateLimit",
    "Route",
    "RouteTranslation",
    "TranslationSettings",
    "UtmSettings",
    "Window",
    "config_dir_from_env",
    "load_config",
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
    """UTM values for links posted by a route or an account. Unset fields fall back (design §6)."""

    source: UtmValue | None = None
    medium: UtmValue | None = None
    campaign: UtmValue | None = None
    term: UtmValue | None = None
    id: UtmValue | None = None

    def merged_over(self, base: UtmSettings) -> UtmSettings:
        """These settings, with unset fields taken from ``base``."""
        return UtmSettings(**{k: getattr(self, k) or getattr(base, k) for k in UtmSettings.model_fields})


class TranslationSettings(_Strict):
    """How a route localizes, resolved for the engines: what
    :func:`~syndicate.localization.localize_item` takes. :meth:`Config.translation_for` builds
    it from a route's :class:`RouteTranslation` and the engine profiles it names; a route file
    never holds these options (a Python caller, being ops, may build one directly).

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

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True, arbitrary_types_allowed=True)


class _AccountsFile(_Strict):
    secrets_file: str | None = None
    accounts: dict[Slug, Account]


class WorkerSettings(_Strict):
    """Worker defaults from ``settings.yaml``; each can be overridden on the command line."""

    threads: Annotated[int, Field(ge=1, le=256)] = 8
    processes: Annotated[int, Field(ge=1, le=64)] = 1
    max_attempts: Annotated[int, Field(ge=1, le=100)] = 8
    retry_min_backoff: Duration = timedelta(seconds=15)
    retry_max_backoff: Duration = timedelta(hours=1)
    #: Timing of crash recovery (docs/reliability.md): the Dramatiq time limit of a publish, how
    #: long a claim lasts before a crashed worker's row is reconciled, when a silent worker
    #: process is dead (its fetched messages go back to the queue), how often the Redis broker
    #: looks for dead workers (commands in a million), and when a lost message is sent again.
    publish_time_limit: Duration = timedelta(seconds=15)
    claim_lease: Duration = timedelta(seconds=20)
    heartbeat_timeout: Duration = timedelta(seconds=10)
    maintenance_chance: Annotated[int, Field(ge=1, le=1_000_000)] = 100_000
    resend_after: Duration = timedelta(minutes=5)
    dispatch_interval: Duration = timedelta(seconds=1)

    @model_validator(mode="after")
    def _lease_after_limit(self) -> WorkerSettings:
        if self.claim_lease <= self.publish_time_limit:
            raise ValueError(f"claim_lease ({self.claim_lease.total_seconds():g} s) must exceed publish_time_limit "
                             f"({self.publish_time_limit.total_seconds():g} s): a live worker's claim must never "
                             "expire under it")
        return self


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


class _SettingsFile(_Strict):
    intake: dict[str, int] = Field(default_factory=dict)
    worker: WorkerSettings = Field(default_factory=WorkerSettings)
    api: ApiSettings = Field(default_factory=ApiSettings)
    notifications: NotificationSettings = Field(default_factory=NotificationSettings)
    engagement: EngagementSettings = Field(default_factory=EngagementSettings)
    translation: TranslationProfiles = Field(default_factory=TranslationProfiles)

    @model_validator(mode="after")
    def _known_limits(self) -> _SettingsFile:
        known = set(IntakeLimits.__dataclass_fields__)
        for key, value in self.intake.items():
            if key not in known:
                guess = did_you_mean(key, known)
                raise ValueError(f"intake.{key}: unknown limit; "
                                 + (f"did you mean {guess!r}?" if guess else f"known: {', '.join(sorted(known))}"))
            if value < 1:
                raise ValueError(f"intake.{key}: must be a positive integer")
        return self


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
    #: What is valid but probably not meant (an overnight window, a locale without a region).
    warnings: list[ConfigProblem] = field(default_factory=list)
    engine_profiles: dict[str, EngineProfile] = field(default_factory=dict)

    def translation_for(self, route: Route) -> TranslationSettings:
        """``route``'s translation with the engine profiles it names resolved: the engines and
        their options (endpoint, key reference, the route's formality)."""
        return TranslationSettings.model_validate(resolve(route.translation, self.engine_profiles))

    def adapter_class(self, account_id: str) -> type[Adapter]:
        """The adapter class of ``account_id`` (validated to exist at load)."""
        cls = self.registry.get(self.accounts[account_id].adapter)
        assert cls is not None
        return cls

    def account_context(self, account_id: str, state: Any = None) -> AccountContext:
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


def config_dir_from_env(explicit: str | Path | None = None) -> Path:
    """``explicit``, else ``$SYNDICATE_CONFIG``, else ``./config``."""
    if explicit:
        return Path(explicit)
    return Path(os.environ.get("SYNDICATE_CONFIG") or "config")


def outside_directory(base: Path, name: str) -> str | None:
    """Why ``name`` (a path a route gives, such as a glossary) is not a file inside the config
    directory ``base``, or None when it is. Absolute paths and ``..`` are refused as written; the
    rest is resolved, symbolic links included, and must stay under ``base`` resolved."""
    if not name or PurePosixPath(name).is_absolute() or PureWindowsPath(name).is_absolute() \
            or PureWindowsPath(name).drive or name.startswith(("/", "\\", "~")):
        return f"{name!r} is not a path relative to the config directory (write e.g. 'glossaries/product.yaml')"
    if ".." in PurePosixPath(name.replace("\\", "/")).parts:
        return f"{name!r} leaves the config directory ('..'); glossaries live inside it, e.g. under glossaries/"
    try:
        root = base.resolve(strict=False)
        target = (base / name).resolve(strict=False)
    except (OSError, RuntimeError) as exc:  # a symbolic link loop
        return f"{name!r} cannot be resolved: {exc}"
    if not target.is_relative_to(root):
        return (f"{name!r} resolves to a file outside the config directory (through a symbolic link); "
                "glossaries must be files inside it")
    return None


def _problems_from_validation(doc: Document, exc: ValidationError, prefix: tuple[str | int, ...] = (),
                              model: type[BaseModel] | None = None) -> list[ConfigProblem]:
    return problems_from_validation(doc, exc, prefix, model)


def _shared_locale_problems(routes: Mapping[str, Route], files: Mapping[str, Path]) -> list[ConfigProblem]:
    """A locale routed by several regions is localized once: their translation settings and time
    zones (which dates render in) must agree."""
    out: list[ConfigProblem] = []
    first: dict[str, Route] = {}
    for route in routes.values():
        for loc in route.locales:
            other = first.setdefault(loc, route)
            if other is route:
                continue
            if other.translation != route.translation:
                out.append(ConfigProblem(str(files[route.region]), None, "translation",
                                         f"locale {loc} is also routed by region {other.region!r} with other "
                                         "translation settings; a locale is localized once, so they must match"))
            if other.timezone != route.timezone:
                out.append(ConfigProblem(str(files[route.region]), None, "timezone",
                                         f"locale {loc} is also routed by region {other.region!r} in "
                                         f"{other.timezone}; dates are rendered once per locale, so the time "
                                         "zones must match"))
    return out


def _read_yaml(path: Path, problems: list[ConfigProblem]) -> Document | None:
    try:
        return load_yaml(path.read_bytes(), str(path))
    except InputError as exc:
        problems.append(ConfigProblem(exc.source, exc.line, "", exc.reason))
    except OSError as exc:
        problems.append(ConfigProblem(str(path), None, "", f"cannot be read: {exc.strerror}"))
    return None


def load_config(
    directory: str | Path | None = None,
    *,
    registry: AdapterRegistry | None = None,
    environ: Mapping[str, str] | None = None,
    check_secrets: bool = True,
) -> Config:
    """Read and validate a config directory.

    Args:
        directory: the directory; default from :func:`config_dir_from_env`.
        registry: adapters to check ``adapter:`` against; default: installed adapters.
        environ: where ``${VAR}`` references resolve; default ``os.environ``.
        check_secrets: report references that do not resolve as problems.

    Raises:
        ConfigError: every problem found in every file.
    """
    base = config_dir_from_env(directory)
    reg = registry or default_registry()
    problems: list[ConfigProblem] = []
    if not base.is_dir():
        raise ConfigError([ConfigProblem(str(base), None, "", "config directory not found "
                                         "(give --config DIR or set SYNDICATE_CONFIG)")])

    # settings.yaml (optional)
    intake = IntakeLimits()
    worker = WorkerSettings()
    sf = _SettingsFile()
    settings_path = base / "settings.yaml"
    settings_doc: Document | None = None
    if settings_path.exists():
        settings_doc = doc = _read_yaml(settings_path, problems)
        if doc is not None:
            try:
                sf = _SettingsFile.model_validate(doc.data or {})
                intake = IntakeLimits(**sf.intake)
                worker = sf.worker
            except ValidationError as exc:
                problems.extend(_problems_from_validation(doc, exc, model=_SettingsFile))
            problems.extend(profile_problems(sf.translation.engines, doc))
    profiles = sf.translation.engines
    used_profiles: set[str] = set()

    # accounts.yaml
    accounts: dict[str, Account] = {}
    broken_accounts: set[str] = set()
    secrets = SecretSource(environ=environ if environ is not None else os.environ)
    accounts_path = base / "accounts.yaml"
    accounts_doc: Document | None = None
    if not accounts_path.exists():
        problems.append(ConfigProblem(str(accounts_path), None, "", "file not found"))
    else:
        accounts_doc = _read_yaml(accounts_path, problems)
    if accounts_doc is not None:
        data = accounts_doc.data
        if not isinstance(data, dict):
            problems.append(ConfigProblem(str(accounts_path), line_of(accounts_doc, ()), "",
                                          "must be a mapping with an 'accounts:' key"))
        else:
            # Validate account by account, so that one bad account does not hide the others.
            raw_accounts = data.get("accounts")
            top = {k: v for k, v in data.items() if k != "accounts"}
            try:
                head = _AccountsFile.model_validate({**top, "accounts": {}})
                if head.secrets_file:
                    sp = (base / head.secrets_file)
                    try:
                        secrets = SecretSource.from_file(sp, environ)
                    except OSError as exc:
                        problems.append(ConfigProblem(str(accounts_path), line_of(accounts_doc, ("secrets_file",)),
                                                      "secrets_file", f"{sp} cannot be read: {exc.strerror}"))
            except ValidationError as exc:
                problems.extend(_problems_from_validation(accounts_doc, exc, model=_AccountsFile))
            if not isinstance(raw_accounts, dict) or not raw_accounts:
                problems.append(ConfigProblem(str(accounts_path), line_of(accounts_doc, ("accounts",)), "accounts",
                                              "must map account ids to accounts"))
            else:
                for acc_id, raw in raw_accounts.items():
                    apath = ("accounts", acc_id)
                    if not re.fullmatch(r"[a-z0-9][a-z0-9._-]{0,63}", acc_id):
                        problems.append(ConfigProblem(str(accounts_path), line_of(accounts_doc, apath),
                                                      f"accounts.{acc_id}",
                                                      "account ids are lowercase letters, digits, '.', '_', '-'"))
                        continue
                    try:
                        acc = Account.model_validate(raw)
                    except ValidationError as exc:
                        problems.extend(_problems_from_validation(accounts_doc, exc, apath, Account))
                        broken_accounts.add(acc_id)
                        continue
                    try:
                        cls = reg.get(acc.adapter)
                    except ConfigError as exc:
                        problems.extend(ConfigProblem(str(accounts_path), line_of(accounts_doc, (*apath, "adapter")),
                                                      f"accounts.{acc_id}.adapter", p.message) for p in exc.problems)
                        broken_accounts.add(acc_id)
                        continue
                    if cls is None:
                        broken_accounts.add(acc_id)
                        problems.append(ConfigProblem(
                            str(accounts_path), line_of(accounts_doc, (*apath, "adapter")),
                            f"accounts.{acc_id}.adapter",
                            f"unknown adapter {acc.adapter!r}; installed: {', '.join(reg.names()) or 'none'}"
                            + (f"; did you mean {g!r}?" if (g := did_you_mean(acc.adapter, reg.names())) else "")))
                        continue
                    required = cls.required_credentials
                    try:
                        required = cls.required_credentials_for(cls.Options.model_validate(acc.options))
                    except ValidationError as exc:
                        problems.extend(_problems_from_validation(accounts_doc, exc, (*apath, "options"),
                                                                  cls.Options))
                    for name in required:
                        if name not in acc.credentials:
                            problems.append(ConfigProblem(
                                str(accounts_path), line_of(accounts_doc, (*apath, "credentials")),
                                f"accounts.{acc_id}.credentials",
                                f"adapter {acc.adapter!r} needs the credential {name!r}"))
                    accounts[acc_id] = acc

    # Secrets are checked once the secrets file (if any) is known.
    if check_secrets and accounts_doc is not None:
        for acc_id, acc in accounts.items():
            if not acc.enabled:
                continue
            for name, var in Credentials(acc_id, acc.credentials, secrets).missing():
                problems.append(ConfigProblem(
                    str(accounts_path), line_of(accounts_doc, ("accounts", acc_id, "credentials", name)),
                    f"accounts.{acc_id}.credentials.{name}", f"environment variable {var} is not set"))

    # routes/*.yaml
    routes: dict[str, Route] = {}
    route_files: dict[str, Path] = {}
    glossaries: dict[str, Glossary] = {}
    routes_dir = base / "routes"
    route_paths = sorted(routes_dir.glob("*.yaml")) + sorted(routes_dir.glob("*.yml"))
    if not route_paths:
        problems.append(ConfigProblem(str(routes_dir), None, "", "no route files (*.yaml) found"))
    seen_pairs: dict[tuple[str, str], str] = {}
    warnings: list[ConfigProblem] = []
    for path in route_paths:
        doc = _read_yaml(path, problems)
        if doc is None:
            continue
        raw_accounts = doc.data.get("accounts") if isinstance(doc.data, dict) else None
        if isinstance(raw_accounts, list) and accounts_doc is not None:
            # Checked on the raw data, so that a route with other errors still reports these.
            for i, acc_id in enumerate(raw_accounts):
                if isinstance(acc_id, str) and acc_id not in accounts and acc_id not in broken_accounts:
                    known = ", ".join(sorted(accounts)) or "none"
                    guess = did_you_mean(acc_id, accounts)
                    problems.append(ConfigProblem(str(path), line_of(doc, ("accounts", i)), f"accounts.{i}",
                                                  f"unknown account {acc_id!r} (accounts.yaml defines: {known})"
                                                  + (f"; did you mean {guess!r}?" if guess else "")))
        # What a route may not hold (variables, endpoints, engine options), with where it belongs now.
        refused, covered = route_file_problems(doc)
        problems.extend(refused)
        try:
            route = Route.model_validate(doc.data)
        except ValidationError as exc:
            problems.extend(p for p in _problems_from_validation(doc, exc, model=Route)
                            if not any(p.field == f or p.field.startswith(f + ".") for f in covered))
            continue
        if refused:
            continue
        warnings.extend(route_warnings(route, doc))
        if route.region in routes:
            problems.append(ConfigProblem(str(path), line_of(doc, ("region",)), "region",
                                          f"region {route.region!r} is also defined in {route_files[route.region]}"))
            continue
        for acc_id in route.utm_overrides:
            if acc_id not in route.accounts:
                problems.append(ConfigProblem(str(path), line_of(doc, ("utm_overrides", acc_id)),
                                              f"utm_overrides.{acc_id}", "not one of this route's accounts"))
        for loc in route.locales:
            for acc_id in route.accounts:
                other = seen_pairs.get((loc, acc_id))
                if other is not None:
                    problems.append(ConfigProblem(
                        str(path), line_of(doc, ("locales",)), "locales",
                        f"locale {loc} on account {acc_id!r} is also routed by region {other!r}"))
                seen_pairs[(loc, acc_id)] = route.region
        if route.translation.glossary:
            gpath = base / route.translation.glossary
            escape = outside_directory(base, route.translation.glossary)
            gdoc = _read_yaml(gpath, problems) if gpath.exists() and not escape else None
            if escape:
                problems.append(ConfigProblem(str(path), line_of(doc, ("translation", "glossary")),
                                              "translation.glossary", escape))
            elif not gpath.exists():
                problems.append(ConfigProblem(str(path), line_of(doc, ("translation", "glossary")),
                                              "translation.glossary", f"file {gpath} not found"))
            elif gdoc is not None:
                if not isinstance(gdoc.data, dict):
                    problems.append(ConfigProblem(str(gpath), 1, "", "a glossary is a mapping with 'terms' "
                                                  "and/or 'do_not_translate'"))
                else:
                    try:
                        glossaries[route.translation.glossary] = Glossary(GlossaryFile.model_validate(gdoc.data))
                    except ValidationError as exc:
                        problems.extend(_problems_from_validation(gdoc, exc, model=GlossaryFile))
        found, uses = route_translation_problems(route, doc, profiles)
        problems.extend(found)
        used_profiles |= uses
        routes[route.region] = route
        route_files[route.region] = path

    problems.extend(_shared_locale_problems(routes, route_files))
    if check_secrets and settings_doc is not None:
        problems.extend(_settings_secret_problems(sf, settings_doc, secrets))
        problems.extend(profile_secret_problems(used_profiles, profiles, settings_doc, secrets))
    if problems:
        raise ConfigError(sort_problems(problems), sort_problems(warnings))
    return Config(directory=base, routes=routes, accounts=accounts, secrets=secrets, registry=reg,
                  intake_limits=intake, worker=worker, glossaries=glossaries, route_files=route_files,
                  api=sf.api, notifications=sf.notifications, engagement=sf.engagement,
                  engine_profiles=dict(profiles), warnings=sort_problems(warnings))


def _settings_secret_problems(sf: _SettingsFile, doc: Document, secrets: SecretSource) -> list[ConfigProblem]:
    """Producer webhook secrets that do not resolve or are not signing keys (workers send the
    webhooks). API tokens are checked by ``syndicate api`` when it starts: only it needs them."""
    out: list[ConfigProblem] = []
    for name, hook in sf.notifications.webhooks.items():
        loc, ref = ("notifications", "webhooks", name, "secret"), hook.secret
        value = secrets.lookup(ref)
        if value is None:
            out.append(ConfigProblem(doc.source, line_of(doc, loc), ".".join(loc),
                                     f"environment variable {ref.var} is not set"))
        elif not re.fullmatch(r"(whsec_)?[A-Za-z0-9+/]{16,}={0,2}", value):
            out.append(ConfigProblem(doc.source, line_of(doc, loc), ".".join(loc),
                                     f"{ref.var} must hold a signing secret such as 'whsec_' + base64 of 24-64 "
                                     "random bytes"))
    return out
