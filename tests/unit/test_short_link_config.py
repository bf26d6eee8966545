"""Short-link settings: where the base URL may be said, and what ``syndicate validate`` answers."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from syndicate.config.loading import load_config
from syndicate.errors import ConfigError
from syndicate.intake.shortlinks import preview_short_url, short_link_settings
from tests.helpers import sandbox_accounts, simple_route

BASE = "https://go.example.com/r/"


def errors_of(directory: Path) -> list[str]:
    with pytest.raises(ConfigError) as err:
        load_config(directory)
    return [str(p) for p in err.value.problems]


def test_a_route_turns_short_links_on_under_the_settings_base_url(config_dir: Callable[..., Path]) -> None:
    d = config_dir(accounts=sandbox_accounts("a", "b"),
                   routes=[simple_route("on", ["en-US"], ["a"], short_links=True),
                           simple_route("off", ["en-GB"], ["b"])],
                   settings={"short_links": {"base_url": BASE}})
    cfg = load_config(d)
    on = short_link_settings(cfg, account="a", region="on")
    assert on is not None and on.base_url == BASE and on.shortener == "builtin"
    assert short_link_settings(cfg, account="b", region="off") is None
    # A preview shows a code of the real length in its place
    assert preview_short_url(cfg, account="a", region="on") == BASE + "0" * 10


def test_an_accounts_own_setting_wins_over_the_routes(config_dir: Callable[..., Path]) -> None:
    accounts = sandbox_accounts("a", "b")
    accounts["a"]["short_links"] = {"base_url": "https://l.example.org/"}
    d = config_dir(accounts=accounts, routes=[simple_route("r", ["en-US"], ["a", "b"], short_links=True)],
                   settings={"short_links": {"base_url": BASE}})
    cfg = load_config(d)
    assert short_link_settings(cfg, account="a", region="r").base_url == "https://l.example.org/"  # type: ignore[union-attr]
    assert short_link_settings(cfg, account="b", region="r").base_url == BASE  # type: ignore[union-attr]


def test_a_route_with_short_links_but_no_base_url_is_refused_naming_the_accounts(
    config_dir: Callable[..., Path]
) -> None:
    d = config_dir(accounts=sandbox_accounts("a"), routes=[simple_route("r", ["en-US"], ["a"], short_links=True)])
    found = errors_of(d)
    route = d / "routes" / "r.yaml"
    assert len(found) == 1 and found[0].startswith(f"{route}:")
    assert ": short_links: " in found[0] and "settings.yaml has no short_links.base_url" in found[0]
    assert "account(s) a set none" in found[0]


def test_a_route_may_not_name_the_base_url_itself(config_dir: Callable[..., Path]) -> None:
    # Routes never hold endpoints (docs/security.md): the base URL is ops' to set
    d = config_dir(accounts=sandbox_accounts("a"),
                   routes=[simple_route("r", ["en-US"], ["a"], short_links={"base_url": BASE})])
    found = errors_of(d)
    assert any(": short_links.base_url: " in p and "routes never hold" in p for p in found), found


@pytest.mark.parametrize(("url", "reason"), [
    ("https://go.example.com/r", "must end with '/'"),
    ("https://go.example.com/r/?x=1", "must not hold a query"),
    ("ftp://go.example.com/r/", ""),
    ("go.example.com/r/", ""),
])
def test_a_bad_base_url_is_refused_with_file_line_and_field(config_dir: Callable[..., Path], url: str,
                                                            reason: str) -> None:
    d = config_dir(accounts=sandbox_accounts("a"), routes=[simple_route("r", ["en-US"], ["a"])],
                   settings={"short_links": {"base_url": url}})
    [problem] = errors_of(d)
    assert problem.startswith(f"{d / 'settings.yaml'}:2: short_links.base_url: ") and reason in problem
