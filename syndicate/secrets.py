"""Secrets: ``${VAR}`` references, their resolution, and redaction of their values everywhere.

Config files never hold a secret, only a reference such as ``${X_ACCESS_TOKEN}``. A reference is
resolved from the environment, else from the secrets file named in ``accounts.yaml``
(``secrets_file:``, lines of ``NAME=value`` or a YAML mapping). Every value resolved is added to
the redaction set, and :func:`redact` replaces it (and well-known token shapes) with ``[REDACTED]``
in any text: log lines, ledger errors, exception messages.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

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


class _Registry:
    def __init__(self) -> None:
        self._values: set[str] = set()
        self._lock = threading.Lock()
        self._pattern: re.Pattern[str] | None = None

    def add(self, value: str) -> None:
        if len(value) < _MIN_SECRET_CHARS:
            return
        with self._lock:
            if value not in self._values:
                self._values.add(value)
                self._pattern = None

    def pattern(self) -> re.Pattern[str] | None:
        with self._lock:
            if self._pattern is None and self._values:
                alternatives = sorted(self._values, key=len, reverse=True)
                self._pattern = re.compile("|".join(re.escape(v) for v in alternatives))
            return self._pattern


_registry = _Registry()


def add_secret(value: str) -> None:
    """Register ``value`` so that :func:`redact` removes it from any text from now on."""
    _registry.add(value)


def redact(text: str) -> str:
    """``text`` with every registered secret and every token-shaped value replaced by ``[REDACTED]``."""
    if not text:
        return text
    pattern = _registry.pattern()
    if pattern is not None:
        text = pattern.sub(REDACTED, text)
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
        from .errors import AuthError

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
