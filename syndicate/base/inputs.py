"""Strict readers for YAML and JSON input, with the line of every value.

YAML is read with PyYAML's safe composer, then built by hand so that we can refuse what a
config or an item never needs and what makes files mean something other than they seem:

* anchors, aliases and merge keys (``&a``, ``*a``, ``<<``), which also rules out "billion laughs";
* explicit tags (``!!python/object``, ``!!binary``, even ``!!str``);
* duplicate keys in a mapping, more than one document in a file, and nesting deeper than
  ``MAX_DEPTH``;
* bytes that are not UTF-8, non-printable control characters, and more than one byte-order mark
  at the start of a file;
* lone surrogates (``"\\ud800"`` escapes, which decode to something that is not text and cannot be
  stored or sent) and numbers that are not finite, anywhere in the data.

Scalars follow the YAML 1.2 core schema, not PyYAML's 1.1 one: only ``true``/``false`` are
booleans (``no``, ``on`` and ``yes`` stay strings, so Norway's ``no`` locale survives),
timestamps stay strings (the models decide what a valid datetime is), and ``.nan``/``.inf``
are refused. JSON is strict too: no NaN or Infinity, no duplicate keys.

Both readers return a :class:`Document`: the data plus a map from each value's path (a tuple of
keys and indexes) to its 1-based line, so validation errors can name ``file:line: field``. For
JSON the lines come from a small linear scanner run over the text, once ``json`` has accepted it
and only when a line is asked for (valid input never pays for it).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.composer import Composer
from yaml.events import AliasEvent, MappingStartEvent, ScalarEvent, SequenceStartEvent
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

__all__ = [
    "Document",
    "InputError",
    "Path_",
    "dotted",
    "line_of",
    "load_file",
    "load_json",
    "load_yaml",
    "read_text",
    "value_problems",
]

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
_SURROGATE = re.compile("[\ud800-\udfff]")
#: The ``json`` module's string scanner (C-accelerated): ``(text, index after the quote, strict)`` to
#: ``(value, index after the closing quote)``.
_scan_string: Callable[[str, int, bool], tuple[str, int]] = json.decoder.scanstring  # type: ignore[attr-defined]


class InputError(ValueError):
    """A file or string could not be read as strict YAML or JSON.

    Attributes:
        source: the file name or a description of the input (``"<stdin>"``).
        line: 1-based line of the problem, when known.
        column: 1-based column of the problem, when known.
        reason: what is wrong.
        field: dotted path of the offending value inside the data (``overrides.locales.de-DE.title``),
            or "" when the problem is not one value's (syntax, encoding, size).
    """

    def __init__(self, source: str, reason: str, line: int | None = None, column: int | None = None, *,
                 field: str = "") -> None:
        self.source = source
        self.line = line
        self.column = column
        self.reason = reason
        self.field = field
        where = f"{source}:{line}" if line is not None else source
        super().__init__(f"{where}: {field}: {reason}" if field else f"{where}: {reason}")


@dataclass
class Document:
    """Parsed data plus the line where each value starts (for JSON, found on first use)."""

    source: str
    data: Any
    lines: dict[Path_, int] = field(default_factory=dict)
    #: JSON text whose lines :func:`line_of` has yet to find (only an error needs them).
    json_text: str | None = field(default=None, repr=False)


def dotted(path: Path_) -> str:
    """``path`` as a dotted field name (``overrides.locales.de-DE.title``, ``tags.2``)."""
    return ".".join(str(p) for p in path)


def line_of(doc: Document, path: Path_) -> int | None:
    """The line of ``path`` in ``doc``, or of its nearest ancestor that has one."""
    if doc.json_text is not None:
        doc.lines, doc.json_text = _json_lines(doc.json_text), None
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
    if text.startswith("\ufeff"):
        raise InputError(source, "starts with more than one byte-order mark (U+FEFF); save it as UTF-8 with "
                                 "at most one", 1)
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
    _refuse_values(doc)
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


def _safe_key(key: object) -> str | int:
    """A key as it may appear in a message: lone surrogates escaped (they cannot be printed or stored)."""
    if isinstance(key, str):
        return key.encode("utf-8", "backslashreplace").decode("utf-8") if _SURROGATE.search(key) else key
    return key if isinstance(key, int) else str(key)


def _lone_surrogate(text: str) -> str | None:
    m = _SURROGATE.search(text)
    if m is None:
        return None
    return (f"contains the lone surrogate U+{ord(m.group()):04X} (an unpaired \\u{ord(m.group()):04x} escape), "
            "which is not a character")


def value_problems(data: Any) -> list[tuple[Path_, str]]:
    """What no strict reader lets through, wherever it is in ``data``, in document order.

    Lone surrogates in strings and keys, numbers that are not finite (NaN, infinities) and nesting
    deeper than ``MAX_DEPTH``. ``json.loads`` accepts ``"\\ud800"`` and ``1e400``; Python callers can
    pass anything. Each problem is ``(path, reason)``; keys in a path have surrogates escaped.
    """
    out: list[tuple[Path_, str]] = []

    def walk(value: Any, path: Path_, depth: int) -> None:
        if isinstance(value, str):
            reason = _lone_surrogate(value)
            if reason:
                out.append((path, reason))
        elif isinstance(value, float):
            if not math.isfinite(value):
                out.append((path, f"is not a finite number ({value}); numbers must be finite"))
        elif isinstance(value, Mapping | list | tuple):
            if depth >= MAX_DEPTH:
                out.append((path, f"nesting deeper than {MAX_DEPTH} levels"))
                return
            pairs = value.items() if isinstance(value, Mapping) else enumerate(value)
            for key, child in pairs:
                here = (*path, _safe_key(key))
                reason = _lone_surrogate(key) if isinstance(key, str) else None
                if reason:
                    out.append((here, f"the key {reason}"))
                else:
                    walk(child, here, depth + 1)

    walk(data, (), 0)
    return out


def _json_lines(text: str) -> dict[Path_, int]:
    """The 1-based line of every value (and of every key) in ``text``, which must be valid JSON.

    One pass, no backtracking: strings are skipped with the ``json`` module's own scanner, and
    JSON allows line breaks only between tokens.
    """
    lines: dict[Path_, int] = {}
    # One frame per open container: its path, whether it is a list, the next index or current key,
    # and (for objects) whether a key is expected next.
    frames: list[list[Any]] = []
    line, i, n = 1, 0, len(text)

    def here() -> Path_:
        if not frames:
            return ()
        path, _, slot, _ = frames[-1]
        return (*path, slot)

    while i < n:
        c = text[i]
        if c == "\n":
            line += 1
            i += 1
        elif c in " \t\r":
            i += 1
        elif c in "{[":
            path = here()
            lines.setdefault(path, line)
            frames.append([path, c == "[", 0 if c == "[" else None, c == "{"])
            i += 1
        elif c in "}]":
            frames.pop()
            i += 1
        elif c == ",":
            top = frames[-1]
            if top[1]:
                top[2] += 1
            else:
                top[3] = True
            i += 1
        elif c == ":":
            frames[-1][3] = False
            i += 1
        elif c == '"':
            value, i = _scan_string(text, i + 1, True)
            if frames and not frames[-1][1] and frames[-1][3]:
                frames[-1][2] = value
                lines[here()] = line
            else:
                lines.setdefault(here(), line)
        else:  # a number, true, false or null
            lines.setdefault(here(), line)
            while i < n and text[i] not in ",]} \t\r\n":
                i += 1
    return lines


def _refuse_values(doc: Document) -> None:
    found = value_problems(doc.data)
    if found:
        path, reason = found[0]
        raise InputError(doc.source, reason, line_of(doc, path), field=dotted(path))


def load_json(raw: bytes | str, source: str, *, max_bytes: int = DEFAULT_MAX_FILE_BYTES) -> Document:
    """Parse strict JSON (no NaN/Infinity, no duplicate keys, no lone surrogates, UTF-8 only), with lines."""
    text = read_text(raw.encode("utf-8") if isinstance(raw, str) else raw, source, max_bytes=max_bytes)
    try:
        data = json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise InputError(source, f"invalid JSON: {exc.msg}", exc.lineno, exc.colno) from None
    except (ValueError, RecursionError) as exc:
        raise InputError(source, f"invalid JSON: {exc}") from None
    doc = Document(source=source, data=data, json_text=text if isinstance(data, Mapping | list) else None)
    _refuse_values(doc)
    return doc


def load_file(path: Path, *, max_bytes: int = DEFAULT_MAX_FILE_BYTES) -> Document:
    """Read ``path`` as JSON when it ends in ``.json``, else as YAML."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(str(path), f"cannot be read: {exc.strerror}") from None
    if path.suffix.lower() == ".json":
        return load_json(raw, str(path), max_bytes=max_bytes)
    return load_yaml(raw, str(path), max_bytes=max_bytes)
