"""Builders for test configs and items. Plain data in, files or dicts out."""

from __future__ import annotations

import copy
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

__all__ = ["REPO", "ManualClock", "free_port", "item_data", "sandbox_accounts", "simple_route", "wait_until",
           "wait_until_consuming", "write_config"]

REPO = Path(__file__).resolve().parent.parent


def sandbox_accounts(*ids: str, **options: Any) -> dict[str, Any]:
    """Sandbox accounts with the given ids (options apply to each)."""
    return {i: {"adapter": "sandbox", "options": dict(options)} for i in ids}


def simple_route(region: str, locales: list[str], accounts: list[str], **extra: Any) -> dict[str, Any]:
    """A route publishing ``locales`` to ``accounts`` at any time, no translation engine unless given."""
    route: dict[str, Any] = {"region": region, "locales": locales, "timezone": "UTC", "accounts": accounts}
    route.update(extra)
    return route


def write_config(
    directory: Path,
    *,
    routes: list[dict[str, Any]] | None = None,
    accounts: dict[str, Any] | None = None,
    settings: dict[str, Any] | None = None,
    extra_files: dict[str, str] | None = None,
) -> Path:
    """Write accounts.yaml, routes/*.yaml (one per route, named by region) and optional files."""
    accounts = accounts if accounts is not None else sandbox_accounts("sandbox-a")
    routes = routes if routes is not None else [simple_route("test", ["en-US"], list(accounts))]
    (directory / "routes").mkdir(parents=True, exist_ok=True)
    (directory / "accounts.yaml").write_text(yaml.safe_dump({"accounts": accounts}, sort_keys=False),
                                             encoding="utf-8")
    for r in routes:
        (directory / "routes" / f"{r['region']}.yaml").write_text(yaml.safe_dump(r, sort_keys=False),
                                                                   encoding="utf-8")
    if settings is not None:
        (directory / "settings.yaml").write_text(yaml.safe_dump(settings, sort_keys=False), encoding="utf-8")
    for name, text in (extra_files or {}).items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return directory


_BASE_ITEM: dict[str, Any] = {
    "id": "item-1",
    "revision": 1,
    "source_locale": "en-US",
    "title": "A title",
    "summary": "A summary that says what the item is about.",
    "body": "Some body text with a link https://example.com/more and @someone.",
    "canonical_url": "https://example.com/post?x=1#frag",
    "cta": {"text": "Read more", "url": "https://example.com/post"},
    "campaign": "test-campaign",
    "tags": ["testing"],
    "approved": True,
    "approved_by": "tester@example.com",
    "approved_at": "2026-01-01T00:00:00Z",
}


def item_data(**overrides: Any) -> dict[str, Any]:
    """A valid item as a dict; keyword arguments replace fields (``None`` deletes one)."""
    data = copy.deepcopy(_BASE_ITEM)
    for k, v in overrides.items():
        if v is None:
            data.pop(k, None)
        else:
            data[k] = v
    return data


class ManualClock:
    """A ledger clock that a test sets (``clock.t = ...``) or moves forward (:meth:`advance`)."""

    def __init__(self, t: datetime | None = None) -> None:
        self.t = t or datetime.now(UTC)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self.t

    def advance(self, delta: timedelta) -> None:
        with self._lock:
            self.t += delta


def free_port() -> int:
    """A loopback TCP port that was free a moment ago."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port: int = s.getsockname()[1]
    s.close()
    return port


def wait_until(check: Callable[[], object], what: str, timeout_s: float = 60, poll_s: float = 0.05) -> None:
    """Poll ``check`` until it returns something true; fail naming ``what`` after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s:g} s waiting for {what}")
        time.sleep(poll_s)


def wait_until_consuming(broker: Any, processes: int, procs: Sequence[subprocess.Popen[Any]], timeout: float = 60
                         ) -> None:
    """Wait until ``processes`` worker processes poll the Redis ``broker``'s namespace (Dramatiq's
    heartbeat set names each broker that fetches; ``broker`` itself, which only sends, is left out).
    Fails at once when one of ``procs`` has exited."""
    heartbeats = f"{broker.namespace}:__heartbeats__"

    def consuming() -> bool:
        exited = [p.args for p in procs if p.poll() is not None]
        assert not exited, f"worker processes exited: {exited}"
        return len(set(broker.client.zrange(heartbeats, 0, -1)) - {broker.broker_id.encode()}) >= processes

    wait_until(consuming, f"{processes} worker processes to start consuming", timeout)
