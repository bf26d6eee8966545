"""``syndicate review`` prints stored machine translations: a control or bidi character in them is
shown as a code, never sent raw to the reviewer's terminal."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from syndicate import Runtime, show_review, submit
from syndicate.base.terminal import UNSAFE, printable
from syndicate.cli import main
from syndicate.localization.review import format_review
from tests.helpers import item_data, sandbox_accounts, simple_route

#: What an engine answered: clear screen and home (ESC), a C1 CSI, a bell, a right-to-left
#: override that would flip the rest of the line, and a lone surrogate.
HOSTILE = "Titel\x1b[2J\x1b[H \x9b31m \x07 \u202eknil eht kcilc\u2066 \ud800 Ende\r\nzweite\tZeile"


@pytest.fixture
def stored(config_dir: Callable[..., Path], sqlite_url: str, outbox: Path) -> Path:
    cfg = config_dir(accounts=sandbox_accounts("a-de"),
                     routes=[simple_route("dach", ["de-DE"], ["a-de"],
                                          translation={"engine": "pseudo", "review_required": True})])
    with Runtime.create(config=cfg, database_url=sqlite_url, redis_url="") as rt:
        submit(item_data(), runtime=rt, ignore_schedule=True)
        # Given a machine translation holding terminal controls, as an engine returned it
        rt.ledger.record_localization("item-1", 1, "de-DE", fields={"title": HOSTILE, "summary": "ok", "body": "ok",
                                                                     "cta_text": "ok"},
                                      sources=dict.fromkeys(("title", "summary", "body", "cta_text"), "machine"),
                                      engine="deepl", review_required=True, actor="test",
                                      warnings=["engine said \x1b]0;owned\x07"])
    return cfg


def test_printable_shows_each_control_as_its_code_and_keeps_line_feeds() -> None:
    out = printable("a\x1b[31mb\u202ec\x85d\r\ne\tf\ud800")
    assert out == "a<U+001B>[31mb<U+202E>c<U+0085>d\ne    f<U+D800>"


def test_the_review_text_holds_no_character_a_terminal_acts_on(stored: Path, sqlite_url: str) -> None:
    with Runtime.create(config=stored, database_url=sqlite_url, redis_url="") as rt:
        # When the review is formatted for a terminal
        text = format_review(show_review(rt.ledger, "item-1", "de-DE"), width=120)
    # Then nothing unsafe is left, and the reviewer sees where each control was
    assert UNSAFE.search(text) is None
    assert "<U+001B>[2J" in text and "<U+009B>31m" in text and "<U+0007>" in text and "<U+202E>" in text
    assert "<U+D800>" in text and "warning: engine said <U+001B>]0;owned<U+0007>" in text
    text.encode("utf-8")  # printable: no lone surrogate left


def test_the_command_line_review_escapes_controls_in_text_and_json(stored: Path, sqlite_url: str,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SYNDICATE_DATABASE_URL", sqlite_url)
    cli = CliRunner()
    # When a reviewer looks, as text and as JSON
    shown = cli.invoke(main, ["review", "item-1", "--locale", "de-DE", "--config", str(stored)])
    as_json = cli.invoke(main, ["review", "item-1", "--locale", "de-DE", "--format", "json", "--config",
                                str(stored)])
    # Then neither output holds a raw control, and the JSON still carries the exact text
    assert shown.exit_code == 0, shown.output
    assert as_json.exit_code == 0, as_json.output
    assert UNSAFE.search(shown.output) is None and "<U+202E>" in shown.output
    assert UNSAFE.search(as_json.output) is None
    fields = {f["name"]: f["localized"] for f in json.loads(as_json.output)["fields"]}
    assert fields["title"] == HOSTILE
