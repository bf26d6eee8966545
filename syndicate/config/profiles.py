"""Engine profiles: translation endpoints and keys belong to ops; routes only name a profile.

Regional marketers edit routes; ops own endpoints and secrets. So an engine's endpoint, the
environment variables it may read (its key) and its limits live in an ops-owned file,
``settings.yaml``, as a named profile::

    translation:
      engines:
        deepl-eu:
          engine: deepl
          options: {auth_key: "${DEEPL_AUTH_KEY}", server_url: "https://api.deepl.com"}

and a route names the profile, with the few knobs that are neither secret nor an endpoint::

    translation: {engine: deepl-eu, formality: prefer_more, glossary: glossaries/product.yaml,
                  do_not_translate: [Syndicate], review_required: true, fallback: hold}

``pseudo`` and ``none`` need no profile. A route that references an environment variable
anywhere (``${...}``), or holds an endpoint, a credential or an engine option, is refused by
``syndicate validate`` with file, line and field, saying where that setting belongs now.

This module holds the route's translation model (:class:`RouteTranslation`), the profile model
(:class:`EngineProfile`), their checks, and :func:`resolve`, which turns what a route says into
the engine and options that :func:`~syndicate.localization.localize_item` uses.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from pydantic import ValidationError

from ..base.hints import did_you_mean
from ..base.inputs import Document, line_of
from ..base.locales import UnsupportedLocale, engine_code
from ..base.secrets import SecretRef, SecretSource
from ..errors import ConfigProblem
from ..localization.engines import ENGINES
from ..localization.profiles import engine_of
from ..model.config import BUILT_IN, RESERVED, EngineProfile, Route, RouteTranslation
from .problems import problems_from_validation

__all__ = [
    "profile_problems",
    "profile_secret_problems",
    "route_file_problems",
    "route_translation_problems",
]

#: Where an engine setting found in a route belongs now.
WHERE_PROFILES_LIVE = ("ops define engine profiles in settings.yaml (translation.engines.NAME: {engine: ..., "
                       "options: {...}}) and a route names one in translation.engine or translation.fallback")
#: Keys that name an endpoint or hold a credential: never in a route, at any depth.
ENDPOINT_OR_CREDENTIAL_KEYS = frozenset({
    "base_url", "server_url", "custom_url", "url", "endpoint", "host", "proxy",
    "auth_key", "api_key", "apikey", "key", "token", "secret", "password", "credentials",
})

# -- checks ----------------------------------------------------------------------------------------


def _walk(data: Any, path: tuple[str | int, ...] = ()) -> Iterator[tuple[tuple[str | int, ...], Any]]:
    yield path, data
    if isinstance(data, dict):
        for k, v in data.items():
            yield from _walk(v, (*path, k))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            yield from _walk(v, (*path, i))


def _engine_option_names() -> frozenset[str]:
    names = {n for spec in ENGINES.values() for n in spec.options.model_fields}
    return frozenset(names - set(RouteTranslation.model_fields))


def route_file_problems(doc: Document) -> tuple[list[ConfigProblem], list[str]]:
    """What a route file may not hold, found in its raw data: any ``${VAR}`` reference, endpoint
    and credential keys anywhere, and engine options under ``translation``.

    Returns the problems and the dotted fields they cover (other problems under those fields,
    such as "unknown field", add nothing and are left out by the caller).
    """
    out: list[ConfigProblem] = []
    flagged: list[str] = []
    engine_options = _engine_option_names()

    def covered(dotted: str) -> bool:
        return any(dotted == f or dotted.startswith(f + ".") for f in flagged)

    def problem(path: tuple[str | int, ...], message: str) -> None:
        dotted = ".".join(str(p) for p in path)
        if covered(dotted):
            return
        flagged.append(dotted)
        out.append(ConfigProblem(doc.source, line_of(doc, path), dotted, message))

    for path, value in _walk(doc.data):
        key = path[-1] if path else None
        in_translation = len(path) == 2 and path[0] == "translation"
        if in_translation and key in ("options", "fallback_options"):
            problem(path, f"engine options are not set in routes any more: {WHERE_PROFILES_LIVE}; a route keeps "
                          "only formality, glossary, do_not_translate, review_required and fallback")
        elif isinstance(key, str) and key.lower() in ENDPOINT_OR_CREDENTIAL_KEYS and path[:1] != ("utm_overrides",):
            problem(path, f"{key!r} is an endpoint or a credential, and routes never hold either: engine endpoints "
                          f"and keys belong to ops ({WHERE_PROFILES_LIVE}); channel credentials to accounts.yaml")
        elif in_translation and isinstance(key, str) and key in engine_options:
            problem(path, f"{key!r} is an engine setting: {WHERE_PROFILES_LIVE}, with this setting in its options")
        elif isinstance(value, str) and "${" in value:
            problem(path, "routes never reference environment variables: secrets belong to ops, in an engine "
                          "profile in settings.yaml (translation.engines) or an account in accounts.yaml")
    return out, flagged


def _validation_problems(doc: Document, exc: ValidationError, prefix: tuple[str | int, ...]) -> list[ConfigProblem]:
    return problems_from_validation(doc, exc, prefix)


def profile_problems(profiles: Mapping[str, EngineProfile], doc: Document) -> list[ConfigProblem]:
    """Each profile's name, engine and options (validated as the engine declares them)."""
    out: list[ConfigProblem] = []
    known = ", ".join(sorted(ENGINES))
    for name, profile in profiles.items():
        base: tuple[str | int, ...] = ("translation", "engines", name)
        if name in RESERVED:
            out.append(ConfigProblem(doc.source, line_of(doc, base), ".".join(map(str, base)),
                                     f"{name!r} is reserved ({', '.join(sorted(RESERVED))}); give the profile "
                                     "another name"))
        spec = ENGINES.get(profile.engine)
        if spec is None:
            where = (*base, "engine")
            out.append(ConfigProblem(doc.source, line_of(doc, where), ".".join(map(str, where)),
                                     f"unknown engine {profile.engine!r}; "
                                     + (f"did you mean {guess!r}?" if (guess := did_you_mean(profile.engine, ENGINES))
                                        else f"known: {known}")))
            continue
        try:
            spec.options.model_validate(profile.options)
        except ValidationError as exc:
            out.extend(_validation_problems(doc, exc, (*base, "options")))
    return out


