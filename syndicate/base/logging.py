"""Structured logs: one JSON object per line (or readable lines on a terminal), secrets redacted.

Our own events go through structlog; records from other libraries (Dramatiq, requests, tweepy,
urllib3) go through the same processor chain via ``ProcessorFormatter``'s ``foreign_pre_chain``,
so the redaction processor sees every line, including tweepy's DEBUG dump of request headers.

Event names are stable identifiers that ops can alert on; see ``docs/operations.md``.
"""

from __future__ import annotations

import functools
import logging
import os
import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

from .secrets import REDACTED, redact

if TYPE_CHECKING:
    pass

__all__ = ["configure_logging", "get_logger", "redact_event"]

_configured = False


_SENSITIVE_KEYS = ("password", "secret", "token", "authorization", "api_key", "apikey", "auth_key", "cookie")


def _sensitive(key: object) -> bool:
    return isinstance(key, str) and _sensitive_name(key)


@functools.lru_cache(maxsize=4096)
def _sensitive_name(key: str) -> bool:
    # Log keys are few and repeat on every line: decide each name once.
    return any(s in key.lower() for s in _SENSITIVE_KEYS)


#: Values that cannot hold a secret, returned as they are without the checks below.
_PLAIN = frozenset({int, float, bool, type(None)})


def _scrub(value: Any) -> Any:
    """``value`` with secrets removed: strings redacted, containers walked, secret-named keys blanked."""
    if type(value) in _PLAIN:
        return value
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, bytes | bytearray):
        return redact(bytes(value).decode("utf-8", "replace"))
    if isinstance(value, Mapping):
        return {k: REDACTED if _sensitive(k) and v is not None else _scrub(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_scrub(v) for v in value)
    if isinstance(value, set | frozenset):
        return [_scrub(v) for v in value]
    if isinstance(value, BaseException):
        return redact(f"{type(value).__name__}: {value}")
    return value


def redact_event(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    """structlog processor: remove secrets from every value, and values of secret-named keys.

    Values are walked recursively (dicts, lists, bytes, exceptions); every string goes through
    :func:`syndicate.base.secrets.redact` (registered secret values and token-shaped text such as
    ``Authorization: Bearer ...``, ``?api_key=...``, ``whsec_...``), and any key whose name
    contains ``password``, ``secret``, ``token``, ``authorization``, ``api_key``, ``cookie``...
    has its value replaced by ``[REDACTED]``, at any depth.
    """
    return {key: REDACTED if _sensitive(key) and value is not None else _scrub(value)
            for key, value in event_dict.items()}


def _redact_rendered_exception(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    for key in ("exception", "stack"):
        if isinstance(event_dict.get(key), str):
            event_dict[key] = redact(event_dict[key])
    return event_dict


#: uvicorn's access line: ``'%s - "%s %s HTTP/%s" %d'`` with these arguments.
_ACCESS_FIELDS = ("client", "method", "path", "http_version", "status")


def _foreign_fields(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    """Other libraries' records as our events: uvicorn's ``color_message`` (the same text with ANSI
    colour codes) dropped, and its access line as an ``http.request`` event with its parts as fields."""
    event_dict.pop("color_message", None)
    args = event_dict.pop("positional_args", None)
    record = event_dict.get("_record")
    if isinstance(record, logging.LogRecord) and record.name == "uvicorn.access" and isinstance(args, tuple) \
            and len(args) == len(_ACCESS_FIELDS):
        event_dict["event"] = "http.request"
        event_dict.update(zip(_ACCESS_FIELDS, args, strict=True))
    return event_dict


def configure_logging(*, json: bool | None = None, level: str | None = None) -> None:
    """Route structlog and stdlib logging through one redacting chain to stderr.

    Args:
        json: JSON lines (default when stderr is not a terminal, or ``SYNDICATE_LOG_FORMAT=json``).
        level: minimum level (default ``$SYNDICATE_LOG_LEVEL`` or ``INFO``).
    """
    global _configured
    fmt = os.environ.get("SYNDICATE_LOG_FORMAT", "").lower()
    if json is None:
        json = fmt == "json" or (fmt != "console" and not sys.stderr.isatty())
    lvl = (level or os.environ.get("SYNDICATE_LOG_LEVEL") or "INFO").upper()
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: Processor = (structlog.processors.JSONRenderer() if json
                           else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty()))
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*shared, structlog.stdlib.ExtraAdder(), _foreign_fields],
        pass_foreign_args=True,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            _redact_rendered_exception,
            redact_event,
            renderer,
        ],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    for h in list(root.handlers):
        if getattr(h, "_syndicate", False):
            root.removeHandler(h)
    handler._syndicate = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(lvl)
    # Dramatiq logs every retry at INFO/WARNING already; keep urllib3's connection chatter down.
    logging.getLogger("urllib3").setLevel(max(logging.WARNING, root.level))
    _configured = True


def get_logger(name: str = "syndicate") -> Any:
    """A structlog logger; context bound with ``structlog.contextvars`` is merged in."""
    return structlog.stdlib.get_logger(name)
