"""Routes name engine profiles; endpoints, keys and the variables an engine may read belong to
ops (settings.yaml). A route that references a variable, names an endpoint or holds a credential
or an engine option is refused with file, line and field and told where that setting lives now;
plain http to an engine host that is not this machine is refused."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from syndicate.base.secrets import SecretSource
from syndicate.cli import main
from syndicate.config.loading import load_config
from syndicate.errors import ConfigError
from syndicate.localization.engines import build_translator
from syndicate.localization.profiles import translation_settings
from tests.helpers import sandbox_accounts, simple_route

ENV = {"DEEPL_AUTH_KEY": "k-123456:fx", "SYNDICATE_DATABASE_URL": "postgresql://ops:s3cret@db/ledger"}


def line(d: Path, starts: str) -> int:
    """The 1-based line of the route file that starts with ``starts``."""
    lines = (d / "routes" / "emea.yaml").read_text(encoding="utf-8").splitlines()
    return next(i for i, text in enumerate(lines, 1) if text.startswith(starts))


def problems(d: Path, environ: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(ConfigError) as exc:
        load_config(d, environ=ENV if environ is None else environ)
    return [str(p) for p in exc.value.problems]


def config(config_dir: Callable[..., Path], translation: dict[str, Any], *, settings: dict[str, Any] | None = None,
           **route_extra: Any) -> Path:
    return config_dir(accounts=sandbox_accounts("a"), settings=settings,
                      routes=[simple_route("emea", ["de-DE"], ["a"], translation=translation, **route_extra)])


def profile(engine: str = "deepl", **options: Any) -> dict[str, Any]:
    opts = {"auth_key": "${DEEPL_AUTH_KEY}"} if engine == "deepl" else {}
    return {"translation": {"engines": {"mt": {"engine": engine, "options": {**opts, **options}}}}}


def test_a_route_that_sends_a_variable_to_another_host_is_refused_and_told_where_engines_live(
        config_dir: Callable[..., Path]) -> None:
    # Given the route from the report: the ledger's URL as DeepL's key, sent to a host of the author's choice
    d = config(config_dir, {"engine": "deepl", "options": {"auth_key": "${SYNDICATE_DATABASE_URL}",
                                                           "server_url": "https://collector.example"}})
    # When validated
    found = problems(d)
    # Then it is refused once, at the line of translation.options, pointing to settings.yaml; the
    # variable's value is in no message
    [refused] = [p for p in found if "translation.options" in p]
    assert "engine options are not set in routes" in refused
    assert f"emea.yaml:{line(d, '  options:')}: translation.options:" in refused
    assert "settings.yaml (translation.engines.NAME" in refused
    assert not any("unknown field" in p for p in found)
    assert not any("s3cret" in p for p in found)


@pytest.mark.parametrize(("where", "route_extra"), [
    ("description", {"description": "EMEA ${SYNDICATE_DATABASE_URL}"}),
    ("translation.do_not_translate.0", {"translation": {"engine": "pseudo", "do_not_translate": ["${HOME}"]}}),
    ("utm.source", {"utm": {"source": "${SYNDICATE_API_TOKEN}"}}),
])
def test_a_variable_reference_anywhere_in_a_route_is_refused(config_dir: Callable[..., Path], where: str,
                                                             route_extra: dict[str, Any]) -> None:
    translation = route_extra.pop("translation", {"engine": "pseudo"})
    d = config(config_dir, translation, **route_extra)
    found = [p for p in problems(d) if f": {where}: " in p]
    assert len(found) == 1 and "routes never reference environment variables" in found[0], found
    assert "emea.yaml:" in found[0]


@pytest.mark.parametrize("key", ["base_url", "server_url", "api_key", "auth_key", "read_timeout_s"])
def test_an_endpoint_credential_or_engine_option_in_a_route_is_refused(config_dir: Callable[..., Path],
                                                                       key: str) -> None:
    d = config(config_dir, {"engine": "mt", key: "https://collector.example" if "url" in key else "x"},
               settings=profile())
    [found] = [p for p in problems(d) if f"translation.{key}" in p]
    assert "settings.yaml (translation.engines.NAME" in found and "unknown field" not in found


@pytest.mark.parametrize("url", ["http://translate.example.com", "http://10.0.0.7:5000", "http://169.254.169.254/"])
def test_plain_http_to_an_engine_host_that_is_not_this_machine_is_refused(config_dir: Callable[..., Path],
                                                                          url: str) -> None:
    d = config(config_dir, {"engine": "mt"}, settings=profile("libretranslate", base_url=url))
    [found] = [p for p in problems(d) if "translation.engines.mt.options.base_url" in p]
    assert "settings.yaml:" in found and "plain http://" in found and "use https://" in found
    # And a Python caller building the engine is refused the same way
    with pytest.raises(ValueError, match="plain http://"):
        build_translator("libretranslate", {"base_url": url}, secrets=SecretSource(environ={}))


@pytest.mark.parametrize("url", ["https://translate.example.com", "http://127.0.0.1:5000", "http://localhost:5000",
                                 "http://[::1]:5000"])
def test_https_or_http_on_this_machine_is_accepted(config_dir: Callable[..., Path], url: str) -> None:
    d = config(config_dir, {"engine": "mt"}, settings=profile("libretranslate", base_url=url))
    cfg = load_config(d, environ=ENV)
    assert translation_settings(cfg.routes["emea"], cfg.engine_profiles).options["base_url"] == url


@pytest.mark.parametrize("engine", ["pseudo", "none"])
def test_the_built_in_engines_need_no_profile(config_dir: Callable[..., Path], engine: str) -> None:
    d = config(config_dir, {"engine": engine, "fallback": "source"})
    cfg = load_config(d, environ={})
    assert translation_settings(cfg.routes["emea"], cfg.engine_profiles).engine == engine


def test_naming_an_engine_instead_of_a_profile_says_how_engines_are_set_up(config_dir: Callable[..., Path]) -> None:
    d = config(config_dir, {"engine": "deepl"})
    [found] = [p for p in problems(d) if "translation.engine:" in p]
    assert "unknown engine profile 'deepl'" in found and "set up by ops as profiles" in found


def test_a_route_chooses_formality_and_the_profile_keeps_the_rest(config_dir: Callable[..., Path]) -> None:
    d = config(config_dir, {"engine": "mt", "formality": "prefer_less"},
               settings=profile(formality="prefer_more", server_url="https://api.deepl.com"))
    settings = translation_settings((cfg := load_config(d, environ=ENV)).routes["emea"], cfg.engine_profiles)
    assert settings.options == {"auth_key": "${DEEPL_AUTH_KEY}", "formality": "prefer_less",
                                "server_url": "https://api.deepl.com"}


def test_formality_on_an_engine_without_it_is_refused(config_dir: Callable[..., Path]) -> None:
    d = config(config_dir, {"engine": "mt", "formality": "more"}, settings=profile("google"))
    assert any("translation.formality: the engine google has no formality setting" in p for p in problems(d))


def test_a_fallback_on_the_same_engine_is_refused(config_dir: Callable[..., Path]) -> None:
    settings = profile()
    settings["translation"]["engines"]["mt-us"] = {"engine": "deepl", "options": {"auth_key": "${DEEPL_AUTH_KEY}"}}
    d = config(config_dir, {"engine": "mt", "fallback": "mt-us"}, settings=settings)
    assert any("translation.fallback: the fallback uses the same engine (deepl)" in p for p in problems(d))


@pytest.mark.parametrize("name", ["hold", "source", "pseudo", "none"])
def test_a_profile_may_not_take_a_reserved_name(config_dir: Callable[..., Path], name: str) -> None:
    settings = {"translation": {"engines": {name: {"engine": "google"}}}}
    d = config(config_dir, {"engine": "pseudo"}, settings=settings)
    assert any(f"translation.engines.{name}: '{name}' is reserved" in p for p in problems(d))


def test_syndicate_validate_refuses_the_old_route_form_with_file_line_and_field(
        config_dir: Callable[..., Path], monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a route in the old form, as a regional marketer might still write it
    d = config(config_dir, {"engine": "deepl", "options": {"auth_key": "${DEEPL_AUTH_KEY}"}})
    monkeypatch.setenv("DEEPL_AUTH_KEY", "k-123456:fx")
    # When validated from the command line
    result = CliRunner().invoke(main, ["validate", "--config", str(d)])
    # Then it exits 2 and says where the setting belongs now
    assert result.exit_code == 2, result.output
    assert (f"routes/emea.yaml:{line(d, '  options:')}: translation.options: engine options are not set in routes"
            in result.output)
    assert "settings.yaml" in result.output


def test_a_route_names_any_profile_name_settings_yaml_allows(config_dir: Callable[..., Path]) -> None:
    settings = {"translation": {"engines": {"deepl.eu-2": {"engine": "google"}}}}
    d = config(config_dir, {"engine": "deepl.eu-2"}, settings=settings)
    cfg = load_config(d, environ={})
    assert translation_settings(cfg.routes["emea"], cfg.engine_profiles).engine == "google"