def profile_secret_problems(names: set[str], profiles: Mapping[str, EngineProfile], doc: Document,
                            secrets: SecretSource) -> list[ConfigProblem]:
    """The credential references of the profiles in ``names`` (those routes use) that do not resolve."""
    out: list[ConfigProblem] = []
    for name in sorted(names):
        profile = profiles.get(name)
        spec = ENGINES.get(profile.engine) if profile is not None else None
        if profile is None or spec is None:
            continue
        try:
            model = spec.options.model_validate(profile.options)
        except ValidationError:
            continue  # reported by profile_problems
        for opt in getattr(model, "SECRETS", ()):
            ref = getattr(model, opt, None)
            if isinstance(ref, SecretRef) and secrets.lookup(ref) is None:
                where = ("translation", "engines", name, "options", opt)
                out.append(ConfigProblem(doc.source, line_of(doc, where), ".".join(where),
                                         f"environment variable {ref.var} is not set"))
    return out


def route_translation_problems(route: Route, doc: Document, profiles: Mapping[str, EngineProfile]
                               ) -> tuple[list[ConfigProblem], set[str]]:
    """The route's engine and fallback name known engines (built in or profiles), its formality
    fits its engine, and the engines can translate into its locales. Returns the problems and the
    profiles the route uses."""
    t = route.translation
    out: list[ConfigProblem] = []
    used: set[str] = set()

    def problem(loc: tuple[str | int, ...], message: str) -> None:
        out.append(ConfigProblem(doc.source, line_of(doc, loc), ".".join(str(p) for p in loc), message))

    defined = ", ".join(sorted(profiles)) or "none"

    def unknown(name: str) -> str:
        hint = (f" ({name!r} is an engine: engines are set up by ops as profiles, with their endpoint and key)"
                if name in ENGINES and name not in BUILT_IN else "")
        guess = did_you_mean(name, [*profiles, *BUILT_IN])
        return (f"unknown engine profile {name!r}{hint}; "
                + (f"did you mean {guess!r}? " if guess and not hint else "")
                + f"settings.yaml defines: {defined}; built in: pseudo, none")

    engines: list[tuple[str, str]] = []
    for field, name in (("engine", t.engine), ("fallback", t.fallback)):
        if name is None or (field == "fallback" and name in ("hold", "source")):
            continue
        engine = engine_of(name, profiles)
        if name not in BUILT_IN and name in profiles:
            used.add(name)
        if engine is None:
            if name not in profiles:  # a profile with an unknown engine is reported in settings.yaml
                problem(("translation", field), unknown(name) if field == "engine"
                        else f"{unknown(name)}, or 'hold' or 'source'")
            continue
        engines.append((field, engine))
    kinds = dict(engines)
    if "engine" in kinds and kinds.get("fallback") == kinds["engine"]:
        problem(("translation", "fallback"),
                f"the fallback uses the same engine ({kinds['engine']}) as translation.engine; a fallback must be "
                "another engine (or 'hold' or 'source')")
    if t.formality is not None:
        primary = kinds.get("engine")
        if primary is None and t.engine is None:
            problem(("translation", "formality"), "formality without an engine")
        elif primary is not None and "formality" not in ENGINES[primary].options.model_fields:
            problem(("translation", "formality"),
                    f"the engine {primary} has no formality setting; leave formality out on this route")
    for _field, engine in engines:
        for i, loc in enumerate(route.locales):
            try:
                engine_code(engine, loc)
            except UnsupportedLocale as exc:
                problem(("locales", i), str(exc))
    return out, used
