"""Items from a CSV file: one row per item, one column per field (``docs/items.md``, "CSV files").

Columns are the item's fields by the dotted name a refusal gives them (``title``, ``cta.url``,
``media.0.url``, ``repeat.interval``); ``FIELD@LOCALE`` columns (``title@de-DE``) hold the human
translation of a field for one locale, as ``overrides.locales`` does in a YAML item. List fields
(``tags``, ``locales``, ``channels``, ``never_tag``) hold their entries separated by
:data:`LIST_SEPARATOR`. An empty cell is a field left out.

A file is accepted whole or refused whole: every problem of every row is listed, each with its row
number (the header is row 1, as a spreadsheet numbers them) and its column, and nothing of a
refused file is submitted.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..base.csvfile import CsvProblem, CsvRow, CsvTable, read_csv
from ..base.hints import did_you_mean
from ..base.inputs import InputError, Path_
from ..errors import ContentError
from ..model.item import TRANSLATABLE_FIELDS, ContentItem, IntakeLimits, InvalidItem, parse_item

__all__ = ["LIST_FIELDS", "LIST_SEPARATOR", "InvalidBatch", "load_csv_items", "parse_columns"]

#: Between the entries of a list field in one cell: ``launch | dashboards``.
LIST_SEPARATOR = "|"
#: Fields whose cell is a list of entries.
LIST_FIELDS = frozenset({"tags", "locales", "channels", "never_tag"})
#: Fields whose cell is a whole number.
_INT_FIELDS = frozenset({("revision",), ("repeat", "count")})
#: How many problems of one file are shown; the rest are counted.
MAX_SHOWN_PROBLEMS = 100


class InvalidBatch(ContentError):
    """A file of several items was refused whole; ``messages`` lists every problem, one a line
    (``items.csv row 7, column 'publish_at': ...``)."""

    def __init__(self, source: str, messages: list[str]) -> None:
        self.source = source
        self.messages = messages
        shown = messages[:MAX_SHOWN_PROBLEMS]
        if len(messages) > len(shown):
            shown.append(f"{source}: and {len(messages) - len(shown):,} more problem(s)")
        super().__init__("\n".join(shown))
        self.args = ("\n".join(shown),)

    def __str__(self) -> str:
        return str(self.args[0])


def parse_columns(specs: Collection[str]) -> dict[str, str]:
    """``--column 'Headline=title'`` options as ``{"Headline": "title"}``.

    Raises:
        InputError: a spec without ``=``, or one column renamed twice.
    """
    out: dict[str, str] = {}
    for spec in specs:
        old, sep, new = spec.partition("=")
        old, new = old.strip(), new.strip()
        if not sep or not old or not new:
            raise InputError("--column", f"{spec!r} must read CSV_COLUMN=FIELD, e.g. 'Headline=title'")
        if old in out:
            raise InputError("--column", f"column {old!r} is renamed twice")
        out[old] = new
    return out


def _path(column: str) -> Path_:
    """The item path a column fills: ``title@de-DE`` → ``overrides.locales.de-DE.title``."""
    name, at, locale = column.partition("@")
    if at:
        return ("overrides", "locales", locale, name)
    return tuple(int(p) if p.isdigit() else p for p in column.split("."))


def _column_name(field: str) -> str:
    """The column a refused field (``overrides.locales.de-DE.title``) is written in (``title@de-DE``)."""
    parts = field.split(".")
    if len(parts) == 4 and parts[:2] == ["overrides", "locales"]:
        return f"{parts[3]}@{parts[2]}"
    return field


def _header_problems(columns: tuple[str, ...]) -> list[CsvProblem]:
    out = []
    known = list(ContentItem.model_fields)
    for column in columns:
        if not column:
            continue
        name, at, locale = column.partition("@")
        if at:
            if name not in TRANSLATABLE_FIELDS or not locale or "@" in locale:
                out.append(CsvProblem(1, f"a translation column is FIELD@LOCALE, with FIELD one of "
                                         f"{', '.join(TRANSLATABLE_FIELDS)} (e.g. 'title@de-DE')", column))
            continue
        head = column.split(".", 1)[0]
        if head not in known:
            guess = did_you_mean(head, known)
            hint = f"did you mean {guess!r}? " if guess else ""
            out.append(CsvProblem(1, f"is not an item field; {hint}rename a column with --column "
                                     f"'{column}=FIELD'", column))
    required = [n for n, f in ContentItem.model_fields.items() if f.is_required()]
    have = {c.split(".", 1)[0] for c in columns}
    for name in required:
        if name not in have:
            out.append(CsvProblem(1, f"has no column {name!r}: every item needs it"))
    return out


@dataclass
class _Leaf:
    value: Any
    column: str


def _cell_value(path: Path_, cell: str) -> Any:
    """The value a cell stands for. Raises ValueError for a number that is not one."""
    if path in _INT_FIELDS:
        if not (cell.strip().isascii() and cell.strip().isdigit()) or len(cell.strip()) > 10:
            raise ValueError(f"must be a whole number, not {cell[:50]!r}")
        return int(cell.strip())
    if path == ("approved",) and cell.strip().lower() in ("true", "false"):
        return cell.strip().lower() == "true"  # spreadsheets write TRUE
    if len(path) == 1 and path[0] in LIST_FIELDS:
        return [entry.strip() for entry in cell.split(LIST_SEPARATOR)]
    return cell


def _place(tree: dict[Any, Any], path: Path_, leaf: _Leaf) -> str | None:
    """Put ``leaf`` at ``path``; the column it clashes with, if any."""
    node = tree
    for key in path[:-1]:
        nxt = node.setdefault(key, {})
        if isinstance(nxt, _Leaf):
            return nxt.column
        node = nxt
    if path[-1] in node:
        there = node[path[-1]]
        return there.column if isinstance(there, _Leaf) else next(iter(_columns(there)))
    node[path[-1]] = leaf
    return None


def _columns(node: Any) -> list[str]:
    if isinstance(node, _Leaf):
        return [node.column]
    return [c for v in node.values() for c in _columns(v)]


def _build(node: Any, path: Path_, origin: dict[str, str]) -> Any:
    """Plain data from the tree; numbered keys become a list in their order, without gaps (a row with
    ``media.1.url`` and no ``media.0.url`` has one image). ``origin`` maps each dotted path to its column."""
    if isinstance(node, _Leaf):
        origin[".".join(map(str, path))] = node.column
        return node.value
    if node and all(isinstance(k, int) for k in node):
        return [_build(node[k], (*path, i), origin) for i, k in enumerate(sorted(node))]
    return {k: _build(v, (*path, k), origin) for k, v in node.items()}


def _where(field: str, origin: Mapping[str, str], columns: Collection[str]) -> str:
    """``column 'publish_at'`` (``, entry 2`` inside a list), or ``field 'x'`` when no column holds it."""
    field = field.removesuffix(".[key]")  # a mapping's key (an override's locale) was refused
    probe = field
    while probe:
        if probe in origin:
            rest = field[len(probe) + 1:]
            extra = f", entry {int(rest) + 1}" if rest.isdigit() else f", {rest}" if rest else ""
            return f"column {origin[probe]!r}{extra}"
        probe = probe.rpartition(".")[0]
    if not field:
        return "item"
    under = sorted({c for f, c in origin.items() if f.startswith(field + ".")})
    if under:
        return f"column {', '.join(map(repr, under))}" if len(under) == 1 else \
            f"columns {', '.join(map(repr, under))}"
    name = _column_name(field)
    return f"column {name!r}" if name in columns else f"field {field!r}"


def _row_item(table: CsvTable, row: CsvRow, limits: IntakeLimits, channels: Collection[str] | None,
              refused_columns: Collection[str]) -> tuple[ContentItem | None, list[str]]:
    label = f"{table.source} row {row.number}"
    tree: dict[Any, Any] = {}
    found: list[str] = []
    # Fields whose cell could not be read (already a problem): the model would only add "is required".
    unread = {".".join(map(str, _path(c))) for c in refused_columns}
    for column, cell in row.cells.items():
        path = _path(column)
        try:
            value = _cell_value(path, cell)
        except ValueError as exc:
            found.append(f"{label}, column {column!r}: {exc}")
            unread.add(".".join(map(str, path)))
            continue
        other = _place(tree, path, _Leaf(value, column))
        if other is not None:
            found.append(f"{label}, column {column!r}: fills the same field as column {other!r}; "
                         "leave one of them empty")
    origin: dict[str, str] = {}
    data = _build(tree, (), origin)
    try:
        item = parse_item(data, limits=limits, channels=channels)
    except InvalidItem as exc:
        found += [f"{label}, {_where(f, origin, table.columns)}: {r}" for f, r in exc.problems if f not in unread]
        return None, found
    except ContentError as exc:  # NotApproved
        return None, [*found, f"{label}, {_where(exc.field or '', origin, table.columns)}: {exc.reason}"]
    return (None if found else item), found


def load_csv_items(path: Path, *, limits: IntakeLimits | None = None, channels: Collection[str] | None = None,
                   rename: Mapping[str, str] | None = None,
                   on_progress: Callable[[int, int], None] | None = None) -> list[ContentItem]:
    """Read and validate every row of the CSV file ``path`` as an item, all or nothing.

    Args:
        path: the file.
        limits: the intake limits; the file may hold at most ``max_batch_items`` rows and
            ``max_csv_bytes`` bytes, a cell at most ``max_item_bytes`` characters.
        channels: the channel names the config knows (see ``channel_names``).
        rename: CSV column names to read as other names (:func:`parse_columns`).
        on_progress: called with (rows checked, rows) as rows are validated.

    Raises:
        InvalidBatch: every problem of the file, each naming the row and the column.
    """
    lim = limits or IntakeLimits()
    source = str(path)
    try:
        size = path.stat().st_size
        if size > lim.max_csv_bytes:
            raise InputError(source, f"is {size:,} bytes, more than the limit of {lim.max_csv_bytes:,} "
                                     "(intake.max_csv_bytes in settings.yaml); split it into several files")
        table = read_csv(path.read_bytes(), source, max_bytes=lim.max_csv_bytes, max_rows=lim.max_batch_items,
                         max_cell_chars=lim.max_item_bytes, rename=rename)
    except OSError as exc:
        raise InvalidBatch(source, [f"{source}: cannot be read: {exc.strerror}"]) from None
    except InputError as exc:
        raise InvalidBatch(source, [str(exc)]) from None
    messages = [_problem_message(table, p) for p in _header_problems(table.columns)]
    if messages:  # every row would repeat the header's problems
        raise InvalidBatch(source, messages)
    if not table.rows:
        raise InvalidBatch(source, [f"{source}: has a header and no item rows"])
    row_problems: dict[int, list[str]] = {}
    refused_cells: dict[int, list[str]] = {}
    for p in table.problems:
        row_problems.setdefault(p.row, []).append(_problem_message(table, p))
        if p.column:
            refused_cells.setdefault(p.row, []).append(p.column)
    items: list[ContentItem] = []
    first_row: dict[str, int] = {}
    for done, row in enumerate(table.rows, 1):
        item, found = _row_item(table, row, lim, channels, refused_cells.get(row.number, ()))
        if item is not None:
            if item.id in first_row:
                found = [f"{source} row {row.number}, column 'id': {item.id!r} is also on row {first_row[item.id]}; "
                         "one row per item"]
            else:
                first_row[item.id] = row.number
                items.append(item)
        if found:
            row_problems.setdefault(row.number, []).extend(found)
        if on_progress is not None:
            on_progress(done, len(table.rows))
    if row_problems:
        raise InvalidBatch(source, [m for n in sorted(row_problems) for m in row_problems[n]])
    return items


def _problem_message(table: CsvTable, p: CsvProblem) -> str:
    where = f", column {p.column!r}" if p.column else ""
    return f"{table.source} row {p.row}{where}: {p.reason}"
