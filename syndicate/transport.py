"""Helpers for adapters that talk HTTP through ``requests``: the boundary where client errors
become our typed errors, and the small pieces every channel needs.

The rule for a failed request is the phase it failed in (design §3.4): when :func:`nothing_sent`
says no byte of the request left (refused, DNS, connect timeout, proxy), a retry cannot duplicate
anything (``TransientError``); anything later may have created the post (``InDoubt``). TLS errors
count as "may have been sent": requests cannot tell a failed handshake from a failure mid-answer,
and a needless reconciliation costs one lookup where a wrong guess costs a duplicate post.
"""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

import requests
from markdown_it import MarkdownIt
from urllib3.exceptions import ConnectTimeoutError, MaxRetryError, NameResolutionError, NewConnectionError
from urllib3.exceptions import ProxyError as Urllib3ProxyError

from .models import sanitize_html

__all__ = ["body_html", "is_loopback", "markdown_to_html", "nothing_sent", "retry_after"]

_markdown = MarkdownIt("commonmark", {"html": False}).enable("table").enable("strikethrough")


def nothing_sent(exc: BaseException) -> bool:
    """Whether a ``requests`` error happened before any byte of the request left the machine."""
    if isinstance(exc, requests.exceptions.ConnectTimeout | requests.exceptions.ProxyError):
        return True
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        if isinstance(cur, NewConnectionError | ConnectTimeoutError | NameResolutionError | Urllib3ProxyError
                      | ConnectionRefusedError):
            return True
        if isinstance(cur, MaxRetryError) and cur.reason is not None:
            cur = cur.reason
            continue
        nested = cur.args[0] if cur.args and isinstance(cur.args[0], BaseException) else None
        cur = nested or cur.__cause__ or cur.__context__
    return False


def retry_after(value: str | None, *, now: datetime | None = None) -> datetime | None:
    """When a ``Retry-After`` header value (seconds or an HTTP date) says to come back, or None."""
    if not value or not value.strip():
        return None
    value = value.strip()
    moment = now or datetime.now(UTC)
    if value.isdigit():
        return moment + timedelta(seconds=int(value))
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return when.astimezone(UTC) if when.tzinfo is not None else when.replace(tzinfo=UTC)


def is_loopback(url: str) -> bool:
    """Whether ``url`` points at this machine (plain http is allowed there, for fakes and tunnels)."""
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def markdown_to_html(markdown: str) -> str:
    """CommonMark (with tables and strikethrough) to HTML; raw HTML in the Markdown is shown as text."""
    rendered: str = _markdown.render(markdown)
    return rendered


def body_html(body: str, body_format: str) -> str:
    """An item body as sanitized HTML, whether it was written in Markdown or HTML."""
    return sanitize_html(body if body_format == "html" else markdown_to_html(body))
