"""`syndicate run` finishes the job and tells the truth: retries, held accounts, reviews, bad files.

The command runs in this process through click's test runner; the platforms are loopback fakes.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result

from tests.fakes.base import Fault, refused_url
from tests.fakes.x import UNAUTHORIZED_BODY, FakeX, x_account, x_environ
from tests.helpers import REPO, item_data, sandbox_accounts, simple_route

PROBLEM = {"Content-Type": "application/problem+json"}


@pytest.fixture
def fx() -> Iterator[FakeX]:
    with FakeX() as fake:
        yield fake


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Result]:
    """Run `syndicate ARGS` in this process, on a SQLite ledger and outbox of the test's own."""
    monkeypatch.setenv("SYNDICATE_DATABASE_URL", f"sqlite:///{tmp_path / 'ledger.db'}")
    monkeypatch.setenv("SYNDICATE_OUTBOX", str(tmp_path / "outbox"))
    monkeypatch.delenv("SYNDICATE_REDIS_URL", raising=False)

    def invoke(*args: str, env: dict[str, str] | None = None) -> Result:
        from syndicate.cli import main

        return CliRunner().invoke(main, list(args), env=env)

    return invoke


def item_file(directory: Path, name: str = "item.yaml", **overrides: Any) -> str:
    path = directory / name
    path.write_text(yaml.safe_dump(item_data(**overrides), sort_keys=False), encoding="utf-8")
    return str(path)


def x_config(config_dir: Callable[..., Path], account: dict[str, Any], *, locales: tuple[str, ...] = ("en-US",),
             **worker: Any) -> Path:
    return config_dir(accounts={"x-na": account}, routes=[simple_route("na", list(locales), ["x-na"])],
                      settings={"worker": worker} if worker else None)


