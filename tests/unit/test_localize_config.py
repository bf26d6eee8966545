"""Translation settings are checked at start-up: the engine profiles of settings.yaml (engines,
options, credentials) and the routes naming them (profiles, locales, glossary files, locales
shared by several regions)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from syndicate.config.loading import load_config
from syndicate.errors import ConfigError
from syndicate.localization.profiles import translation_settings
from tests.helpers import REPO, sandbox_accounts, simple_route

ENV = {"DEEPL_AUTH_KEY": "k-123456:fx", "MS_KEY": "ms-123456"}
#: settings.yaml (ops' file) with the engine profiles the routes below name.
PROFILES: dict[str, Any] = {"translation": {"engines": {
    "deepl-eu": {"engine": "deepl", "options": {"auth_key": "${DEEPL_AUTH_KEY}", "formality": "prefer_more"}},
    "ms-eu": {"engine": "microsoft", "options": {"api_key": "${MS_KEY}", "region": "westeurope"}},
    "libre": {"engine": "libretranslate", "options": {"base_url": "https://translate.example.com"}},
}}}


def problems(cfg_dir: Path, environ: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(ConfigError) as exc:
        load_config(cfg_dir, environ=ENV if environ is None else environ)
    return [str(p) for p in exc.value.problems]


def route(translation: dict[str, Any], locales: list[str] | None = None, region: str = "r") -> dict[str, Any]:
    return simple_route(region, locales or ["de-DE"], ["a"], translation=translation)


def with_profile(name: str, engine: str, **options: Any) -> dict[str, Any]:
    return {"translation": {"engines": {name: {"engine": engine, "options": options}}}}


def test_a_deepl_route_with_a_glossary_loads(config_dir: Callable[..., Path]) -> None:
    # Given a route naming a DeepL profile, a Microsoft fallback profile and a glossary file
    d = config_dir(accounts=sandbox_accounts("a"), settings=PROFILES, routes=[route(
        {"engine": "deepl-eu", "glossary": "glossaries/g.yaml", "fallback": "ms-eu"})],
        extra_files={"glossaries/g.yaml": "do_not_translate: [Syndicate]\nterms:\n  free trial:\n"
                                          "    de: kostenlose Testversion\n"})
    # When loaded / Then the glossary is parsed and resolves for German, and the engines resolve
    cfg = load_config(d, environ=ENV)
    gloss = cfg.glossary_for(cfg.routes["r"])
    assert gloss is not None
    assert gloss.resolve("de-AT").replacements == {"free trial": "kostenlose Testversion"}
    settings = translation_settings(cfg.routes["r"], cfg.engine_profiles)
    assert settings.engine == "deepl" and settings.options["formality"] == "prefer_more"
    assert settings.fallback == "microsoft" and settings.fallback_options["region"] == "westeurope"


def test_an_unknown_engine_and_fallback_are_named_with_file_and_line(config_dir: Callable[..., Path]) -> None:
    d = config_dir(accounts=sandbox_accounts("a"), settings=PROFILES,
                   routes=[route({"engine": "babelfish", "fallback": "pigeon"})])
    found = problems(d)
    assert any("r.yaml:" in p and "translation.engine: unknown engine profile 'babelfish'; settings.yaml defines: "
               "deepl-eu, libre, ms-eu; built in: pseudo, none" in p for p in found)
    assert any("translation.fallback: unknown engine profile 'pigeon'" in p and "'hold' or 'source'" in p
               for p in found)


def test_an_unknown_engine_in_a_profile_is_named_in_settings(config_dir: Callable[..., Path]) -> None:
    d = config_dir(accounts=sandbox_accounts("a"), settings=with_profile("mt", "babelfish"),
                   routes=[route({"engine": "mt"})])
    found = problems(d)
    assert any("settings.yaml:" in p and "translation.engines.mt.engine: unknown engine 'babelfish'; known: deepl"
               in p for p in found)
    assert not any("r.yaml" in p for p in found)


def test_an_unknown_option_is_refused(config_dir: Callable[..., Path]) -> None:
    d = config_dir(accounts=sandbox_accounts("a"), routes=[route({"engine": "mt"})],
                   settings=with_profile("mt", "deepl", auth_key="${DEEPL_AUTH_KEY}", formalty="more"))
    assert any("settings.yaml:" in p and "translation.engines.mt.options.formalty: unknown field" in p
               for p in problems(d))


def test_a_literal_key_in_a_profile_is_refused(config_dir: Callable[..., Path]) -> None:
    # Given a key written into settings.yaml / Then it is refused, and the message does not repeat it
    d = config_dir(accounts=sandbox_accounts("a"), routes=[route({"engine": "mt"})],
                   settings=with_profile("mt", "deepl", auth_key="sk-live-abcdef"))
    found = problems(d)
    assert any("translation.engines.mt.options.auth_key" in p and "environment reference" in p for p in found)
    assert not any("sk-live-abcdef" in p for p in found)


def test_an_unset_credential_variable_of_a_profile_in_use_is_reported(config_dir: Callable[..., Path]) -> None:
    # Given two profiles whose variables are unset, only one of which a route names
    d = config_dir(accounts=sandbox_accounts("a"), settings=PROFILES, routes=[route({"engine": "deepl-eu"})])
    found = problems(d, environ={})
    # Then only the one in use is reported, in settings.yaml
    assert any("settings.yaml:" in p and "translation.engines.deepl-eu.options.auth_key: environment variable "
               "DEEPL_AUTH_KEY is not set" in p for p in found)
    assert not any("MS_KEY" in p for p in found)


def test_a_locale_the_engine_cannot_translate_into_is_reported(config_dir: Callable[..., Path]) -> None:
    d = config_dir(accounts=sandbox_accounts("a"), settings=PROFILES,
                   routes=[route({"engine": "libre"}, locales=["de-DE", "zh-TW"])])
    assert any("locales.1: the libretranslate engine cannot translate into zh-TW" in p for p in problems(d))


def test_a_malformed_glossary_is_reported_in_the_glossary_file(config_dir: Callable[..., Path]) -> None:
    d = config_dir(accounts=sandbox_accounts("a"), routes=[route({"engine": "pseudo",
                                                                 "glossary": "glossaries/g.yaml"})],
                   extra_files={"glossaries/g.yaml": "terms:\n  free trial:\n    de_DE: Testversion\n"})
    assert any("g.yaml:" in p and "did you mean 'de-DE'" in p for p in problems(d))


def test_a_locale_routed_by_two_regions_needs_the_same_translation_settings(config_dir: Callable[..., Path]) -> None:
    # Given de-DE in two regions, one with DeepL and one with pseudo, in different time zones
    a = simple_route("one", ["de-DE"], ["a"], translation={"engine": "pseudo"})
    b = simple_route("two", ["de-DE"], ["b"], timezone="Europe/Berlin", translation={"engine": "deepl-eu"})
    d = config_dir(accounts=sandbox_accounts("a", "b"), routes=[a, b], settings=PROFILES)
    # Then both differences are reported: a locale is localized once
    found = problems(d)
    assert any("locale de-DE is also routed by region 'one' with other translation settings" in p for p in found)
    assert any("time zones must match" in p for p in found)


def test_the_example_config_validates() -> None:
    # Given the repository's example config / Then it loads (glossary included) without secrets
    cfg = load_config(REPO / "config", environ={}, check_secrets=False)
    assert cfg.routes
