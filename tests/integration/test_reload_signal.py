"""SIGHUP reloads the config of a running worker and a running API: real processes, real signals.

A valid change applies to the next message (and the API's next request); an invalid one is
logged with every problem and the process goes on with the config it had.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml

from tests.helpers import free_port, item_data, simple_route, write_config


class Process:
    """A `python -m syndicate ...` child whose JSON log lines (stderr) are collected as they come."""

    def __init__(self, args: list[str], env: dict[str, str], cwd: Path) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "syndicate", *args], cwd=cwd, env=env,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self.events: list[dict[str, Any]] = []
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.append(line)
            if line.startswith("{"):
                self.events.append(json.loads(line))

    def wait_for_event(self, name: str, after: int = 0, timeout: float = 60) -> dict[str, Any]:
        """The first event called ``name`` among the events logged after the first ``after``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [e for e in self.events[after:] if e.get("event") == name]
            if found:
                return found[0]
            assert self.proc.poll() is None, "".join(self.lines)
            time.sleep(0.05)
        raise AssertionError(f"no {name} event within {timeout} s:\n" + "".join(self.lines[-30:]))

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(60)
        self._reader.join(10)
        return code


def wait_until(condition: Callable[[], bool], what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def syndicate(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "syndicate", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=120)


@pytest.fixture
def base_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SYNDICATE_")}
    env["SYNDICATE_LOG_FORMAT"] = "json"
    return env


def accounts_writing_to(outbox: Path) -> dict[str, Any]:
    return {"a": {"adapter": "sandbox", "options": {"directory": str(outbox)}}}


@pytest.mark.timeout(240)
def test_a_worker_reloads_on_sighup_and_keeps_its_config_when_the_new_one_is_invalid(
    tmp_path: Path, base_env: dict[str, str], pg_url: str, redis_url: str, redis_namespace: str
) -> None:
    # Given a worker on Redis and PostgreSQL whose sandbox account writes to outbox-1
    first, second = tmp_path / "outbox-1", tmp_path / "outbox-2"
    route = simple_route("en", ["en-US"], ["a"])
    worker_cfg = write_config(tmp_path / "worker-config", accounts=accounts_writing_to(first), routes=[route])
    producer_cfg = write_config(tmp_path / "producer-config", accounts=accounts_writing_to(first), routes=[route])
    env = {**base_env, "SYNDICATE_DATABASE_URL": pg_url, "SYNDICATE_REDIS_URL": redis_url,
           "SYNDICATE_REDIS_NAMESPACE": redis_namespace}
    assert syndicate("migrate", env=env, cwd=tmp_path).returncode == 0
    worker = Process(["worker", "--threads", "2", "--config", str(worker_cfg)], env, tmp_path)
    try:
        worker.wait_for_event("worker.started")

        def publish(item_id: str) -> None:
            path = tmp_path / f"{item_id}.yaml"
            path.write_text(yaml.safe_dump(item_data(id=item_id)), encoding="utf-8")
            out = syndicate("enqueue", "--now", "--config", str(producer_cfg), str(path), env=env, cwd=tmp_path)
            assert out.returncode == 0, out.stderr

        def posted(outbox: Path, item_id: str) -> bool:
            return (outbox / "a" / item_id / "r1.en-US.0.txt").exists()

        publish("before")
        wait_until(lambda: posted(first, "before"), "the first post")
        # When the account is pointed at outbox-2 and the worker gets SIGHUP
        (worker_cfg / "accounts.yaml").write_text(yaml.safe_dump({"accounts": accounts_writing_to(second)}),
                                                  encoding="utf-8")
        mark = len(worker.events)
        worker.proc.send_signal(signal.SIGHUP)
        reloaded = worker.wait_for_event("config.reloaded", after=mark)
        # Then it says what changed, and the next post goes to outbox-2
        assert reloaded["changes"] == ["accounts changed: a"]
        publish("after")
        wait_until(lambda: posted(second, "after"), "the post after the reload")
        assert not posted(first, "after")
        # When an invalid route is written and the worker gets SIGHUP again
        (worker_cfg / "routes" / "en.yaml").write_text(yaml.safe_dump(
            {**route, "timezone": "Mars/Base", "accounts": ["a", "ghost"]}), encoding="utf-8")
        mark = len(worker.events)
        worker.proc.send_signal(signal.SIGHUP)
        failed = worker.wait_for_event("config.reload_failed", after=mark)
        # Then every problem is logged, and the worker goes on with the config it had
        assert failed["problem_count"] == 2
        assert any("timezone" in p and "Mars/Base" in p for p in failed["problems"])
        assert any("unknown account 'ghost'" in p for p in failed["problems"])
        publish("still")
        wait_until(lambda: posted(second, "still"), "a post after the refused reload")
    finally:
        code = worker.stop()
    assert code == 0, "".join(worker.lines[-30:])
    assert any(e.get("event") == "worker.stopped" for e in worker.events)


@pytest.mark.timeout(180)
def test_the_api_takes_new_tokens_on_sighup_and_refuses_a_config_without_a_valid_one(
    tmp_path: Path, base_env: dict[str, str]
) -> None:
    # Given an API with one token, and a second token's value in its environment
    a, b = "tok-a-0123456789abcdef", "tok-b-0123456789abcdef"
    settings: dict[str, Any] = {"api": {"tokens": {"cms": {"token": "${TOKEN_A}"}}}}
    cfg = write_config(tmp_path / "config", accounts=accounts_writing_to(tmp_path / "outbox"), settings=settings)
    env = {**base_env, "TOKEN_A": a, "TOKEN_B": b, "SYNDICATE_DATABASE_URL": f"sqlite:///{tmp_path / 'l.db'}"}
    port = free_port()
    api = Process(["api", "--port", str(port), "--config", str(cfg)], env, tmp_path)
    url = f"http://127.0.0.1:{port}/v1/items/nothing/publications"

    def status(token: str) -> int:
        try:
            return requests.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=5).status_code
        except requests.ConnectionError:
            return 0

    try:
        wait_until(lambda: status(a) == 404, "the API to answer")
        assert status(b) == 401
        # When the second token is added and the API gets SIGHUP
        settings["api"]["tokens"]["dashboard"] = {"token": "${TOKEN_B}", "scopes": ["read"]}
        (cfg / "settings.yaml").write_text(yaml.safe_dump(settings), encoding="utf-8")
        api.proc.send_signal(signal.SIGHUP)
        api.wait_for_event("config.reloaded")
        # Then it is accepted from then on
        assert status(b) == 404
        # When a config whose only token variable is unset is loaded
        mark = len(api.events)
        (cfg / "settings.yaml").write_text(yaml.safe_dump(
            {"api": {"tokens": {"cms": {"token": "${TOKEN_UNSET}"}}}}), encoding="utf-8")
        api.proc.send_signal(signal.SIGHUP)
        failed = api.wait_for_event("config.reload_failed", after=mark)
        # Then it is refused, naming the variable, and both tokens still work
        assert any("TOKEN_UNSET must hold a token" in p for p in failed["problems"])
        assert (status(a), status(b)) == (404, 404)
    finally:
        api.stop()


@pytest.mark.timeout(120)
def test_a_supervising_worker_passes_sighup_to_each_child(tmp_path: Path, base_env: dict[str, str]) -> None:
    # Given `syndicate worker --processes 2` (embedded ledger: the children need no broker for this)
    cfg = write_config(tmp_path / "config", accounts=accounts_writing_to(tmp_path / "outbox"))
    env = {**base_env, "SYNDICATE_DATABASE_URL": f"sqlite:///{tmp_path / 'l.db'}"}
    assert syndicate("migrate", env=env, cwd=tmp_path).returncode == 0
    parent = Process(["worker", "--processes", "2", "--threads", "1", "--config", str(cfg)], env, tmp_path)
    try:
        wait_until(lambda: sum(e.get("event") == "worker.started" for e in parent.events) == 2, "two children")
        # When the parent gets SIGHUP
        parent.proc.send_signal(signal.SIGHUP)
        # Then both children reload, and the parent is still running
        wait_until(lambda: sum(e.get("event") == "config.reloaded" for e in parent.events) == 2, "two reloads")
        assert parent.proc.poll() is None
    finally:
        code = parent.stop()
    assert code == 0
