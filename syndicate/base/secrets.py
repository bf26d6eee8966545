"""Secrets: ``${VAR}`` references, their resolution, and redaction of their values everywhere.

Config files never hold a secret, only a reference such as ``${X_ACCESS_TOKEN}``. A reference is
resolved from the environment, else from the secrets file named in ``accounts.yaml``
(``secrets_file:``, lines of ``NAME=value`` or a YAML mapping). Every value resolved is added to
the redaction set, and :func:`redact` replaces it (and well-known token shapes) with ``[REDACTED]``
in any text: log lines, ledger errors, exception messages. A value is found as written and in the
forms libraries turn it into on its way to a log line: percent-encoded (``quote`` and
``quote_plus``, either hex case, as a URL's query or a form body carries it), JSON-escaped, and
base64-encoded (HTTP Basic auth encodes ``user:password``: the part of the base64 text that
encodes the secret is found whatever the user name).
"""

from __future__ import annotations

import base64
import os
import re
import string
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "REDACTED",
    "Credentials",
    "SecretRef",
    "SecretSource",
    "add_secret",
    "parse_ref",
    "redact",
]

REDACTED = "[REDACTED]"

_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")

# Shapes of secrets we may see without having resolved them ourselves (a platform echoing a key,
# a library logging a header). Each pattern keeps its first group and redacts the rest.
_PATTERNS = [
    re.compile(r"(?i)(authorization[\"']?\s*[:=]\s*[\"']?(?:bearer|basic|oauth|deepl-auth-key)?\s*)[^\s\"',}]+"
               r"(?:[ \t]*,[ \t]*oauth_[a-z_]+=\"[^\"]*\")*"),
    re.compile(r"(?i)(\bbearer(?:\s+|%20|\+))[A-Za-z0-9\-._~+/%]{8,}=*"),
    re.compile(r"(?i)([?&;\s\"'](?:api[_-]?key|auth[_-]?key|access[_-]?token|refresh[_-]?token|client[_-]?secret"
               r"|key|token|secret|password|app[_-]?password|oauth_signature|oauth_token)[\"']?\s*[=:]\s*[\"']?)"
               r"[^&\s\"',}]{4,}"),
    re.compile(r"(whsec_)[A-Za-z0-9+/=]{8,}"),
]

_MIN_SECRET_CHARS = 4
#: Base64 text shorter than this, cut from a secret, is not redacted on its own (too many false hits).
_MIN_BASE64_CORE = 8
_BASE64_CHARS = frozenset(string.ascii_letters + string.digits + "+/-_")
#: Escapes that libraries put between a secret and a log line: percent-encoding (runs of ``%XX``,
#: either hex case) and JSON's ``\uXXXX``, ``\"``, ``\\``, ``\/``.
_ESCAPE = re.compile(r"(?:%[0-9A-Fa-f]{2})+|\\u[0-9A-Fa-f]{4}|\\[\"\\/]")


