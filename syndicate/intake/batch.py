"""Many items at once: what ``syndicate enqueue`` and ``syndicate run`` read from their arguments.

An argument is an item file (YAML or JSON), ``-`` (one item on stdin), a directory (its item files,
sorted by name, not its subdirectories) or a CSV file (one item a row, :mod:`.csv_items`). Every
source is read and validated before anything is submitted, and each refused source is named with
every problem it has (``docs/items.md``).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from ..errors import ContentError
from ..model.item import ContentItem, IntakeLimits, InvalidItem, load_item_bytes, load_item_file
from .csv_items import load_csv_items

__all__ = ["ITEM_SUFFIXES", "Batch", "item_sources", "load_batch"]

#: The files of a directory that are read as items (by name, case-insensitively).
ITEM_SUFFIXES = (".yaml", ".yml", ".json")

#: Called with (a label, done, total) while a long source is checked.
Progress = Callable[[str, int, int], None]


@dataclass
class Batch:
    """The items of every valid source, in order, and ``(source, message)`` for each refused one."""

    items: list[ContentItem] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)
    #: How many sources (files, stdin) were read, a directory counting as its files.
    sources: int = 0


def item_sources(args: Sequence[str], *, max_files: int) -> tuple[list[str], list[tuple[str, str]]]:
    """The files ``args`` name, directories replaced by their item files; and ``(arg, message)`` for a
    directory that cannot be used (unreadable, with no item file, or more than ``max_files``)."""
    out: list[str] = []
    problems: list[tuple[str, str]] = []
    for arg in args:
        path = Path(arg)
        if arg == "-" or not path.is_dir():
            out.append(arg)
            continue
        try:
            files = sorted(p for p in path.iterdir()
                           if p.suffix.lower() in ITEM_SUFFIXES and not p.name.startswith(".") and p.is_file())
        except OSError as exc:
            problems.append((arg, f"{arg}: cannot be read: {exc.strerror}"))
            continue
        if not files:
            problems.append((arg, f"{arg}: holds no item file ({', '.join('*' + s for s in ITEM_SUFFIXES)}); a CSV "
                                  "file is read when it is named itself"))
        elif len(files) > max_files:
            problems.append((arg, f"{arg}: holds {len(files):,} item files, more than the limit of {max_files:,} "
                                  "(intake.max_batch_items in settings.yaml)"))
        else:
            out.extend(str(p) for p in files)
    return out, problems


def _told(on_progress: Progress | None, label: str) -> Callable[[int, int], None] | None:
    if on_progress is None:
        return None
    report = on_progress
    return lambda done, total: report(label, done, total)


def load_batch(args: Sequence[str], *, limits: IntakeLimits, channels: Collection[str],
               stdin: BinaryIO | None = None, rename: Mapping[str, str] | None = None,
               on_progress: Progress | None = None) -> Batch:
    """Read and validate every item ``args`` name (see the module), without submitting anything.

    Args:
        args: item files, directories, CSV files, or ``-`` for stdin.
        limits: the intake limits.
        channels: the channel names the config knows.
        stdin: what ``-`` reads.
        rename: CSV column renames (``{"Headline": "title"}``); refused for a CSV file without that column.
        on_progress: told how far the check of a CSV file has come.
    """
    files, problems = item_sources(args, max_files=limits.max_batch_items)
    batch = Batch(refused=problems, sources=len(files) + len(problems))
    for src in files:
        try:
            if src == "-":
                if stdin is None:
                    raise InvalidItem(None, [("", "no standard input to read")], "<stdin>")
                batch.items.append(load_item_bytes(stdin.read(), "<stdin>", limits=limits, channels=channels))
            elif src.lower().endswith(".csv"):
                batch.items.extend(load_csv_items(Path(src), limits=limits, channels=channels, rename=rename,
                                                  on_progress=_told(on_progress, f"checking {Path(src).name}")))
            else:
                batch.items.append(load_item_file(Path(src), limits=limits, channels=channels))
        except InvalidItem as exc:
            batch.refused.append((src, str(exc)))
        except ContentError as exc:
            batch.refused.append((src, str(exc) if src.lower().endswith(".csv") else f"{src}: {exc}"))
    return batch
