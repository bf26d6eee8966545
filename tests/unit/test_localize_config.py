"""Routes' translation settings are checked at start-up: engines, options, credentials, locales,
glossary files, and locales shared by several regions."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from syndicate.config import load_config
from syndicate.errors import ConfigError
from tests.helpers import REPO, sandbox_accounts, simple_route

ENV = {"DEEPL_AUTH_KEY": "k-123456:fx", "MS_KEY": "ms-123456"}


def problems(cfg_dir: Path, environ: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(ConfigError) as exc:
        load_config(cfg_dir, environ=ENV if environ is None else environ)
    return [str(p) for p in exc.value.problems]


def route(translation: dict[str, Any], locales: list[str] | None = None, region: str = "r") -> dict[str, Any]:
    return simple_route(region, locales or ["de-DE"], ["a"], translation=translation)


def test_a_deepl_route_with_a_glossary_loads(config_dir: Callable[..., Path]) -> None:
    # Given a DeepL route naming a glossary file
    d = config_dir(accounts=sandbox_accounts("a"), routes=[route(
        {"engine": "deepl", "options": {"auth_key": "${DEEPL_AUTH_KEY}", "formality": "prefer_more"},
         "glossary": "glossaries/g.yaml", "fallback": "microsoft", "fallback_options": {"api_key": "${MS_KEY}"}})],
        extra_files={"glossaries/g.yaml": "do_not_translate: [Syndicate]\nterms:\n  free trial:\n"
                                          "    de: kostenlose Testversion\n"})
    # When loaded / Then the glossary is parsed and resolves for German
    cfg = load_config(d, environ=ENV)
    gloss = cfg.glossary_for(cfg.routes["r"])
    assert gloss is not None
    assert gloss.resolve("de-AT").replacements == {"free trial": "kostenlose Testversion"}


def test_an_unknown_engine_and_fallback_are_named_with_file_and_line(config_dir: Callable[..., Path]) -> None:
    d = config_dir(accounts=sandbox_accounts("a"), routes=[route({"engine": "babelfish", "fallback": "pigeon"})])
    found = problems(d)
    assert any("r.yaml:" in p and "translation.engine: unknown engine 'babelfish'; known: deepl" in p for p in found)
    assert any("translation.fallback: unknown fallback 'pigeon'" in p for p in found)


def test_an_unknown_option_is_refused(config_dir: Callable[..., Path]) -> None:
    d = config_dir(accounts=sandbox_accounts("a"), routes=[route(
        {"engine": "deepl", "options": {"auth_key": "${DEEPL_AUTH_KEY}", "formalty": "more"}})])
    assert any("translation.options.formalty: unknown field" in p for p in problems(d))


def test_a_literal_key_in_a_route_file_is_refused(config_dir: Callable[..., Path]) -> None:
    # Given a key written into the route file / Then it is refused, and the message does not repeat it
    d = config_dir(accounts=sandbox_accounts("a"), routes=[route({"engine": "deepl",
                                                                 "options": {"auth_key": "sk-live-abcdef"}})])
    found = problems(d)
    assert any("translation.options.auth_key" in p and "environment reference" in p for p in found)
    assert not any("sk-live-abcdef" in p for p in found)


def test_an_unset_credential_variable_is_reported(config_dir: Callable[..., Path]) -> None:
    d = config_dir(accounts=sandbox_accounts("a"), routes=[route({"engine": "deepl",
                                                                 "options": {"auth_key": "${DEEPL_AUTH_KEY}"}})])
    assert any("translation.options.auth_key: environment variable DEEPL_AUTH_KEY is not set" in p
               for p in problems(d, environ={}))


def test_a_locale_the_engine_cannot_translate_into_is_reported(config_dir: Callable[..., Path]) -> None:
    d = config_dir(accounts=sandbox_accounts("a"), routes=[route({"engine": "libretranslate"},
                                                                 locales=["de-DE", "zh-TW"])])
    assert any("locales.1: the libretranslate engine cannot translate into zh-TW" in p for p in problems(d))


def test_options_for_a_fallback_that_is_not_an_engine_are_refused(config_dir: Callable[..., Path]) -> None:
    d = config_dir(accounts=sandbox_accounts("a"), routes=[route({"engine": "pseudo", "fallback": "source",
                                                                 "fallback_options": {"x": 1}})])
    assert any("fallback_options: options for a fallback that is not an engine" in p for p in problems(d))


def test_a_malformed_glossary_is_reported_in_the_glossary_file(config_dir: Callable[..., Path]) -> None:
    d = config_dir(accounts=sandbox_accounts("a"), routes=[route({"engine": "pseudo",
                                                                 "glossary": "glossaries/g.yaml"})],
                   extra_files={"glossaries/g.yaml": "terms:\n  free trial:\n    de_DE: Testversion\n"})
    assert any("g.yaml:" in p and "did you mean 'de-DE'" in p for p in problems(d))


def test_a_locale_routed_by_two_regions_needs_the_same_translation_settings(config_dir: Callable[..., Path]) -> None:
    # Given de-DE in two regions, one with DeepL and one with pseudo, in different time zones
    a = simple_route("one", ["de-DE"], ["a"], translation={"engine": "pseudo"})
    b = simple_route("two", ["de-DE"], ["b"], timezone="Europe/Berlin",
                     translation={"engine": "deepl", "options": {"auth_key": "${DEEPL_AUTH_KEY}"}})
    d = config_dir(accounts=sandbox_accounts("a", "b"), routes=[a, b])
    # Then both differences are reported: a locale is localized once
    found = problems(d)
    assert any("locale de-DE is also routed by region 'one' with other translation settings" in p for p in found)
    assert any("time zones must match" in p for p in found)


def test_the_example_config_validates() -> None:
    # Given the repository's example config / Then it loads (glossary included) without secrets
    cfg = load_config(REPO / "config", environ={}, check_secrets=False)
    assert cfg.routes
