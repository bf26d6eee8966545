"""``enqueue`` and ``run`` with directories and CSV files: every item of a valid batch is stored and
planned; one bad file or row and nothing is submitted, with the row and column named."""

from __future__ import annotations

import csv
import io
import json
import os
import pty
import select
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner, Result

from syndicate import Runtime
from syndicate.cli import main
from tests.helpers import REPO, item_data, sandbox_accounts, simple_route


@pytest.fixture
def env(config_dir: Callable[..., Path], tmp_path: Path, outbox: Path) -> dict[str, str | None]:
    cfg = config_dir(accounts=sandbox_accounts("social-na", "social-de"),
                     routes=[simple_route("na", ["en-US"], ["social-na"]),
                             simple_route("dach", ["de-DE"], ["social-de"], translation={"engine": "pseudo"})])
    return {"SYNDICATE_CONFIG": str(cfg), "SYNDICATE_DATABASE_URL": f"sqlite:///{tmp_path / 'ledger.db'}",
            "SYNDICATE_REDIS_URL": None, "SYNDICATE_OUTBOX": str(outbox)}


@pytest.fixture
def cli(env: dict[str, str | None]) -> Callable[..., Result]:
    def invoke(*args: str) -> Result:
        return CliRunner().invoke(main, list(args), env=env)

    return invoke


Opener = Callable[[], AbstractContextManager[Runtime]]


@pytest.fixture
def ledger(env: dict[str, str | None]) -> Opener:
    """Opens the ledger the commands use."""
    @contextmanager
    def open_() -> Iterator[Runtime]:
        with Runtime.create(config=env["SYNDICATE_CONFIG"], database_url=env["SYNDICATE_DATABASE_URL"],
                            redis_url="") as rt:
            yield rt

    return open_


def stored_ids(ledger: Opener, *ids: str) -> list[str]:
    with ledger() as rt:
        return [i for i in ids if rt.ledger.item(i) is not None]


def csv_file(path: Path, rows: list[dict[str, str]]) -> Path:
    names = list(dict.fromkeys(k for r in rows for k in r))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=names)
    writer.writeheader()
    writer.writerows(rows)
    path.write_text(out.getvalue(), encoding="utf-8")
    return path


def csv_row(item_id: str, **cells: str) -> dict[str, str]:
    data = item_data(id=item_id)
    base = {k: str(v) for k, v in data.items() if isinstance(v, str | int) and not isinstance(v, bool)}
    return {**base, "approved": "TRUE", "tags": "|".join(data["tags"]), "cta.text": data["cta"]["text"],
            "cta.url": data["cta"]["url"], **cells}


def test_enqueue_a_csv_stores_every_row_with_its_translations(cli: Callable[..., Result], tmp_path: Path,
                                                              ledger: Opener) -> None:
    # Given a CSV of two items, one with a German title
    path = csv_file(tmp_path / "items.csv", [csv_row("one", **{"title@de-DE": "Ein Titel"}),
                                             csv_row("two", **{"title@de-DE": ""})])
    # When it is enqueued
    result = cli("enqueue", "--now", str(path))
    # Then both are stored and planned, with the human title kept for de-DE
    assert result.exit_code == 0, result.output
    assert "one r1: planned 2 publication(s)" in result.output
    assert "two r1: planned 2 publication(s)" in result.output
    with ledger() as rt:
        stored = rt.ledger.item("one")
        assert stored is not None and stored.item.overrides.locales["de-DE"].title == "Ein Titel"
        two = rt.ledger.item("two")
        assert two is not None and two.item.overrides.locales == {}


def test_a_bad_row_refuses_the_whole_batch_naming_row_and_column(cli: Callable[..., Result], tmp_path: Path,
                                                                 ledger: Opener) -> None:
    # Given a valid item file, and a CSV whose third item row has a publish_at without an offset
    good = tmp_path / "good.yaml"
    good.write_text(yaml.safe_dump(item_data(id="good")), encoding="utf-8")
    path = csv_file(tmp_path / "items.csv", [csv_row("a"), csv_row("b"), csv_row("c", publish_at="2026-03-01T09:00")])
    # When both are enqueued
    result = cli("enqueue", str(good), str(path))
    # Then the command exits 2 naming row 4 (the header is row 1) and the column, and nothing was submitted
    assert result.exit_code == 2
    assert f"{path} row 4, column 'publish_at': " in result.output
    assert "1 of 2 item file(s) refused; nothing was submitted" in result.output
    assert stored_ids(ledger, "good", "a", "b", "c") == []


def test_an_unknown_override_locale_is_refused_with_its_column(cli: Callable[..., Result], tmp_path: Path,
                                                               ledger: Opener) -> None:
    path = csv_file(tmp_path / "items.csv", [csv_row("a", **{"title@xx-YY": "Titel"})])
    result = cli("enqueue", str(path))
    assert result.exit_code == 2
    assert f"{path} row 2, column 'title@xx-YY': 'xx-YY': 'xx' is not a registered language subtag" in result.output
    assert stored_ids(ledger, "a") == []


