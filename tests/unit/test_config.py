"""Config validation: every problem at once, each as file:line: field: message."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from syndicate.config.loading import load_config
from syndicate.errors import ConfigError
from tests.helpers import REPO, sandbox_accounts, simple_route


def errors_of(directory: Path, **kw: object) -> list[str]:
    with pytest.raises(ConfigError) as err:
        load_config(directory, **kw)  # type: ignore[arg-type]
    return [str(p) for p in err.value.problems]


def test_the_example_config_is_valid() -> None:
    cfg = load_config(REPO / "config")
    assert len(cfg.routes) >= 4
    assert {"north-america", "dach", "france", "japan"} <= set(cfg.routes)
    assert all(cfg.accounts[a].adapter for r in cfg.routes.values() for a in r.accounts)


def test_a_broken_routes_file_reports_every_error_with_file_and_line(config_dir: Callable[..., Path]) -> None:
    # Given a route file with five mistakes on different lines
    d = config_dir()
    bad = d / "routes" / "emea.yaml"
    bad.write_text(
        "region: emea\n"
        "locales: [en-GB, de_DE]\n"
        "timezone: Europe/Atlantis\n"
        "accounts: [sandbox-a, ghost]\n"
        "windows:\n"
        "  - days: [mon, funday]\n"
        "    start: '25:00'\n",
        encoding="utf-8")
    # When the config is loaded, then each mistake is reported with its line and field
    found = errors_of(d)
    assert f"{bad}:2: locales.1: 'de_DE' uses '_'; locales are BCP 47 tags with hyphens: did you mean 'de-DE'?" in found
    assert any(e.startswith(f"{bad}:3: timezone: ") and "IANA" in e for e in found)
    assert any(e.startswith(f"{bad}:6: windows.0.days.1: ") for e in found)
    assert any(e.startswith(f"{bad}:7: windows.0.start: ") and "HH:MM" in e for e in found)
    assert f"{bad}:4: accounts.1: unknown account 'ghost' (accounts.yaml defines: sandbox-a)" in found
    assert len([e for e in found if e.startswith(str(bad))]) == 5


def test_cross_file_references_are_checked(config_dir: Callable[..., Path]) -> None:
    d = config_dir(accounts=sandbox_accounts("a"), routes=[simple_route("r", ["en-US"], ["a", "nope"])])
    found = errors_of(d)
    assert found == [f"{d / 'routes' / 'r.yaml'}:7: accounts.1: unknown account 'nope' (accounts.yaml defines: a)"]


def test_unknown_adapter_and_bad_options_are_reported(config_dir: Callable[..., Path]) -> None:
    d = config_dir(accounts={"a": {"adapter": "carrier-pigeon"},
                             "b": {"adapter": "sandbox", "options": {"max_length": 5, "colour": "red"}}},
                   routes=[simple_route("r", ["en-US"], ["a", "b"])])
    found = errors_of(d)
    acc = d / "accounts.yaml"
    assert any(e.startswith(f"{acc}:3: accounts.a.adapter: unknown adapter 'carrier-pigeon'") for e in found)
    assert any(e.startswith(f"{acc}:") and "accounts.b.options.max_length" in e for e in found)
    assert any("accounts.b.options.colour: unknown field" in e for e in found)


def test_literal_secrets_are_refused_and_missing_env_vars_reported(config_dir: Callable[..., Path]) -> None:
    d = config_dir(accounts={"a": {"adapter": "sandbox", "credentials": {"token": "hunter2-literal"}},
                             "b": {"adapter": "sandbox", "credentials": {"token": "${SYNDICATE_TEST_UNSET_VAR}"}}},
                   routes=[simple_route("r", ["en-US"], ["a", "b"])])
    found = errors_of(d, environ={})
    assert any("accounts.a.credentials.token" in e and "never written in the file" in e for e in found)
    assert any("accounts.b.credentials.token: environment variable SYNDICATE_TEST_UNSET_VAR is not set" in e
               for e in found)
    assert not any("hunter2-literal" in e for e in found)
    # the same config is valid once the variable is set (literal aside)
    found2 = errors_of(d, environ={"SYNDICATE_TEST_UNSET_VAR": "x"})
    assert not any("SYNDICATE_TEST_UNSET_VAR" in e for e in found2)


def test_secrets_file_named_in_yaml_resolves_references(tmp_path: Path, config_dir: Callable[..., Path]) -> None:
    secrets = tmp_path / "secrets.env"
    secrets.write_text("# comment\nWH_SECRET=whsec_abc\n", encoding="utf-8")
    d = config_dir(accounts={"a": {"adapter": "sandbox", "credentials": {"token": "${WH_SECRET}"}}},
                   routes=[simple_route("r", ["en-US"], ["a"])])
    acc = d / "accounts.yaml"
    acc.write_text(f"secrets_file: {secrets}\n" + acc.read_text(encoding="utf-8"), encoding="utf-8")
    cfg = load_config(d, environ={})
    assert cfg.account_context("a").credentials.get("token") == "whsec_abc"


def test_same_locale_and_account_in_two_regions_is_refused(config_dir: Callable[..., Path]) -> None:
    d = config_dir(accounts=sandbox_accounts("a"),
                   routes=[simple_route("r1", ["en-US"], ["a"]), simple_route("r2", ["en-US"], ["a"])])
    found = errors_of(d)
    assert any("locale en-US on account 'a' is also routed by region 'r1'" in e for e in found)


def test_malformed_yaml_names_file_and_line(config_dir: Callable[..., Path]) -> None:
    d = config_dir()
    (d / "routes" / "broken.yaml").write_text("region: x\nlocales: [en-US\n", encoding="utf-8")
    found = errors_of(d)
    assert any(e.startswith(str(d / "routes" / "broken.yaml") + ":") and "invalid YAML" in e for e in found)


def test_missing_directory_says_how_to_point_at_one(tmp_path: Path) -> None:
    assert "give --config DIR or set SYNDICATE_CONFIG" in errors_of(tmp_path / "nowhere")[0]
