"""The public redirect app behind short links: ``syndicate links serve`` (docs/short-links.md).

Separate from the intake API (no token, nothing to read or write but a redirect): ``GET`` or
``HEAD`` on ``<prefix><code>`` answers ``302`` to the tagged URL of the code's publication, and
``404`` with the same short body for every code it does not know. A click is a lookup in the
in-memory :class:`~syndicate.operations.clicks.LinkMap` and an increment in the
:class:`~syndicate.operations.clicks.ClickBuffer`; two background tasks refresh the one from the
ledger and write the other to it, off the event loop. Neither can fail or delay a redirect: a
dead database costs clicks not yet written (kept and retried, up to the buffer's size), never a
redirect of a link already loaded.

``<prefix>-/healthz`` answers ``200`` once the links were loaded (``503`` before), for the
orchestrator (``-`` is not in the codes' alphabet, so no code can shadow it).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Mapping, MutableMapping
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Send

from ..base.logging import get_logger
from ..base.metrics import count_link_flush, count_redirects
from ..ledger import Ledger
from ..operations.clicks import ClickBuffer, LinkMap, is_bot, write_clicks

if TYPE_CHECKING:
    from .serving import ClientLimits

__all__ = ["LinkServer", "LinkSettings", "create_links_app", "serve_links"]

log = get_logger("syndicate.links")

_NOT_FOUND = b"not found\n"
#: Headers of every redirect, encoded once: never cached (each click reaches us and is counted),
#: never indexed, no referrer passed on.
_REDIRECT_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"content-length", b"0"), (b"cache-control", b"no-store"), (b"x-robots-tag", b"noindex"),
    (b"referrer-policy", b"no-referrer"))
_NOT_FOUND_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"content-length", str(len(_NOT_FOUND)).encode()), (b"content-type", b"text/plain; charset=utf-8"),
    (b"cache-control", b"no-store"))


def _user_agent(headers: list[tuple[bytes, bytes]]) -> bytes | None:
    for name, value in headers:
        if name == b"user-agent":
            return value
    return None


@dataclass(frozen=True)
class LinkSettings:
    """How the redirect app keeps its map and writes its counts.

    Attributes:
        prefix: the path the codes follow (the path of ``short_links.base_url``), ``/`` by default.
        refresh: how often the code map is refreshed from the ledger.
        flush: how often buffered clicks are written to the ledger.
        max_buffered: (publication, hour) pairs held at most while the ledger cannot be written.
    """

    prefix: str = "/"
    refresh: timedelta = timedelta(seconds=5)
    flush: timedelta = timedelta(seconds=2)
    max_buffered: int = 100_000


class LinkServer:
    """The state of one redirect app: its ledger, map, buffer and background tasks."""

    def __init__(self, ledger: Ledger, settings: LinkSettings | None = None) -> None:
        self.ledger = ledger
        self.settings = settings or LinkSettings()
        self.links = LinkMap()
        self.buffer = ClickBuffer(max_keys=self.settings.max_buffered)
        self._found = 0
        self._unknown = 0
        self._dropped_reported = 0
        #: Writes of the click buffer that failed since the app started.
        self.flush_failures = 0

    # -- the hot path ------------------------------------------------------------------------

    def answer(self, code: str, scope: Mapping[str, Any]) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        """Status, headers and body for ``code``: ``302`` to its tagged URL, the click counted,
        or ``404``."""
        target = self.links.get(code)
        if target is None:
            self._unknown += 1
            return 404, list(_NOT_FOUND_HEADERS), _NOT_FOUND
        pid, location = target
        self._found += 1
        self.buffer.record(pid, time.time(), is_bot(scope["method"], _user_agent(scope["headers"])))
        return 302, [(b"location", location), *_REDIRECT_HEADERS], b""

    async def health(self, request: Request) -> Response:
        """Whether the links were loaded, and how many."""
        return JSONResponse({"status": "ok" if self.links.loaded else "loading", "links": len(self.links)},
                            status_code=200 if self.links.loaded else 503, headers={"cache-control": "no-store"})

    # -- the background work -----------------------------------------------------------------

    async def refresh(self) -> bool:
        """Refresh the map once; False (logged) when the ledger could not be read."""
        try:
            await run_in_threadpool(self.links.refresh, self.ledger)
        except Exception as exc:  # noqa: BLE001 - the loaded links keep working
            log.warning("links.refresh_failed", error=f"{type(exc).__name__}: {exc}", links=len(self.links))
            return False
        return True

    async def flush(self) -> bool:
        """Write the buffered clicks once; on failure they go back in the buffer. False: failed."""
        found, unknown, self._found, self._unknown = self._found, self._unknown, 0, 0
        count_redirects(found, unknown)
        dropped = self.buffer.dropped - self._dropped_reported
        if dropped:
            self._dropped_reported = self.buffer.dropped
            count_link_flush("dropped", dropped)
            log.warning("links.clicks_dropped", clicks=dropped, reason="the click buffer is full")
        counts = self.buffer.take()
        if not counts:
            return True
        try:
            await run_in_threadpool(write_clicks, self.ledger, counts)
        except Exception as exc:  # noqa: BLE001 - counts wait for the next batch; redirects go on
            self.buffer.put_back(counts)
            self.flush_failures += 1
            count_link_flush("failed")
            log.warning("links.flush_failed", error=f"{type(exc).__name__}: {exc}", pending=len(self.buffer))
            return False
        count_link_flush("ok")
        return True

    async def _every(self, period: timedelta, job: str) -> None:
        while True:
            await asyncio.sleep(period.total_seconds())
            await (self.refresh() if job == "refresh" else self.flush())

    @contextlib.asynccontextmanager
    async def lifespan(self, app: Starlette) -> AsyncIterator[None]:
        """Load the links, run the refresher and the writer, and write what is left on shutdown."""
        await self.refresh()
        log.info("links.loaded", links=len(self.links), loaded=self.links.loaded)
        tasks = [asyncio.create_task(self._every(self.settings.refresh, "refresh")),
                 asyncio.create_task(self._every(self.settings.flush, "flush"))]
        try:
            yield
        finally:
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await self.flush()


class LinksApp:
    """The redirect app: a click (``GET`` or ``HEAD`` of ``{prefix}{code}``) is answered here,
    straight from the map, without routing or a request object; everything else (the health
    path, lifespan, unknown paths) goes to the Starlette app behind (``app``), whose ``state``
    this app shows as its own."""

    def __init__(self, server: LinkServer, app: Starlette) -> None:
        self.server = server
        self.app = app
        self.state = app.state
        self._prefix = server.settings.prefix
        self._cut = len(self._prefix)

    async def __call__(self, scope: MutableMapping[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in ("GET", "HEAD"):
            path: str = scope["path"]
            code = path[self._cut:]
            # a code holds no '/', so it never takes the health path ({prefix}-/healthz)
            if path.startswith(self._prefix) and code and "/" not in code:
                status, headers, body = self.server.answer(code, scope)
                await send({"type": "http.response.start", "status": status, "headers": headers})
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)


def create_links_app(ledger: Ledger, settings: LinkSettings | None = None) -> LinksApp:
    """The redirect app over ``ledger`` (``app.state.links`` is its :class:`LinkServer`)."""
    server = LinkServer(ledger, settings)
    prefix = server.settings.prefix
    if not prefix.startswith("/") or not prefix.endswith("/"):
        raise ValueError(f"the path prefix must start and end with '/': {prefix!r}")
    app = Starlette(routes=[Route(prefix + "-/healthz", server.health, methods=["GET", "HEAD"])],
                    lifespan=server.lifespan)
    app.state.links = server
    return LinksApp(server, app)


def serve_links(ledger: Ledger, *, host: str, port: int, settings: LinkSettings | None = None,
                log_level: str = "info", limits: ClientLimits | None = None) -> None:
    """Run the redirect app with uvicorn until SIGTERM/SIGINT, with the intake API's deadlines and
    per-client limits against slow clients (:mod:`syndicate.api.serving`)."""
    import uvicorn

    from .serving import server_config

    app = create_links_app(ledger, settings)
    config = server_config(app, host=host, port=port, log_level=log_level, limits=limits, access_log=False)
    with contextlib.suppress(KeyboardInterrupt):  # uvicorn raises the Ctrl-C again once it has shut down
        uvicorn.Server(config).run()