@pytest.mark.timeout(120)
def test_run_waits_for_a_retry_that_comes_due_within_the_timeout_and_exits_0(
    cli: Callable[..., Result], config_dir: Callable[..., Path], fx: FakeX, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given X answers the first post with a 500 (nothing created), and retries come after 1 s
    for k, v in x_environ(fx).items():
        monkeypatch.setenv(k, v)
    cfg = x_config(config_dir, x_account(fx, username="example", reconcile_settle_s=0), retry_min_backoff="1s")
    fx.fail_next(Fault("status", method="POST", path="^/2/tweets$", status=500, body={"title": "oops"},
                       headers=PROBLEM))
    # When the item is run
    out = cli("run", "--now", "--config", str(cfg), item_file(tmp_path))
    # Then the run waited for the retry, published once and exits 0
    assert out.exit_code == 0, out.output
    assert "this run: published 1" in out.stdout
    assert len(fx.posts) == 1
    # And it printed no progress lines, stderr not being a terminal
    assert "settled" not in out.stderr


@pytest.mark.timeout(90)
def test_run_lists_a_retry_due_after_the_timeout_with_its_time_and_exits_1(
    cli: Callable[..., Result], config_dir: Callable[..., Path], fx: FakeX, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given an account whose connection is refused, and retries an hour apart
    for k, v in x_environ(fx).items():
        monkeypatch.setenv(k, v)
    account = {**x_account(fx, username="example"), "base_url": refused_url()}
    cfg = x_config(config_dir, account, retry_min_backoff="1h", retry_max_backoff="2h")
    # When the item is run with a timeout far longer than the test's own
    out = cli("run", "--now", "--timeout", "600", "--config", str(cfg), item_file(tmp_path))
    # Then it does not wait for a retry it cannot see: it says what is pending, when, and why, and exits 1
    assert out.exit_code == 1, out.output
    assert "1 publication(s) still pending when the run ended:" in out.stderr
    assert "item-1/1/en-US/x-na/0: retrying, next attempt at " in out.stderr
    assert "'syndicate worker' retries it then (last error: " in out.stderr
    assert "this run: published nothing" in out.stdout


@pytest.mark.timeout(90)
def test_run_stops_when_an_account_is_held_and_status_and_report_say_why(
    cli: Callable[..., Result], config_dir: Callable[..., Path], fx: FakeX, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given two locales on one X account, and X refusing the credentials on the first post
    for k, v in x_environ(fx).items():
        monkeypatch.setenv(k, v)
    cfg = x_config(config_dir, x_account(fx, username="example"), locales=("en-US", "en-GB"))
    fx.fail_next(Fault("status", method="POST", path="^/2/tweets$", status=401, body=UNAUTHORIZED_BODY,
                       headers=PROBLEM))
    # When the item is run on one thread (the second post comes after the 401), with a long timeout
    out = cli("run", "--now", "--threads", "1", "--timeout", "3600", "--config", str(cfg), item_file(tmp_path))
    # Then the run ends at once with exit 1, naming the account and the command that puts it back
    assert out.exit_code == 1, out.output
    assert ("held: account 'x-na' needs new credentials (X refused the account's credentials (create post) "
            "(HTTP 401): Unauthorized): "
            "1 publication(s) failed and 1 wait (nothing sent); fix it, then run 'syndicate accounts reset x-na' "
            "and 'syndicate replay --account x-na'") in out.stderr
    assert fx.posts == []
    # And status and the report show why the other publication waits
    status = cli("status", "item-1", "--config", str(cfg))
    assert "held: account 'x-na' needs new credentials" in status.stdout
    assert "'syndicate accounts reset x-na'" in status.stdout
    as_json = json.loads(cli("status", "item-1", "--format", "json", "--config", str(cfg)).stdout)
    waiting = [p for p in as_json["publications"] if p["state"] == "scheduled"]
    assert len(waiting) == 1 and waiting[0]["waiting"].startswith("held: account 'x-na'")
    report = json.loads(cli("report", "--format", "json", "--config", str(cfg)).stdout)
    assert [r["reason"].split(";")[0] for r in report if r["state"] == "scheduled"] == [
        "held: account 'x-na' needs new credentials (X refused the account's credentials (create post) "
        "(HTTP 401): Unauthorized)"]


def test_a_second_run_after_approval_counts_what_it_published(
    cli: Callable[..., Result], config_dir: Callable[..., Path], tmp_path: Path,
) -> None:
    # Given a route whose machine translations wait for review
    cfg = config_dir(accounts=sandbox_accounts("a", "b"),
                     routes=[simple_route("en", ["en-US"], ["a"]),
                             simple_route("de", ["de-DE"], ["b"],
                                          translation={"engine": "pseudo", "review_required": True})])
    item = item_file(tmp_path)
    # When the item is run: the English post goes out, the German one waits for review (exit 1)
    first = cli("run", "--now", "--config", str(cfg), item)
    assert first.exit_code == 1, first.output
    assert "this run: published 1" in first.stdout
    assert ("review: 1 publication(s) of item-1 in de-DE await review: 'syndicate review item-1 --locale de-DE', "
            "then 'syndicate approve' or 'syndicate reject'") in first.stderr
    # And after approval, a second run of the same file publishes the German post and says so
    assert cli("approve", "item-1", "--locale", "de-DE", "--by", "anna", "--config", str(cfg)).exit_code == 0
    second = cli("run", "--now", "--config", str(cfg), item)
    assert second.exit_code == 0, second.output
    assert "item-1 r1: already submitted with this revision (1 published, 1 scheduled)" in second.stdout
    assert "this run: published 1" in second.stdout
    assert "nothing new" not in second.output
    # And a third run has nothing new to publish, and says so
    third = cli("run", "--now", "--config", str(cfg), item)
    assert third.exit_code == 0, third.output
    assert "this run: nothing new to publish" in third.stdout


def test_run_with_one_invalid_file_publishes_the_valid_ones_and_exits_2(
    cli: Callable[..., Result], config_dir: Callable[..., Path], tmp_path: Path,
) -> None:
    cfg = config_dir(accounts=sandbox_accounts("a"))
    good = item_file(tmp_path, "good.yaml", id="good")
    bad = item_file(tmp_path, "bad.yaml", id="bad", canonical_url="ftp://example.com/x")
    # When both are run
    out = cli("run", "--now", "--config", str(cfg), good, bad)
    # Then the bad file is reported with its reason, the good one is published, and the exit is 2
    assert out.exit_code == 2, out.output
    assert f"{bad}:7: item 'bad': canonical_url: " in out.stderr
    assert "this run: published 1" in out.stdout
    assert f"1 of 2 item file(s) refused and not submitted: {bad}" in out.stdout
    assert cli("status", "good", "--config", str(cfg)).stdout.count(" published ") == 1
    # And enqueue stays all or nothing
    other = item_file(tmp_path, "other.yaml", id="other")
    refused = cli("enqueue", "--config", str(cfg), other, bad)
    assert refused.exit_code == 2
    assert "1 of 2 item file(s) refused; nothing was submitted" in refused.stderr
    assert cli("status", "other", "--config", str(cfg)).exit_code == 1


def test_run_with_only_invalid_files_submits_nothing_and_exits_2(
    cli: Callable[..., Result], config_dir: Callable[..., Path], tmp_path: Path,
) -> None:
    cfg = config_dir(accounts=sandbox_accounts("a"))
    out = cli("run", "--now", "--config", str(cfg), item_file(tmp_path, approved=False))
    assert out.exit_code == 2
    assert "1 of 1 item file(s) refused; nothing was submitted" in out.stderr
    assert "this run" not in out.stdout


def test_an_item_without_a_buying_stage_goes_out_on_every_example_route(
    cli: Callable[..., Result], tmp_path: Path
) -> None:
    # Given the example config (two routes list buying stages) and an example item without a stage
    shutil.copytree(REPO / "config", tmp_path / "config")
    data = yaml.safe_load((REPO / "examples" / "content" / "product-launch.yaml").read_text(encoding="utf-8"))
    del data["buying_stage"]
    path = tmp_path / "no-stage.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    # When it is run
    out = cli("run", "--now", "--config", str(tmp_path / "config"), str(path))
    # Then every route published it; none skipped it
    assert out.exit_code == 0, out.output
    rows = json.loads(cli("report", "--format", "json", "--config", str(tmp_path / "config")).stdout)
    assert {r["region"] for r in rows if r["state"] == "published"} == {"north-america", "dach", "france", "japan"}
    assert [r for r in rows if r["state"] == "skipped"] == []
