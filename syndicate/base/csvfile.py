"""A strict CSV reader: one table of named cells, with the row number of every record.

The text is read as items and configs are (:func:`syndicate.base.inputs.read_text`): strict UTF-8,
one byte-order mark dropped, no control characters but TAB, CR and LF. Then:

* the delimiter is the first of ``,`` ``;`` TAB that the header line holds (a spreadsheet in a
  European locale writes ``;``);
* quoting is RFC 4180's, strictly: a quoted cell may hold the delimiter, quotes (doubled) and line
  breaks; a stray quote is refused with its row;
* rows are numbered as a spreadsheet shows them: the header is row 1, a record that spans several
  lines (a quoted line break) is still one row, and a blank line is a row that is skipped;
* an empty cell is absent: :attr:`CsvRow.cells` holds only the cells that have something;
* a row with more cells than the header is a problem of that row; fewer cells are empty ones.

Limits: the file's size, the number of rows and the size of one cell are the caller's to give.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass, field

from .inputs import InputError, read_text

__all__ = ["CsvProblem", "CsvRow", "CsvTable", "read_csv"]

#: The delimiters we recognize in the header line, in the order they are tried.
DELIMITERS = (",", ";", "\t")


@dataclass(frozen=True)
class CsvProblem:
    """Something wrong in one row (``row`` 1 is the header); ``column`` when it is one cell's."""

    row: int
    reason: str
    column: str | None = None


@dataclass(frozen=True)
class CsvRow:
    """One record: its row number, the line it starts on, and its non-empty cells by column name."""

    number: int
    line: int
    cells: dict[str, str]


@dataclass
class CsvTable:
    """A CSV file read: its columns (after renaming), its rows, and what is wrong in them."""

    source: str
    columns: tuple[str, ...]
    rows: list[CsvRow] = field(default_factory=list)
    problems: list[CsvProblem] = field(default_factory=list)


def _delimiter(text: str) -> str:
    header = text.split("\n", 1)[0]
    for d in DELIMITERS:
        if d in header:
            return d
    return ","


def read_csv(raw: bytes, source: str, *, max_bytes: int, max_rows: int, max_cell_chars: int,
             rename: Mapping[str, str] | None = None) -> CsvTable:
    """Read ``raw`` as a CSV file whose first row names the columns.

    Args:
        raw: the file's bytes.
        source: the file's name, for messages.
        max_bytes: the largest file read, in bytes.
        max_rows: the most data rows (the header not counted).
        max_cell_chars: the largest cell, in characters.
        rename: header names to replace (``{"Headline": "title"}``); each must be in the header.

    Raises:
        InputError: the file cannot be read as a whole (encoding, size, no header, a quote left
            open, a column named twice, a rename of a column it does not have). Problems of single
            rows are in :attr:`CsvTable.problems` instead, so that every one can be shown.
    """
    if len(raw) > max_bytes:
        raise InputError(source, f"is {len(raw):,} bytes, more than the limit of {max_bytes:,}")
    try:
        text = read_text(raw, source, max_bytes=max_bytes)
    except InputError as exc:
        if exc.reason.startswith("is not valid UTF-8"):
            raise InputError(source, f"{exc.reason}: save it as UTF-8 (in a spreadsheet: 'CSV UTF-8')",
                             exc.line) from None
        raise
    if not text.strip():
        raise InputError(source, "is empty: the first row must name the columns")
    # The csv module's cell limit is one process-wide setting: raise it, never lower it.
    csv.field_size_limit(max(csv.field_size_limit(), max_cell_chars + 1))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text), strict=True)
    table: CsvTable | None = None
    names: list[str] = []
    number = 0
    line = 1
    try:
        for record in reader:
            number += 1
            first_line, line = line, reader.line_num + 1
            if table is None:
                names = [name.strip() for name in record]
                table = CsvTable(source, _header(names, source, rename or {}))
                names = list(table.columns)
                continue
            if not any(cell.strip() for cell in record):
                continue  # a blank line, or a row of empty cells
            if len(table.rows) >= max_rows:
                raise InputError(source, f"has more than {max_rows:,} rows of items; split it into several files")
            table.rows.append(_row(table, names, record, number, first_line, max_cell_chars))
    except csv.Error as exc:
        reason = str(exc)
        if "field larger than field limit" in reason:
            reason = f"a cell is longer than {max_cell_chars:,} characters"
        raise InputError(source, f"row {number + 1}: {reason}", reader.line_num) from None
    assert table is not None
    return table


def _header(names: list[str], source: str, rename: Mapping[str, str]) -> tuple[str, ...]:
    missing = [old for old in rename if old not in names]
    if missing:
        raise InputError(source, f"has no column {missing[0]!r} to rename (its columns: "
                                 f"{', '.join(repr(n) for n in names if n)})", 1)
    names = [rename.get(n, n) for n in names]
    seen: dict[str, int] = {}
    for i, name in enumerate(names, 1):
        if name and name in seen:
            raise InputError(source, f"row 1: columns {seen[name]} and {i} are both named {name!r}", 1)
        seen[name] = i
    if not any(names):
        raise InputError(source, "row 1 names no column: the first row must name the columns", 1)
    return tuple(names)


def _row(table: CsvTable, names: list[str], record: list[str], number: int, line: int,
         max_cell_chars: int) -> CsvRow:
    cells: dict[str, str] = {}
    if len(record) > len(names) and any(cell.strip() for cell in record[len(names):]):
        table.problems.append(CsvProblem(number, f"has {len(record)} cells, more than the {len(names)} columns "
                                                 "of the header"))
    for i, (name, cell) in enumerate(zip(names, record, strict=False), 1):
        if cell == "":
            continue
        if not name:
            if cell.strip():
                table.problems.append(CsvProblem(number, f"has a value in column {i}, which has no name in row 1"))
            continue
        if len(cell) > max_cell_chars:
            table.problems.append(CsvProblem(number, f"is longer than {max_cell_chars:,} characters", name))
            continue
        cells[name] = cell.replace("\r\n", "\n")
    return CsvRow(number, line, cells)