def _base64_cores(value: str) -> set[str]:
    """The parts of a base64 text that depend on ``value`` alone, wherever ``value`` sits in what was
    encoded (``user:secret`` in HTTP Basic auth): one per byte alignment, standard and URL-safe."""
    raw = value.encode("utf-8", "surrogatepass")
    cores: set[str] = set()
    for pad in range(3):
        encoded = base64.b64encode(b"\0" * pad + raw).decode("ascii")
        # The characters whose six bits all come from ``value``.
        core = encoded[-(-8 * pad // 6):8 * (pad + len(raw)) // 6]
        if len(core) >= _MIN_BASE64_CORE:
            cores.add(core)
            cores.add(core.translate(str.maketrans("+/", "-_")))
    return cores


def _alternation(words: set[str]) -> str:
    """One pattern matching any of ``words``, the longest where several match: a trie, so that a
    scan tries the few words that share a prefix with the text, not every word (hundreds of
    secrets and their base64 forms stay as fast to find as a handful)."""
    trie: dict[str, Any] = {}
    for word in words:
        node = trie
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}

    def render(node: dict[str, Any]) -> str:
        branches = []
        for ch in sorted(k for k in node if k):
            run, child = re.escape(ch), node[ch]
            while len(child) == 1 and "" not in child:  # a chain without a choice: one literal
                (nxt, child), = child.items()
                run += re.escape(nxt)
            branches.append(run + render(child))
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        if "" in node:  # a word ends here: the longer words through this node are optional
            return body + "?" if len(branches) == 1 and len(branches[0]) == 1 else f"(?:{body})?"
        return body

    return render(trie)


def _decoded(text: str) -> tuple[str, list[int]]:
    """``text`` with its escapes (:data:`_ESCAPE`, a ``+`` kept as it is) decoded, and for each
    character of the result the offset in ``text`` where it comes from, plus ``len(text)``."""
    out: list[str] = []
    starts: list[int] = []
    pos = 0
    for m in _ESCAPE.finditer(text):
        out.append(text[pos:m.start()])
        starts.extend(range(pos, m.start()))
        token = m.group()
        if token[0] == "%":
            offset = m.start()
            for ch in bytes.fromhex(token.replace("%", "")).decode("utf-8", "surrogateescape"):
                out.append(ch)
                starts.append(offset)
                offset += 3 * len(ch.encode("utf-8", "surrogateescape"))
        else:
            out.append(chr(int(token[2:], 16)) if token[1] == "u" else token[1])
            starts.append(m.start())
        pos = m.end()
    out.append(text[pos:])
    starts.extend(range(pos, len(text) + 1))
    return "".join(out), starts


def _widen(text: str, start: int, end: int) -> tuple[int, int]:
    """A base64 core's span widened to the characters that mix its bits with its neighbours' (one
    on each side) and to the padding after it."""
    if start > 0 and text[start - 1] in _BASE64_CHARS:
        start -= 1
    if end < len(text) and text[end] in _BASE64_CHARS:
        end += 1
    for _ in range(2):
        if text.startswith("=", end):
            end += 1
        elif text[end:end + 3].upper() == "%3D":
            end += 3
    return start, end


class _Registry:
    def __init__(self) -> None:
        self._values: set[str] = set()
        self._lock = threading.Lock()
        self._pattern: re.Pattern[str] | None = None
        self._cores: frozenset[str] = frozenset()

    def add(self, value: str) -> None:
        if len(value) < _MIN_SECRET_CHARS:
            return
        with self._lock:
            if value not in self._values:
                self._values.add(value)
                self._pattern = None

    def pattern(self) -> tuple[re.Pattern[str] | None, frozenset[str]]:
        """One alternation of every value and every base64 core, longest first; and the cores."""
        with self._lock:
            if self._pattern is None and self._values:
                cores = {c for v in self._values for c in _base64_cores(v)}
                # Form encoding writes a space as "+" (and a "+" as %2B, decoded before the scan).
                plus = {v.replace(" ", "+") for v in self._values}
                self._pattern = re.compile(_alternation(self._values | plus | cores))
                self._cores = frozenset(cores)
            return self._pattern, self._cores

    def spans(self, text: str) -> list[tuple[int, int]]:
        """Where registered values are in ``text``, as written, percent-encoded, form-encoded,
        JSON-escaped or base64-encoded: merged ``(start, end)`` spans, in order."""
        pattern, cores = self.pattern()
        if pattern is None:
            return []
        views: list[tuple[str, list[int] | None]] = [(text, None)]
        if "%" in text or "\\" in text:
            views.append(_decoded(text))
        found: list[tuple[int, int]] = []
        for view, starts in views:
            for m in pattern.finditer(view):
                start, end = m.span() if starts is None else (starts[m.start()], starts[m.end()])
                found.append(_widen(text, start, end) if m.group() in cores else (start, end))
        found.sort()
        merged: list[tuple[int, int]] = []
        for start, end in found:
            if merged and start <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
            else:
                merged.append((start, end))
        return merged


_registry = _Registry()


def add_secret(value: str) -> None:
    """Register ``value`` so that :func:`redact` removes it from any text from now on."""
    _registry.add(value)


def redact(text: str) -> str:
    """``text`` with every registered secret and every token-shaped value replaced by ``[REDACTED]``.

    A registered value is found as written and encoded: percent-encoded (``quote``,
    ``quote_plus``, any hex case, partly or wholly), JSON-escaped, and base64-encoded anywhere in
    what was encoded (HTTP Basic auth's ``user:password``).
    """
    if not text:
        return text
    spans = _registry.spans(text)
    if spans:
        parts: list[str] = []
        pos = 0
        for start, end in spans:
            parts.append(text[pos:start])
            parts.append(REDACTED)
            pos = end
        parts.append(text[pos:])
        text = "".join(parts)
    for pat in _PATTERNS:
        text = pat.sub(lambda m: m.group(1) + REDACTED, text)
    return text


@dataclass(frozen=True)
class SecretRef:
    """A reference to a secret by variable name, as written in YAML: ``${NAME}``."""

    var: str

    def __str__(self) -> str:
        return "${" + self.var + "}"


def parse_ref(value: object) -> SecretRef:
    """Parse ``${NAME}``; anything else (a literal secret in a config file) is refused."""
    if not isinstance(value, str):
        raise ValueError("must be a reference such as '${X_ACCESS_TOKEN}'")
    m = _REF.fullmatch(value.strip())
    if m is None:
        raise ValueError("secrets are given by environment reference, e.g. '${X_ACCESS_TOKEN}', "
                         "never written in the file")
    return SecretRef(m.group(1))


@dataclass
class SecretSource:
    """Where references are resolved: the environment first, then an optional secrets file."""

    environ: Mapping[str, str] = field(default_factory=lambda: os.environ)
    file_values: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_file(cls, path: Path | None, environ: Mapping[str, str] | None = None) -> SecretSource:
        """Read ``NAME=value`` lines (``#`` comments allowed) from ``path``; missing path: env only."""
        values: dict[str, str] = {}
        if path is not None:
            for raw in path.read_text(encoding="utf-8").splitlines():
                line = raw.strip()
                if not line or line.startswith("#"):
                    continue
                name, sep, value = line.partition("=")
                if not sep:
                    name, sep, value = line.partition(":")
                if sep and name.strip():
                    values[name.strip()] = value.strip().strip("\"'")
        return cls(environ=environ if environ is not None else os.environ, file_values=values)

    def lookup(self, ref: SecretRef) -> str | None:
        """The value of ``ref``, or None when neither the environment nor the file has it."""
        value = self.environ.get(ref.var)
        if value is None:
            value = self.file_values.get(ref.var)
        if value:
            add_secret(value)
            return value
        return None


class Credentials:
    """The credentials of one account, resolved on demand and never shown.

    ``repr`` and ``str`` show only the reference names. :meth:`get` raises
    :class:`~syndicate.errors.AuthError` naming the account, the credential and the variable when
    the variable is unset, never a value.
    """

    def __init__(self, account: str, refs: Mapping[str, SecretRef], source: SecretSource | None = None) -> None:
        self._account = account
        self._refs = dict(refs)
        self._source = source or SecretSource()

    def names(self) -> list[str]:
        """The credential names this account declares."""
        return sorted(self._refs)

    def ref(self, name: str) -> SecretRef | None:
        """The reference behind credential ``name``."""
        return self._refs.get(name)

    def missing(self) -> list[tuple[str, str]]:
        """``(credential, variable)`` for every reference that does not resolve."""
        return [(n, r.var) for n, r in sorted(self._refs.items()) if self._source.lookup(r) is None]

    def get(self, name: str) -> str:
        """The value of credential ``name``."""
        from ..errors import AuthError

        ref = self._refs.get(name)
        if ref is None:
            raise AuthError(f"account {self._account!r} has no credential {name!r} in accounts.yaml")
        value = self._source.lookup(ref)
        if value is None:
            raise AuthError(f"account {self._account!r}: credential {name!r} needs the environment variable "
                            f"{ref.var}, which is not set")
        return value

    def optional(self, name: str) -> str | None:
        """The value of credential ``name`` if it is declared and set, else None."""
        ref = self._refs.get(name)
        return self._source.lookup(ref) if ref is not None else None

    def __repr__(self) -> str:
        refs = ", ".join(f"{n}={r}" for n, r in sorted(self._refs.items()))
        return f"Credentials({self._account!r}, {refs})"
