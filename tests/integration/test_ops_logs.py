"""What ops read in the logs: one line per fact, every line our JSON, each naming what it is about.

Processes are started as ops start them (``syndicate migrate``, ``syndicate api``) and their stderr
is read line by line; in-process events are read with structlog's ``capture_logs``.
"""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from structlog.testing import capture_logs

from syndicate import InvalidItem, Runtime, submit
from syndicate.config.loading import load_config
from syndicate.localization.step import do_localize
from syndicate.operations.notify import Notifier
from syndicate.publishing.steps import do_publish
from syndicate.runtime import timing_from_config
from tests.fakes.webhook_receiver import FakeWebhookReceiver
from tests.helpers import REPO, free_port, item_data, sandbox_accounts, simple_route, write_config

TOKEN = "tok-ops-logs-0123456789abcdef"


def json_lines(stderr: str) -> list[dict[str, Any]]:
    """Every line of ``stderr`` as JSON (fails on any line that is not)."""
    return [json.loads(line) for line in stderr.splitlines() if line.strip()]


def cli_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SYNDICATE_")}
    env.update(SYNDICATE_LOG_FORMAT="json", SYNDICATE_LOG_LEVEL="INFO", **extra)
    return env


def test_a_start_logs_one_ledger_migrated_line_and_no_alembic_lines(tmp_path: Path, ledger_url: str) -> None:
    # Given an empty ledger
    cfg = write_config(tmp_path / "config")
    env = cli_env(SYNDICATE_DATABASE_URL=ledger_url, SYNDICATE_CONFIG=str(cfg))
    run = [sys.executable, "-m", "syndicate", "migrate"]
    # When it is migrated, then started again on the current schema
    first = subprocess.run(run, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    second = subprocess.run(run, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert first.returncode == 0 and second.returncode == 0, first.stderr + second.stderr
    # Then the first start logs one line saying what changed, the second nothing, and neither
    # repeats Alembic's own lines
    events = json_lines(first.stderr)
    assert [(e["event"], e["from_revision"], bool(e["to_revision"])) for e in events] == [
        ("ledger.migrated", None, True)]
    assert json_lines(second.stderr) == []


@pytest.fixture(scope="module")
def api_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """``syndicate api`` as a process: a health probe, an unknown path and a refused item sent to
    it, then stopped; its stderr parsed."""
    tmp = tmp_path_factory.mktemp("api")
    cfg = write_config(tmp / "config", accounts=sandbox_accounts("a1"),
                       routes=[simple_route("na", ["en-US"], ["a1"])],
                       settings={"api": {"tokens": {"cms": {"token": "${SYNDICATE_API_TOKEN}"}}}})
    port = free_port()
    env = cli_env(SYNDICATE_CONFIG=str(cfg), SYNDICATE_DATABASE_URL=f"sqlite:///{tmp / 'ledger.db'}",
                  SYNDICATE_API_TOKEN=TOKEN, SYNDICATE_OUTBOX=str(tmp / "outbox"))
    proc = subprocess.Popen([sys.executable, "-m", "syndicate", "api", "--port", str(port)], env=env, cwd=tmp,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                requests.get(f"{url}/healthz", timeout=2)
                break
            except requests.ConnectionError:
                assert proc.poll() is None and time.monotonic() < deadline, "syndicate api did not start"
                time.sleep(0.1)
        bad = item_data(id="spring-launch", revision=3, approved_at="yesterday", canonical_url="ftp://x")
        refused = requests.post(f"{url}/v1/items", json=bad, timeout=10,
                                headers={"Authorization": f"Bearer {TOKEN}"})
        missing = requests.get(f"{url}/nowhere?x=1", timeout=10)
    finally:
        proc.send_signal(signal.SIGINT)
        _out, err = proc.communicate(timeout=60)
    yield {"stderr": err, "refused": refused, "missing": missing, "returncode": proc.returncode}


def test_every_line_of_the_api_is_our_json_without_colour_codes(api_session: dict[str, Any]) -> None:
    # When the API ran, then every line it wrote is one JSON object, none with uvicorn's coloured copy
    lines = json_lines(api_session["stderr"])
    assert lines
    assert "\x1b" not in api_session["stderr"] and "\\u001b" not in api_session["stderr"]
    assert not [e for e in lines if "color_message" in e]
    # And uvicorn's own lines (start, stop) are there, as our JSON
    assert any(e["logger"] == "uvicorn.error" and e["event"].startswith("Uvicorn running on") for e in lines)


def test_the_api_access_line_is_an_http_request_event_with_its_parts(api_session: dict[str, Any]) -> None:
    # When the API answered a probe and an unknown path
    lines = json_lines(api_session["stderr"])
    requests_seen = [(e["method"], e["path"], e["status"]) for e in lines if e["event"] == "http.request"]
    # Then each answer is one http.request event with its method, path and status as fields
    assert ("GET", "/healthz", 200) in requests_seen
    assert ("GET", "/nowhere?x=1", 404) in requests_seen
    assert all(e["client"].startswith("127.0.0.1:") for e in lines if e["event"] == "http.request")


def test_a_refused_submission_logs_the_item_and_every_reason(api_session: dict[str, Any]) -> None:
    # Given an item with two mistakes, refused with 422
    assert api_session["refused"].status_code == 422
    answer = {p["field"]: p["reason"] for p in api_session["refused"].json()["problems"]}
    # When the log is read
    [line] = [e for e in json_lines(api_session["stderr"]) if e["event"] == "item.refused"]
    # Then it names the item, its revision, the token, and every reason the producer was given
    assert (line["item"], line["revision"], line["actor"], line["level"]) == ("spring-launch", 3, "api:cms",
                                                                              "warning")
    assert line["count"] == 2 == len(answer)
    assert sorted(line["reasons"]) == sorted(f"{f}: {r}" for f, r in answer.items())


def test_a_refused_python_submission_is_logged_too(config_dir: Callable[..., Path], sqlite_url: str,
                                                    outbox: Path) -> None:
    # Given a runtime and an item that is not approved
    # When it is submitted from Python
    with (Runtime.create(config=config_dir(), database_url=sqlite_url, redis_url="") as rt,
          capture_logs() as logs, pytest.raises(InvalidItem) as refused):
        submit(item_data(id="no-title", title=""), runtime=rt, actor="cms-script")
    # Then the refusal is logged with the item and the same reasons the exception carries
    [line] = [e for e in logs if e["event"] == "item.refused"]
    assert (line["item"], line["revision"], line["actor"]) == ("no-title", 1, "cms-script")
    assert line["reasons"] == [f"{f}: {r}" for f, r in refused.value.problems]


SECRET = "whsec_" + base64.b64encode(b"producer-webhook-secret-32-bytes").decode()


def test_notification_delivered_names_the_publication(
    config_dir: Callable[..., Path], sqlite_url: str, outbox: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given producer webhooks to a loopback receiver and an item published on one account
    monkeypatch.setenv("CMS_WEBHOOK_SECRET", SECRET)
    with FakeWebhookReceiver(SECRET) as receiver:
        cfg = config_dir(accounts=sandbox_accounts("a1"), routes=[simple_route("na", ["en-US"], ["a1"])],
                         settings={"notifications": {"webhooks": {"cms": {"url": receiver.endpoint,
                                                                          "secret": "${CMS_WEBHOOK_SECRET}"}}}})
        with Runtime.create(config=cfg, database_url=sqlite_url, redis_url="") as rt:
            submit(item_data(), runtime=rt, ignore_schedule=True)
            do_localize(rt, "item-1", 1, "en-US")
            [pub] = rt.ledger.take_due(horizon=timedelta(seconds=5), limit=10, actor="test")
            assert do_publish(rt, pub.id) == "published"
            # When the notifier delivers the lifecycle webhooks
            with capture_logs() as logs:
                Notifier.for_runtime(rt).deliver_due()  # type: ignore[union-attr]
    # Then each delivery line names the publication and the item it was about
    delivered = [e for e in logs if e["event"] == "notification.delivered"]
    assert len(delivered) == len(receiver.deliveries) == 2
    assert {(e["publication"], e["item"]) for e in delivered} == {(pub.id, "item-1")}


def test_timing_raised_is_logged_once_per_slow_account_and_never_for_sandbox_accounts(tmp_path: Path) -> None:
    # Given sandbox accounts with long timeouts (they make no network call), and two feed accounts
    # (which ping a WebSub hub) that may wait 5 + 25 and 5 + 20 s for an answer
    tag = uuid.uuid4().hex[:6]
    accounts = {f"box-{tag}": {"adapter": "sandbox", "read_timeout_s": 100},
                f"slow-{tag}": {"adapter": "feeds", "read_timeout_s": 25},
                f"slower-{tag}": {"adapter": "feeds", "read_timeout_s": 20},
                f"fast-{tag}": {"adapter": "feeds", "read_timeout_s": 2}}
    cfg = load_config(write_config(tmp_path, accounts=accounts,
                                   routes=[simple_route("r", ["en-US"], list(accounts))]))
    # When the timing is worked out twice in this process (every runtime does it)
    with capture_logs() as logs:
        first = timing_from_config(cfg)
        second = timing_from_config(cfg)
    # Then the limit covers the slowest network account, and each slow account is named once
    assert first == second and first.publish_time_limit == timedelta(seconds=31)
    assert sorted(e["account"] for e in logs if e["event"] == "worker.timing_raised") == [f"slow-{tag}",
                                                                                          f"slower-{tag}"]


def test_the_demo_config_logs_no_timing_raise(tmp_path: Path) -> None:
    # Given the example config (sandbox accounts with default timeouts)
    cfg = load_config(REPO / "config")
    # When its timing is worked out, then it is the settings' own, and nothing is logged
    with capture_logs() as logs:
        timing = timing_from_config(cfg)
    assert timing.publish_time_limit == cfg.worker.publish_time_limit
    assert [e for e in logs if e["event"] == "worker.timing_raised"] == []
