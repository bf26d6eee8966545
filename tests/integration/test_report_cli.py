"""`syndicate report` from the command line: rows by planned time, a table that fits the terminal
(or every column with --wide), and JSON with nulls and numbers."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from syndicate import Runtime, submit
from syndicate.cli import main
from tests.helpers import item_data, sandbox_accounts, simple_route


@pytest.fixture
def ledger(config_dir: Callable[..., Path], sqlite_url: str, outbox: Path,
           monkeypatch: pytest.MonkeyPatch) -> Path:
    """Two items planned at different times on two routes, the later one submitted first."""
    cfg = config_dir(accounts=sandbox_accounts("x-na", "x-dach"),
                     routes=[simple_route("na", ["en-US"], ["x-na"], timezone="America/New_York"),
                             simple_route("dach", ["de-DE"], ["x-dach"], timezone="Europe/Berlin",
                                          translation={"engine": "pseudo"}, buying_stages=["decision"])])
    with Runtime.create(config=cfg, database_url=sqlite_url, redis_url="") as rt:
        submit(item_data(id="later-webinar-with-a-long-identifier", publish_at="2031-03-02T09:00:00Z",
                         buying_stage="awareness"), runtime=rt)
        submit(item_data(id="sooner", publish_at="2031-03-01T09:00:00Z", buying_stage="decision"), runtime=rt)
    monkeypatch.setenv("SYNDICATE_DATABASE_URL", sqlite_url)
    return cfg


def report(cfg: Path, *args: str, columns: int = 80) -> str:
    result = CliRunner().invoke(main, ["report", "--config", str(cfg), *args], env={"COLUMNS": str(columns)})
    assert result.exit_code == 0, result.output
    return result.stdout


def test_the_table_lists_rows_by_planned_time_within_the_terminal_width(ledger: Path) -> None:
    # When the report is shown as a table on an 80-column terminal
    lines = report(ledger, "--format", "table").splitlines()
    # Then no line is wider, and the rows come by planned time, whatever the submission order
    assert max(map(len, lines)) <= 80
    items = [line.split()[0] for line in lines[1:] if line[:1].strip()][:-1]
    assert items[:2] == ["sooner", "sooner"] and items[2].startswith("later-webinar")
    # And the planned rows show no tagged URL; the skipped one shows why
    assert "utm_source" not in "\n".join(lines)
    assert any("route 'dach' accepts buying stages decision" in line for line in lines)


def test_wide_shows_the_tagged_url_and_every_column(ledger: Path) -> None:
    text = report(ledger, "--format", "table", "--wide", columns=80)
    assert text.splitlines()[0].split()[:3] == ["item_id", "revision", "locale"]
    assert "utm_content=sooner.r1.en-US.x-na.0" in text
    assert max(map(len, text.splitlines())) > 80


def test_json_has_nulls_numbers_and_the_local_planned_time(ledger: Path) -> None:
    rows = json.loads(report(ledger, "--format", "json"))
    first = rows[0]
    assert (first["item_id"], first["permalink"], first["published_at"], first["likes"]) == ("sooner", None, None,
                                                                                               None)
    assert isinstance(first["revision"], int) and isinstance(first["attempts"], int)
    planned = [datetime.fromisoformat(r["scheduled_for"]) for r in rows]
    assert planned == sorted(planned)
    na = next(r for r in rows if r["region"] == "na")
    assert na["timezone"] == "America/New_York"
    assert datetime.fromisoformat(na["scheduled_local"]) == datetime.fromisoformat(na["scheduled_for"])
    assert na["scheduled_local"].endswith("-05:00")
    skipped = next(r for r in rows if r["state"] == "skipped")
    assert skipped["last_error"] is None and "buying stages" in skipped["reason"]
