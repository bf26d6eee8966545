"""Translation engines: the registry of engines by name, and how each is built from its options.

Engines, by the name an engine profile gives in ``engine`` (routes name profiles, see
:mod:`syndicate.config.profiles`):

=============== =================================================================================
``deepl``       DeepL through the official ``deepl`` client (:mod:`.deepl_engine`)
``google``      Google Translate: the web endpoint through deep-translator (:mod:`.deep_translator_engines`),
                or the Cloud Translation API (``api: cloud``, :mod:`.http_engines`)
``microsoft``   Microsoft Translator v3, called directly (:mod:`.http_engines`)
``libretranslate`` LibreTranslate (self-hosted or libretranslate.com), called directly
``mymemory``    MyMemory through deep-translator (500 bytes per request: many requests)
``pseudo``      pseudo-localization, for demos and layout QA
``none``        the source text, unchanged (only when a route says so)
=============== =================================================================================

Each engine declares its options as a pydantic model (:mod:`.options`) (unknown options are refused at start-up,
with file and line). Credentials are ``${VAR}`` references only (``auth_key: ${DEEPL_AUTH_KEY}``),
resolved through :class:`~syndicate.base.secrets.SecretSource` when the engine is built and registered
for redaction; they never enter cache keys, logs or the ledger.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from ..base.secrets import SecretRef, SecretSource
from ..errors import TranslationRejected
from .options import (
    DeepLOptions,
    GoogleOptions,
    LibreTranslateOptions,
    MicrosoftOptions,
    MyMemoryOptions,
    NoEngineOptions,
    NoneTranslator,
    PseudoTranslator,
    Translator,
)

__all__ = ["ENGINES", "EngineSpec", "build_translator", "cache_identity", "engine_options"]

def _secret(name: str, option: str, ref: SecretRef | None, secrets: SecretSource) -> str | None:
    if ref is None:
        return None
    value = secrets.lookup(ref)
    if value is None:
        raise TranslationRejected(f"{name}: the engine option {option} needs the environment variable "
                                  f"{ref.var}, which is not set")
    return value


def _build_deepl(opts: Any, secrets: SecretSource) -> Translator:
    from .deepl_engine import DeepLTranslator

    key = _secret("deepl", "auth_key", opts.auth_key, secrets)
    assert key is not None
    return DeepLTranslator(opts, key)


def _build_google(opts: Any, secrets: SecretSource) -> Translator:
    if opts.api == "cloud":
        from .http_engines import GoogleCloudEngine

        key = _secret("google", "api_key", opts.api_key, secrets)
        assert key is not None
        return GoogleCloudEngine(opts, key)
    from .deep_translator_engines import GoogleEngine

    return GoogleEngine(opts)


def _build_microsoft(opts: Any, secrets: SecretSource) -> Translator:
    from .http_engines import MicrosoftEngine

    key = _secret("microsoft", "api_key", opts.api_key, secrets)
    assert key is not None
    return MicrosoftEngine(opts, key)


def _build_libre(opts: Any, secrets: SecretSource) -> Translator:
    from .http_engines import LibreTranslateEngine

    return LibreTranslateEngine(opts, _secret("libretranslate", "api_key", opts.api_key, secrets))


def _build_mymemory(opts: Any, secrets: SecretSource) -> Translator:
    from .deep_translator_engines import MyMemoryEngine

    return MyMemoryEngine(opts)


@dataclass(frozen=True)
class EngineSpec:
    """An engine: its name, its options model, and how to build it."""

    name: str
    options: type[BaseModel]
    build: Callable[[Any, SecretSource], Translator]
    #: Whether the engine calls a network service (``pseudo`` and ``none`` do not).
    remote: bool = True


#: Engine name → spec.
ENGINES: dict[str, EngineSpec] = {
    "none": EngineSpec("none", NoEngineOptions, lambda _o, _s: NoneTranslator(), remote=False),
    "pseudo": EngineSpec("pseudo", NoEngineOptions, lambda _o, _s: PseudoTranslator(), remote=False),
    "deepl": EngineSpec("deepl", DeepLOptions, _build_deepl),
    "google": EngineSpec("google", GoogleOptions, _build_google),
    "microsoft": EngineSpec("microsoft", MicrosoftOptions, _build_microsoft),
    "libretranslate": EngineSpec("libretranslate", LibreTranslateOptions, _build_libre),
    "mymemory": EngineSpec("mymemory", MyMemoryOptions, _build_mymemory),
}


def _spec(name: str) -> EngineSpec:
    try:
        return ENGINES[name]
    except KeyError:
        raise ValueError(f"unknown translation engine {name!r}; known: {', '.join(sorted(ENGINES))}") from None


def engine_options(name: str, options: Mapping[str, Any]) -> BaseModel:
    """``options`` validated for engine ``name``.

    Raises:
        ValueError: an unknown engine.
        pydantic.ValidationError: unknown, missing or invalid options.
    """
    return _spec(name).options.model_validate(dict(options))


def cache_identity(name: str, options: Mapping[str, Any]) -> dict[str, Any]:
    """The options that change what the engine answers (no credentials, no timeouts), for cache keys."""
    model = engine_options(name, options)
    secret: tuple[str, ...] = getattr(model, "SECRETS", ())
    skip = {*secret, "connect_timeout_s", "read_timeout_s", "retry_attempts", "max_request_bytes", "max_request_chars",
            "max_texts"}
    return {k: v for k, v in model.model_dump(mode="json").items() if k not in skip}


def build_translator(name: str, options: Mapping[str, Any], *, secrets: SecretSource | None = None) -> Translator:
    """The engine called ``name``, configured with ``options``.

    Args:
        name: the engine's name.
        options: the engine's options (an engine profile's ``options``).
        secrets: where ``${VAR}`` references resolve (default: the environment).

    Raises:
        ValueError: an unknown engine, or invalid options (the config check catches both first).
        TranslationRejected: a credential's variable is not set.
    """
    spec = _spec(name)
    return spec.build(spec.options.model_validate(dict(options)), secrets or SecretSource())
