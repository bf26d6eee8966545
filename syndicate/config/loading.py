"""Routes and channel accounts: the YAML that regional marketers and ops write.

Layout of a config directory::

    config/
      accounts.yaml        channel accounts, by id
      routes/*.yaml        one file per region
      settings.yaml        optional: intake limits, worker defaults, API tokens, engine profiles
      glossaries/*.yaml    optional: term lists that routes name

Routes are edited by regional marketers; accounts and settings by ops. A route never references
an environment variable or names an endpoint: it names accounts by id and engine profiles by
name (see :mod:`syndicate.config.profiles`).

:func:`load_config` reads and checks everything and raises :class:`~syndicate.errors.ConfigError`
with **every** problem, each as ``file:line: field: message``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path, PurePosixPath, PureWindowsPath

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)

from ..base.hints import did_you_mean
from ..base.inputs import Document, InputError, line_of, load_yaml
from ..base.secrets import Credentials, SecretSource
from ..channels.contract import POLICY_NEEDS, Adapter, AdapterRegistry, RevisionPolicy, default_registry
from ..errors import ConfigError, ConfigProblem
from ..model.config import (
    Account,
    ApiSettings,
    Config,
    EngagementSettings,
    NotificationSettings,
    Route,
    ShortLinks,
    Slug,
    TranslationProfiles,
    WorkerSettings,
)
from ..model.glossary import Glossary, GlossaryFile
from ..model.item import IntakeLimits
from .problems import problems_from_validation, route_warnings, sort_problems
from .profiles import (
    profile_problems,
    profile_secret_problems,
    route_file_problems,
    route_translation_problems,
)

__all__ = ["config_dir_from_env", "load_config", "outside_directory"]


class _Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


class _AccountsFile(_Strict):
    secrets_file: str | None = None
    accounts: dict[Slug, Account]


class _SettingsFile(_Strict):
    intake: dict[str, int] = Field(default_factory=dict)
    worker: WorkerSettings = Field(default_factory=WorkerSettings)
    api: ApiSettings = Field(default_factory=ApiSettings)
    notifications: NotificationSettings = Field(default_factory=NotificationSettings)
    engagement: EngagementSettings = Field(default_factory=EngagementSettings)
    short_links: ShortLinks | None = None
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
                    problems.extend(_revision_policy_problems(cls, acc, acc_id, str(accounts_path),
                                                              line_of(accounts_doc, (*apath, "on_revision"))))
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
        if route.short_links and sf.short_links is None:
            bare = [a for a in route.accounts if a in accounts and accounts[a].short_links is None]
            if bare:
                problems.append(ConfigProblem(
                    str(path), line_of(doc, ("short_links",)), "short_links",
                    f"the route posts short links, but settings.yaml has no short_links.base_url (where "
                    f"'syndicate links serve' answers) and account(s) {', '.join(bare)} set none of their own"))
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
                  api=sf.api, notifications=sf.notifications, engagement=sf.engagement, short_links=sf.short_links,
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


def _revision_policy_problems(cls: type[Adapter], acc: Account, acc_id: str, path: str, line: int | None
                              ) -> list[ConfigProblem]:
    """An ``on_revision`` the account's adapter cannot carry out (``reply`` on a blog, say)."""
    if acc.on_revision is None:
        return []
    needs = POLICY_NEEDS[RevisionPolicy(acc.on_revision)]
    if needs is None or needs in cls.capabilities:
        return []
    can = [p.value for p, n in POLICY_NEEDS.items() if n is None or n in cls.capabilities]
    return [ConfigProblem(path, line, f"accounts.{acc_id}.on_revision",
                          f"adapter {acc.adapter!r} cannot {'reply to' if needs.value == 'reply' else needs.value} "
                          f"posts, so {acc.on_revision!r} is not "
                          f"possible; choose one of {', '.join(can)}")]