def test_a_directory_is_its_item_files_in_order_and_one_bad_file_stops_all(
        cli: Callable[..., Result], tmp_path: Path, ledger: Opener) -> None:
    # Given a directory of three item files (YAML, YML, JSON), a note, a CSV and a subdirectory
    folder = tmp_path / "batch"
    (folder / "nested").mkdir(parents=True)
    (folder / "b.yml").write_text(yaml.safe_dump(item_data(id="b")), encoding="utf-8")
    (folder / "a.yaml").write_text(yaml.safe_dump(item_data(id="a")), encoding="utf-8")
    (folder / "c.json").write_text(json.dumps(item_data(id="c")), encoding="utf-8")
    (folder / "notes.txt").write_text("not an item", encoding="utf-8")
    csv_file(folder / "more.csv", [csv_row("from-csv")])
    (folder / "nested" / "d.yaml").write_text(yaml.safe_dump(item_data(id="d")), encoding="utf-8")
    # And a bad item among them
    (folder / "bad.yaml").write_text(yaml.safe_dump(item_data(id="bad", source_locale="en_US")), encoding="utf-8")
    # When the directory is enqueued, then the bad file is named and nothing is submitted
    refused = cli("enqueue", str(folder))
    assert refused.exit_code == 2
    assert f"{folder / 'bad.yaml'}:" in refused.output and "source_locale" in refused.output
    assert "1 of 4 item file(s) refused; nothing was submitted" in refused.output
    assert stored_ids(ledger, "a", "b", "c", "bad") == []
    # When the bad file is removed and the directory enqueued again
    (folder / "bad.yaml").unlink()
    result = cli("enqueue", str(folder))
    # Then its item files are submitted in name order, and the CSV, the note and the subdirectory are left alone
    assert result.exit_code == 0, result.output
    assert [line.split(" ")[0] for line in result.stdout.splitlines()] == ["a", "b", "c"]
    assert stored_ids(ledger, "a", "b", "c", "d", "from-csv") == ["a", "b", "c"]


def test_a_directory_without_item_files_is_refused(cli: Callable[..., Result], tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    result = cli("enqueue", str(tmp_path / "empty"))
    assert result.exit_code == 2
    assert f"{tmp_path / 'empty'}: holds no item file (*.yaml, *.yml, *.json)" in result.output


def test_column_renames_and_a_bad_rename(cli: Callable[..., Result], tmp_path: Path,
                                         ledger: Opener) -> None:
    row = csv_row("renamed")
    row["Headline"] = row.pop("title")
    path = csv_file(tmp_path / "items.csv", [row])
    assert cli("enqueue", str(path), "--column", "Headline").exit_code == 2
    result = cli("enqueue", str(path), "--column", "Headline=title")
    assert result.exit_code == 0, result.output
    assert stored_ids(ledger, "renamed") == ["renamed"]


def test_run_publishes_a_csv_and_a_directory(cli: Callable[..., Result], tmp_path: Path, outbox: Path) -> None:
    folder = tmp_path / "batch"
    folder.mkdir()
    (folder / "a.yaml").write_text(yaml.safe_dump(item_data(id="a")), encoding="utf-8")
    path = csv_file(tmp_path / "items.csv", [csv_row("from-csv")])
    result = cli("run", "--now", str(folder), str(path))
    assert result.exit_code == 0, result.output
    assert "this run: published 4" in result.output
    assert {p.parent.name for p in outbox.rglob("*.txt")} == {"a", "from-csv"}


def test_the_example_csv_is_accepted_by_the_example_config(tmp_path: Path, outbox: Path) -> None:
    shutil.copytree(REPO / "config", tmp_path / "config")
    env = {"SYNDICATE_CONFIG": str(tmp_path / "config"), "SYNDICATE_DATABASE_URL": f"sqlite:///{tmp_path / 'l.db'}",
           "SYNDICATE_REDIS_URL": None, "SYNDICATE_OUTBOX": str(outbox)}
    result = CliRunner().invoke(main, ["enqueue", str(REPO / "examples" / "bulk" / "items.csv")], env=env)
    assert result.exit_code == 0, result.output
    assert result.stdout.count(": planned ") == 2


def test_a_long_import_shows_its_progress_on_a_terminal_and_nothing_on_a_pipe(
        env: dict[str, str | None], tmp_path: Path) -> None:
    # Given a CSV of 30 items, and the command's stderr on a terminal while its stdout goes to a pipe
    path = csv_file(tmp_path / "items.csv", [csv_row(f"i{n}") for n in range(30)])
    child_env = {k: v for k, v in os.environ.items() if k != "SYNDICATE_REDIS_URL"}
    child_env.update({k: v for k, v in env.items() if v is not None})
    leader, follower = pty.openpty()
    try:
        proc = subprocess.run([sys.executable, "-m", "syndicate", "enqueue", str(path)], env=child_env,
                              stdout=subprocess.PIPE, stderr=follower, timeout=120, check=False)
        os.close(follower)
        shown = b""
        while select.select([leader], [], [], 0.5)[0]:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the terminal closed
                break
            if not chunk:
                break
            shown += chunk
    finally:
        os.close(leader)
    # Then the terminal saw the check and the submission counted up to the end, and stdout only the plans
    assert proc.returncode == 0, shown
    text = shown.decode()
    assert "checking items.csv: 30/30 checked" in text
    assert "submitting: 30/30 submitted" in text
    assert proc.stdout.decode().count(": planned ") == 30
    # And with stderr on a pipe, no counter is written
    quiet = subprocess.run([sys.executable, "-m", "syndicate", "enqueue", str(path)], env=child_env,
                           capture_output=True, timeout=120, check=False)
    assert quiet.returncode == 0 and "checked" not in quiet.stderr.decode()
