"""Strict readers for YAML and JSON input, with the line of every value.

YAML is read with PyYAML's safe composer, then built by hand so that we can refuse what a
config or an item never needs and what makes files mean something other than they seem:

* anchors, aliases and merge keys (``&a``, ``*a``, ``<<``), which also rules out "billion laughs";
* explicit tags (``!!python/object``, ``!!binary``, even ``!!str``);
* duplicate keys in a mapping, more than one document in a file, and nesting deeper than
  ``MAX_DEPTH``;
* bytes that are not UTF-8, and non-printable control characters.

Scalars follow the YAML 1.2 core schema, not PyYAML's 1.1 one: only ``true``/``false`` are
booleans (``no``, ``on`` and ``yes`` stay strings, so Norway's ``no`` locale survives),
timestamps stay strings (the models decide what a valid datetime is), and ``.nan``/``.inf``
are refused. JSON is strict too: no NaN or Infinity, no duplicate keys.

Both readers return a :class:`Document`: the data plus a map from each value's path (a tuple of
keys and indexes) to its 1-based line, so validation errors can name ``file:line: field``.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.composer import Composer
from yaml.events import AliasEvent, MappingStartEvent, ScalarEvent, SequenceStartEvent
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

__all__ = ["Document", "InputError", "Path_", "line_of", "load_file", "load_json", "load_yaml", "read_text"]

#: A path inside a document: mapping keys and sequence indexes.
Path_ = tuple[str | int, ...]

#: Largest file we read, in bytes (configs and items alike).
DEFAULT_MAX_FILE_BYTES = 4 * 1024 * 1024

#: Deepest nesting we accept; legitimate configs and items are a handful of levels deep.
MAX_DEPTH = 32

#: Longest integer literal we read (a 64-bit integer has at most 20 digits).
_MAX_NUMBER_CHARS = 40

# C0 and C1 controls except TAB, LF and CR; also DEL. Refused anywhere in a file.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")

_INT = re.compile(r"[-+]?(0|[1-9][0-9]*)")
_INT_OCT = re.compile(r"0o[0-7]+")
_INT_HEX = re.compile(r"0x[0-9a-fA-F]+")
_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")
_SPECIAL_FLOAT = re.compile(r"[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN)")


class InputError(ValueError):
    """A file or string could not be read as strict YAML or JSON.

    Attributes:
        source: the file name or a description of the input (``"<stdin>"``).
        line: 1-based line of the problem, when known.
        column: 1-based column of the problem, when known.
        reason: what is wrong.
    """

    def __init__(self, source: str, reason: str, line: int | None = None, column: int | None = None) -> None:
        self.source = source
        self.line = line
        self.column = column
        self.reason = reason
        where = f"{source}:{line}" if line is not None else source
        super().__init__(f"{where}: {reason}")


@dataclass
class Document:
    """Parsed data plus the line where each value starts."""

    source: str
    data: Any
    lines: dict[Path_, int] = field(default_factory=dict)


def line_of(doc: Document, path: Path_) -> int | None:
    """The line of ``path`` in ``doc``, or of its nearest ancestor that has one."""
    p = tuple(path)
    while True:
        if p in doc.lines:
            return doc.lines[p]
        if not p:
            return None
        p = p[:-1]


def read_text(raw: bytes, source: str, *, max_bytes: int = DEFAULT_MAX_FILE_BYTES) -> str:
    """Decode ``raw`` as strict UTF-8 (a leading BOM is dropped) and refuse control characters."""
    if len(raw) > max_bytes:
        raise InputError(source, f"is {len(raw):,} bytes, more than the limit of {max_bytes:,}")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputError(source, f"is not valid UTF-8 (byte 0x{raw[exc.start]:02x} at offset {exc.start})",
                         line) from None
    text = text.removeprefix("\ufeff")
    m = _CONTROL.search(text)
    if m:
        line = text.count("\n", 0, m.start()) + 1
        raise InputError(source, f"contains the control character U+{ord(m.group()):04X}", line)
    return text


class _StrictComposer(yaml.SafeLoader):
    """SafeLoader whose composer refuses anchors, aliases, explicit tags and deep nesting."""

    _depth = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        event = self.peek_event()  # type: ignore[no-untyped-call]
        line = event.start_mark.line + 1 if event.start_mark is not None else None
        if isinstance(event, AliasEvent):
            raise InputError(self.name, "aliases (*name) are not allowed", line)
        if isinstance(event, ScalarEvent | MappingStartEvent | SequenceStartEvent):
            if event.anchor is not None:
                raise InputError(self.name, "anchors (&name) are not allowed", line)
            if event.tag is not None:
                raise InputError(self.name, f"explicit tags ({event.tag}) are not allowed", line)
        if self._depth > MAX_DEPTH:  # before composing deeper: the composer recurses once per level
            raise InputError(self.name, f"nesting deeper than {MAX_DEPTH} levels", line)
        self._depth += 1
        try:
            return Composer.compose_node(self, parent, index)
        finally:
            self._depth -= 1


def _scalar(node: ScalarNode, source: str) -> Any:
    value: str = node.value
    if node.style is not None:  # quoted or block scalar: always a string
        return value
    if value in ("", "~", "null", "Null", "NULL"):
        return None
    if value in ("true", "True", "TRUE"):
        return True
    if value in ("false", "False", "FALSE"):
        return False
    number = _INT.fullmatch(value) or _INT_OCT.fullmatch(value) or _INT_HEX.fullmatch(value)
    if number and len(value) > _MAX_NUMBER_CHARS:
        raise InputError(source, f"a number of {len(value):,} characters is not allowed", node.start_mark.line + 1)
    if _INT.fullmatch(value):
        return int(value)
    if _INT_OCT.fullmatch(value):
        return int(value[2:], 8)
    if _INT_HEX.fullmatch(value):
        return int(value[2:], 16)
    if _SPECIAL_FLOAT.fullmatch(value):
        raise InputError(source, f"{value} is not allowed (no infinities or NaN)", node.start_mark.line + 1)
    if _FLOAT.fullmatch(value):
        f = float(value)
        if not math.isfinite(f):
            raise InputError(source, f"{value[:40]} is too large for a number", node.start_mark.line + 1)
        return f
    return value


def _build(node: Node, path: Path_, doc: Document, depth: int) -> Any:
    doc.lines[path] = node.start_mark.line + 1
    if depth > MAX_DEPTH:
        raise InputError(doc.source, f"nesting deeper than {MAX_DEPTH} levels", node.start_mark.line + 1)
    if isinstance(node, ScalarNode):
        return _scalar(node, doc.source)
    if isinstance(node, SequenceNode):
        return [_build(child, (*path, i), doc, depth + 1) for i, child in enumerate(node.value)]
    if isinstance(node, MappingNode):
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            if not isinstance(key_node, ScalarNode):
                raise InputError(doc.source, "mapping keys must be plain strings", line)
            if key_node.value == "<<" and key_node.style is None:
                raise InputError(doc.source, "merge keys (<<) are not allowed", line)
            key = key_node.value if key_node.style is not None else _scalar(key_node, doc.source)
            if not isinstance(key, str):
                key = key_node.value  # 1: foo -> "1"; keys are always strings for us
            if key in out:
                raise InputError(doc.source, f"duplicate key {key!r}", line)
            out[key] = _build(value_node, (*path, key), doc, depth + 1)
            doc.lines[(*path, key)] = line
        return out
    raise InputError(doc.source, f"unsupported YAML node {type(node).__name__}", node.start_mark.line + 1)


def _tab_hint(text: str, line: int | None) -> str | None:
    """A plain reason when a tab on ``line`` is what YAML refused (YAML indents with spaces only)."""
    if line is None:
        return None
    lines = text.splitlines()
    here = lines[line - 1] if 0 < line <= len(lines) else ""
    if "\t" not in here:
        return None
    if "\t" in here[: len(here) - len(here.lstrip(" \t"))]:
        return "invalid YAML: this line is indented with a tab; indent with spaces"
    return f"invalid YAML: a tab at column {here.index(chr(9)) + 1}; YAML allows only spaces there"


def load_yaml(raw: bytes | str, source: str, *, max_bytes: int = DEFAULT_MAX_FILE_BYTES) -> Document:
    """Parse one YAML document strictly (see the module docstring).

    Args:
        raw: the file's bytes (or text already decoded).
        source: the file name used in error messages.
        max_bytes: size limit in bytes.

    Raises:
        InputError: naming ``source`` and, where known, the line.
    """
    text = read_text(raw.encode("utf-8") if isinstance(raw, str) else raw, source, max_bytes=max_bytes)
    loader = _StrictComposer(text)
    loader.name = source
    doc = Document(source=source, data=None)
    try:
        node = loader.get_single_node()
    except InputError:
        raise
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        reason = " ".join(p for p in (exc.context, exc.problem) if p) or "invalid YAML"
        tab = _tab_hint(text, line) if "'\\t'" in reason else None
        raise InputError(source, tab or f"invalid YAML: {reason}", line,
                         mark.column + 1 if mark is not None else None) from None
    except yaml.YAMLError as exc:
        raise InputError(source, f"invalid YAML: {exc}") from None
    finally:
        loader.dispose()
    if node is not None:
        doc.data = _build(node, (), doc, 0)
    return doc


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"duplicate key {key!r}")
        out[key] = value
    return out


def _no_constant(name: str) -> float:
    raise ValueError(f"{name} is not valid JSON")


def _check_depth(value: Any, source: str, depth: int = 0) -> None:
    if depth > MAX_DEPTH:
        raise InputError(source, f"nesting deeper than {MAX_DEPTH} levels")
    if isinstance(value, Mapping):
        for v in value.values():
            _check_depth(v, source, depth + 1)
    elif isinstance(value, list):
        for v in value:
            _check_depth(v, source, depth + 1)
    elif isinstance(value, float) and not math.isfinite(value):
        raise InputError(source, "numbers must be finite")


def load_json(raw: bytes | str, source: str, *, max_bytes: int = DEFAULT_MAX_FILE_BYTES) -> Document:
    """Parse strict JSON (no NaN/Infinity, no duplicate keys, UTF-8 only). Lines are not tracked."""
    text = read_text(raw.encode("utf-8") if isinstance(raw, str) else raw, source, max_bytes=max_bytes)
    try:
        data = json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise InputError(source, f"invalid JSON: {exc.msg}", exc.lineno, exc.colno) from None
    except (ValueError, RecursionError) as exc:
        raise InputError(source, f"invalid JSON: {exc}") from None
    _check_depth(data, source)
    return Document(source=source, data=data)


def load_file(path: Path, *, max_bytes: int = DEFAULT_MAX_FILE_BYTES) -> Document:
    """Read ``path`` as JSON when it ends in ``.json``, else as YAML."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(str(path), f"cannot be read: {exc.strerror}") from None
    if path.suffix.lower() == ".json":
        return load_json(raw, str(path), max_bytes=max_bytes)
    return load_yaml(raw, str(path), max_bytes=max_bytes)
