"""Reloading the config: validated first, swapped whole, and never under a message already running."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml
from structlog.testing import capture_logs

from syndicate import Runtime
from syndicate.api.app import _tokens
from syndicate.config.reload import ConfigReloader
from tests.helpers import sandbox_accounts, simple_route


@pytest.fixture
def cfg_dir(config_dir: Callable[..., Path]) -> Path:
    return config_dir(accounts=sandbox_accounts("a", max_length=100), routes=[simple_route("r", ["en-US"], ["a"])])


@pytest.fixture
def rt(cfg_dir: Path, sqlite_url: str) -> Iterator[Runtime]:
    with Runtime.create(config=cfg_dir, database_url=sqlite_url, redis_url="") as runtime:
        yield runtime


def edit(path: Path, change: Callable[[dict[str, object]], None]) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")


def test_a_valid_change_is_swapped_in_and_described(rt: Runtime, cfg_dir: Path) -> None:
    # Given a longer max_length for account a and a new route
    edit(cfg_dir / "accounts.yaml", lambda d: d["accounts"]["a"]["options"].update(max_length=500))  # type: ignore[index]
    (cfg_dir / "routes" / "gb.yaml").write_text(yaml.safe_dump(simple_route("gb", ["en-GB"], ["a"])), encoding="utf-8")
    old = rt.config
    # When the config is reloaded
    with capture_logs() as logs:
        result = ConfigReloader(rt, check_secrets=False).reload()
    # Then the new one is in use, and the log says what changed
    assert result.ok and rt.config is not old
    assert rt.adapter("a").limits.max_length == 500
    assert result.changes == ("routes added: gb", "accounts changed: a")
    [event] = [e for e in logs if e["event"] == "config.reloaded"]
    assert event["changes"] == ["routes added: gb", "accounts changed: a"]


def test_an_invalid_change_keeps_the_old_config_and_logs_every_problem(rt: Runtime, cfg_dir: Path) -> None:
    # Given two mistakes: a time zone that does not exist and an account no one defined
    edit(cfg_dir / "routes" / "r.yaml", lambda d: d.update(timezone="Mars/Base", accounts=["a", "ghost"]))
    old = rt.config
    with capture_logs() as logs:
        result = ConfigReloader(rt, check_secrets=False).reload()
    # Then the old config stays, and both problems are logged with their file and line
    assert not result.ok and rt.config is old
    [event] = [e for e in logs if e["event"] == "config.reload_failed"]
    assert event["log_level"] == "error" and event["problem_count"] == 2
    assert any(": timezone: " in p and "Mars/Base" in p for p in event["problems"])
    assert any(": accounts.1: unknown account 'ghost'" in p for p in event["problems"])
    assert list(result.problems) == event["problems"]


def test_a_message_running_during_a_reload_keeps_the_config_it_started_with(rt: Runtime, cfg_dir: Path) -> None:
    # Given a thread that pinned the config (as every actor does for its message) and waits
    started, reloaded, seen = threading.Event(), threading.Event(), []

    def message() -> None:
        with rt.pinned_config():
            seen.append(rt.adapter("a").limits.max_length)
            started.set()
            reloaded.wait(10)
            seen.append(rt.adapter("a").limits.max_length)  # the same adapter, from the same config
        seen.append(rt.adapter("a").limits.max_length)  # the next "message" sees the new config

    t = threading.Thread(target=message)
    t.start()
    started.wait(10)
    # When the config is reloaded meanwhile
    edit(cfg_dir / "accounts.yaml", lambda d: d["accounts"]["a"]["options"].update(max_length=500))  # type: ignore[index]
    assert ConfigReloader(rt, check_secrets=False).reload().ok
    reloaded.set()
    t.join(10)
    # Then the running message saw 100 throughout, and the next one 500; this thread sees 500 now
    assert seen == [100, 100, 500]
    assert rt.config.accounts["a"].options["max_length"] == 500


def test_worker_settings_are_reported_as_needing_a_restart(rt: Runtime, cfg_dir: Path) -> None:
    (cfg_dir / "settings.yaml").write_text(yaml.safe_dump({"worker": {"threads": 2}}), encoding="utf-8")
    with capture_logs() as logs:
        result = ConfigReloader(rt, check_secrets=False).reload()
    assert result.ok and rt.config.worker.threads == 2
    assert result.restart_needed == ("worker settings (threads, processes, time limits, backoff) apply after a "
                                     "restart",)
    assert [e["event"] for e in logs if e["log_level"] == "warning"] == ["config.restart_needed"]


def test_a_process_check_can_refuse_a_config_the_file_rules_accept(
    rt: Runtime, cfg_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the API's check (at least one usable token) and a config whose token variable is unset
    monkeypatch.delenv("RELOAD_TEST_TOKEN", raising=False)
    (cfg_dir / "settings.yaml").write_text(yaml.safe_dump(
        {"api": {"tokens": {"cms": {"token": "${RELOAD_TEST_TOKEN}"}}}}), encoding="utf-8")
    old = rt.config
    result = ConfigReloader(rt, check_secrets=False, checks=[_tokens]).reload()
    # Then the reload is refused, naming the variable
    assert not result.ok and rt.config is old
    assert any("RELOAD_TEST_TOKEN must hold a token" in p for p in result.problems)


def test_a_failing_reload_hook_does_not_undo_a_valid_reload(rt: Runtime) -> None:
    def broken(_cfg: object) -> None:
        raise RuntimeError("boom")

    with capture_logs() as logs:
        result = ConfigReloader(rt, check_secrets=False, on_reload=[broken]).reload()
    assert result.ok
    assert "config.reload_hook_failed" in [e["event"] for e in logs]
