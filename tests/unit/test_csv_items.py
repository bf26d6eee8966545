"""Items from CSV files: columns become fields, FIELD@LOCALE columns human translations, and every
refusal names the file, the row (as a spreadsheet numbers it) and the column."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from syndicate.base.csvfile import read_csv
from syndicate.base.inputs import InputError
from syndicate.intake.csv_items import InvalidBatch, load_csv_items, parse_columns
from syndicate.model.item import IntakeLimits

HEADER = ["id", "revision", "source_locale", "title", "body", "canonical_url", "campaign", "approved", "approved_by",
          "approved_at"]


def row(item_id: str = "item-1", **cells: str) -> dict[str, str]:
    base = {"id": item_id, "revision": "1", "source_locale": "en-US", "title": "A title", "body": "Some body.",
            "canonical_url": "https://example.com/a", "campaign": "spring", "approved": "true",
            "approved_by": "editor@example.com", "approved_at": "2026-01-01T00:00:00Z"}
    return {**base, **cells}


def write(path: Path, rows: list[dict[str, str]], *, columns: list[str] | None = None, delimiter: str = ",",
          bom: bool = False) -> Path:
    names = columns or list(dict.fromkeys(k for r in rows for k in r))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=names, delimiter=delimiter, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + out.getvalue().encode("utf-8"))
    return path


def refusal(path: Path, **kw: object) -> list[str]:
    with pytest.raises(InvalidBatch) as exc:
        load_csv_items(path, **kw)  # type: ignore[arg-type]
    return exc.value.messages


def test_columns_become_fields_lists_split_and_translations_go_to_overrides(tmp_path: Path) -> None:
    # Given a row with nested columns, a list and two translation columns
    path = write(tmp_path / "items.csv", [row(**{"tags": "launch | B2B", "cta.text": "Read", "cta.url":
                                                 "https://example.com/a", "title@de-DE": "Ein Titel",
                                                 "summary@de-DE": "Kurz.", "locales": "en-US|de-DE"})])
    # When it is read
    [item] = load_csv_items(path)
    # Then every column is its field
    assert item.tags == ["launch", "B2B"]
    assert item.cta is not None and (item.cta.text, str(item.cta.url)) == ("Read", "https://example.com/a")
    assert item.locales == ["en-US", "de-DE"]
    assert item.overrides.locales["de-DE"].given() == {"title": "Ein Titel", "summary": "Kurz."}


def test_a_bom_quoted_line_breaks_and_empty_cells_are_read_as_meant(tmp_path: Path) -> None:
    # Given a file with a byte-order mark, a body over two lines with a comma and quotes, and an empty summary
    path = write(tmp_path / "items.csv", [row(body='First line, with "quotes".\nSecond line.', summary="")],
                 bom=True)
    # When it is read
    [item] = load_csv_items(path)
    # Then the id column is found despite the BOM, the body keeps its line break, and the summary is absent
    assert item.id == "item-1"
    assert item.body == 'First line, with "quotes".\nSecond line.'
    assert item.summary is None


def test_semicolon_files_from_european_spreadsheets_are_read(tmp_path: Path) -> None:
    path = write(tmp_path / "items.csv", [row(title="Hello, world")], delimiter=";")
    [item] = load_csv_items(path)
    assert item.title == "Hello, world"


def test_a_bad_row_is_named_by_row_and_column_and_the_file_is_refused_whole(tmp_path: Path) -> None:
    # Given three rows: valid, a multi-line body, and a date without an offset on the fourth row
    path = write(tmp_path / "items.csv", [row("a"), row("b", body="one\ntwo\nthree"),
                                          row("c", publish_at="2026-03-01 09:00")])
    # When the file is read
    messages = refusal(path)
    # Then the problem names row 4 (the header is row 1; a quoted line break does not start a row) and the column
    assert len(messages) == 1
    assert messages[0].startswith(f"{path} row 4, column 'publish_at': ")


def test_every_problem_of_every_row_is_listed(tmp_path: Path) -> None:
    path = write(tmp_path / "items.csv", [row("a", revision="two", source_locale="en_US"),
                                          row("b", body="", tags="x||y"), row("c", approved="yes")])
    assert refusal(path) == [
        f"{path} row 2, column 'revision': must be a whole number, not 'two'",
        f"{path} row 2, column 'source_locale': 'en_US' uses '_'; locales are BCP 47 tags with hyphens: "
        "did you mean 'en-US'?",
        f"{path} row 3, column 'body': is required",
        f"{path} row 3, column 'tags', entry 2: is empty",
        f"{path} row 4, column 'approved': not approved (approved is 'yes', must be true)",
    ]


def test_an_unknown_override_locale_names_its_column(tmp_path: Path) -> None:
    path = write(tmp_path / "items.csv", [row(**{"title@de_DE": "Ein Titel"})])
    [message] = refusal(path)
    assert message.startswith(f"{path} row 2, column 'title@de_DE': ")
    assert "did you mean 'de-DE'?" in message


def test_header_problems_are_said_once(tmp_path: Path) -> None:
    # Given a misspelt column, a translation of a field that has none, and no approved_by column
    rows = [{**row(r), "headline": "x", "campaign@de-DE": "y"} for r in ("a", "b")]
    for r in rows:
        del r["approved_by"]
    path = write(tmp_path / "items.csv", rows)
    # Then each is named once, on row 1, not on every row
    messages = refusal(path)
    assert len(messages) == 3
    assert messages[0].startswith(f"{path} row 1, column 'headline': is not an item field")
    assert messages[1].startswith(f"{path} row 1, column 'campaign@de-DE': a translation column is FIELD@LOCALE")
    assert messages[2] == f"{path} row 1: has no column 'approved_by': every item needs it"


def test_column_renames_map_a_producers_names(tmp_path: Path) -> None:
    data = row()
    data["Headline"] = data.pop("title")
    path = write(tmp_path / "items.csv", [data])
    [item] = load_csv_items(path, rename=parse_columns(["Headline=title"]))
    assert item.title == "A title"
    assert refusal(path, rename={"Heading": "title"})[0].startswith(f"{path}:1: has no column 'Heading' to rename")
    with pytest.raises(InputError, match="must read CSV_COLUMN=FIELD"):
        parse_columns(["Headline"])


def test_a_row_with_more_cells_than_the_header_and_a_repeated_id_are_refused(tmp_path: Path) -> None:
    path = write(tmp_path / "items.csv", [row("a"), row("a")])
    path.write_text(path.read_text(encoding="utf-8") + ",".join(row("b").values()) + ",extra\r\n", encoding="utf-8")
    assert refusal(path) == [
        f"{path} row 3, column 'id': 'a' is also on row 2; one row per item",
        f"{path} row 4: has 11 cells, more than the 10 columns of the header",
    ]


def test_numbered_columns_make_lists_without_gaps(tmp_path: Path) -> None:
    path = write(tmp_path / "items.csv", [row(**{"media.1.url": "https://example.com/b.png",
                                                 "media.1.alt": "B", "media.0.url": ""})])
    [item] = load_csv_items(path)
    assert [(str(m.url), m.alt) for m in item.media] == [("https://example.com/b.png", "B")]


def test_not_utf8_is_refused_with_its_line_and_how_to_save_it(tmp_path: Path) -> None:
    path = tmp_path / "items.csv"
    path.write_bytes(",".join(HEADER).encode() + b"\r\nitem-1,1,en-US,Caf\xe9,b\r\n")
    [message] = refusal(path)
    assert message == (f"{path}:2: is not valid UTF-8 (byte 0xe9 at offset {len(','.join(HEADER)) + 20}): save it as "
                       "UTF-8 (in a spreadsheet: 'CSV UTF-8')")


def test_a_quote_left_open_is_refused_with_its_row(tmp_path: Path) -> None:
    path = tmp_path / "items.csv"
    path.write_text(",".join(HEADER) + '\nitem-1,1,en-US,"A title\n', encoding="utf-8")
    [message] = refusal(path)
    assert message.startswith(f"{path}:") and "row 2: unexpected end of data" in message


def test_limits_bound_the_rows_the_file_and_a_cell(tmp_path: Path) -> None:
    path = write(tmp_path / "items.csv", [row(f"i{n}") for n in range(3)])
    size = path.stat().st_size
    # More rows than max_batch_items
    assert refusal(path, limits=IntakeLimits(max_batch_items=2)) == [
        f"{path}: has more than 2 rows of items; split it into several files"]
    # A file larger than max_csv_bytes, refused by its size before it is read
    assert refusal(path, limits=IntakeLimits(max_csv_bytes=100)) == [
        f"{path}: is {size:,} bytes, more than the limit of 100 (intake.max_csv_bytes in settings.yaml); split it "
        "into several files"]
    # A cell larger than a whole item may be
    big = write(tmp_path / "big.csv", [row(body="x" * 3000)])
    assert refusal(big, limits=IntakeLimits(max_item_bytes=2000)) == [
        f"{big} row 2, column 'body': is longer than 2,000 characters"]


def test_the_reader_skips_blank_lines_but_counts_them_as_rows(tmp_path: Path) -> None:
    raw = b"a,b\r\n1,2\r\n\r\n,\r\n3,\r\n"
    table = read_csv(raw, "t.csv", max_bytes=1000, max_rows=10, max_cell_chars=100)
    assert [(r.number, r.line, r.cells) for r in table.rows] == [(2, 2, {"a": "1", "b": "2"}), (5, 5, {"a": "3"})]
