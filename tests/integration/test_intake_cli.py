"""Intake refusals on the command line: ``enqueue``, ``run`` and ``preview`` exit 2 and print every
problem as ``file:line: item 'id': field: reason``; ``enqueue`` submits nothing when any file is refused."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result

from syndicate.cli import main
from tests.helpers import item_data, sandbox_accounts, simple_route


@pytest.fixture
def cli(config_dir: Callable[..., Path], tmp_path: Path, outbox: Path) -> Callable[..., Result]:
    cfg = config_dir(accounts=sandbox_accounts("social-na", "social-eu"),
                     routes=[simple_route("na", ["en-US"], ["social-na", "social-eu"])])
    env = {"SYNDICATE_CONFIG": str(cfg), "SYNDICATE_DATABASE_URL": f"sqlite:///{tmp_path / 'ledger.db'}",
           "SYNDICATE_REDIS_URL": None, "SYNDICATE_OUTBOX": str(outbox)}

    def invoke(*args: str, stdin: bytes | None = None) -> Result:
        return CliRunner().invoke(main, list(args), env=env, input=stdin)

    return invoke


def line(path: Path, start: str) -> int:
    """The 1-based line of ``path`` that starts (after indentation) with ``start``."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(i for i, text in enumerate(lines, 1) if text.strip().startswith(start))


def write_yaml(path: Path, **over: Any) -> Path:
    path.write_text(yaml.safe_dump(item_data(**over), sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def test_enqueue_prints_each_problem_with_file_line_item_field_and_reason(cli: Callable[..., Result],
                                                                          tmp_path: Path) -> None:
    # Given a valid item and an item with four problems
    good = write_yaml(tmp_path / "good.yaml", id="good")
    bad = write_yaml(tmp_path / "bad.yaml", id="bad", title="Launch\nday", body="   ",
                     channels=["social-na", "linkdin"], overrides={"locales": {"de-DE": {"title": "x" * 400}}})
    # When both are enqueued
    out = cli("enqueue", str(good), str(bad))
    # Then the command exits 2, names every problem where it is, and submits nothing
    assert out.exit_code == 2, out.output
    assert out.stderr.splitlines() == [
        f"{bad}:{line(bad, 'title:')}: item 'bad': title: contains a line feed (U+000A): this field is a single "
        "line, without line breaks or tabs",
        f"{bad}:{line(bad, 'body:')}: item 'bad': body: is blank: it holds only whitespace or invisible characters",
        f"{bad}:{line(bad, '- linkdin')}: item 'bad': channels.1: unknown channel 'linkdin': not an adapter or an "
        "account id in the config (feeds, linkedin, sandbox, social-eu, social-na, webhooks, wordpress, x); did you "
        "mean 'linkedin'?",
        f"{bad}:{line(bad, 'title: xxx')}: item 'bad': overrides.locales.de-DE.title: is 400 characters, more than "
        "the limit of 300 (intake.max_title_chars in settings.yaml)",
        "1 of 2 item file(s) refused; nothing was submitted",
    ]
    assert cli("status", "good").exit_code == 1


def test_a_json_item_gets_lines_too(cli: Callable[..., Result], tmp_path: Path) -> None:
    path = tmp_path / "item.json"
    path.write_text(json.dumps(item_data(tags=["ok", "two\tlines"]), indent=2), encoding="utf-8")
    out = cli("enqueue", str(path))
    assert out.exit_code == 2
    at = line(path, '"two')
    assert out.stderr.splitlines()[0] == (f"{path}:{at}: item 'item-1': tags.1: contains a tab "
                                          "(U+0009): this field is a single line, without line breaks or tabs")


@pytest.mark.parametrize("command", ["enqueue", "run", "preview"])
def test_a_lone_surrogate_exits_2_naming_the_field_not_1_with_a_traceback(
    command: str, cli: Callable[..., Result], tmp_path: Path
) -> None:
    # Given a JSON item whose title holds "\ud800" (json.loads accepts it; no text can hold it)
    path = tmp_path / "item.json"
    path.write_text(json.dumps(item_data()).replace('"A title"', '"A \\ud800 title"'), encoding="utf-8")
    # When it is enqueued, run or previewed / Then exit 2, with the file, the line and the field
    out = cli(command, str(path))
    assert out.exit_code == 2, out.output
    assert out.exception is None or isinstance(out.exception, SystemExit)
    assert f"{path}:1: item: title: contains the lone surrogate U+D800" in out.stderr


def test_run_refuses_an_unknown_channel_instead_of_publishing_the_rest(cli: Callable[..., Result], tmp_path: Path,
                                                                       outbox: Path) -> None:
    # Given an item for one known account and one misspelled
    path = write_yaml(tmp_path / "item.yaml", channels=["social-na", "socail-na"])
    # When it is run / Then nothing is published, and the typo is named with a suggestion
    out = cli("run", "--now", str(path))
    assert out.exit_code == 2, out.output
    assert "channels.1: unknown channel 'socail-na'" in out.stderr and "did you mean 'social-na'?" in out.stderr
    assert not list(outbox.rglob("*.txt"))


def test_a_channel_listed_twice_is_refused(cli: Callable[..., Result], tmp_path: Path) -> None:
    path = write_yaml(tmp_path / "item.yaml", channels=["sandbox", "social-na", "sandbox"])
    out = cli("enqueue", str(path))
    assert out.exit_code == 2
    assert "channels: 'sandbox' listed more than once; list each channel once" in out.stderr


def test_stdin_items_are_checked_the_same_way(cli: Callable[..., Result]) -> None:
    raw = json.dumps(item_data(campaign="spring\nlaunch"), indent=1).encode()
    out = cli("enqueue", "-", stdin=raw)
    assert out.exit_code == 2
    at = next(i for i, text in enumerate(raw.decode().splitlines(), 1) if '"campaign"' in text)
    assert out.stderr.startswith(f"<stdin>:{at}: item 'item-1': campaign: contains a line feed (U+000A)")


def test_two_byte_order_marks_are_refused_and_one_is_fine(cli: Callable[..., Result], tmp_path: Path) -> None:
    path = tmp_path / "item.yaml"
    text = yaml.safe_dump(item_data()).encode()
    path.write_bytes(b"\xef\xbb\xbf\xef\xbb\xbf" + text)
    out = cli("enqueue", str(path))
    assert out.exit_code == 2
    assert f"{path}:1: item: (item): starts with more than one byte-order mark (U+FEFF)" in out.stderr
    path.write_bytes(b"\xef\xbb\xbf" + text)
    assert cli("enqueue", str(path)).exit_code == 0


def test_a_body_over_the_item_limit_is_named(cli: Callable[..., Result], tmp_path: Path) -> None:
    path = tmp_path / "big.json"
    path.write_text(json.dumps(item_data(body="x" * 10_673_036)), encoding="utf-8")
    out = cli("enqueue", str(path))
    assert out.exit_code == 2
    assert (f"{path}:1: item 'item-1': body: is 10,673,038 bytes, more than the limit of 1,048,576 bytes for a "
            "whole item (max_item_bytes)") in out.stderr


def test_a_minimal_item_runs_and_publishes(cli: Callable[..., Result], tmp_path: Path, outbox: Path) -> None:
    path = write_yaml(tmp_path / "item.yaml", summary=None, cta=None, tags=None, body="Short body. Second one.")
    out = cli("run", "--now", str(path))
    assert out.exit_code == 0, out.output
    assert "this run: published 2" in out.output
    assert all("Short body. Second one." in p.read_text(encoding="utf-8") for p in outbox.rglob("*.txt"))
