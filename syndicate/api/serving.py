"""Serving the intake API with uvicorn, guarded against slow and greedy clients.

uvicorn gives a connection no deadline before its first request, and counts idle connections
against ``limit_concurrency``: 200 connections that never send a byte made every request, the
token-free ``/healthz`` included, answer 503 for as long as the client liked. The protocol built
by :func:`guarded_protocol` (uvicorn's h11 protocol, subclassed) adds:

* a **head deadline**: a request's line and headers must arrive within ``head_timeout_s`` of the
  connection (or of the request's first byte, on a kept-alive connection), else the connection
  is closed; a connection that sends nothing is closed after that long too;
* a **body deadline**: the body within ``body_timeout_s`` of the end of the headers;
* a **per-client connection cap**: a client address holding ``max_per_client`` connections has
  further ones closed at once, so one client cannot fill ``max_connections``.

Between requests uvicorn's keep-alive timeout applies (5 s). Request heads are limited to 16 KiB
(h11). Behind a reverse proxy every connection comes from the proxy's address: turn the
per-client cap off there (``--max-connections-per-client 0``) and let the proxy limit clients
(``docs/operations.md`` has the proxy settings).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass
from typing import Any

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from ..base.logging import get_logger

__all__ = ["ClientLimits", "guarded_protocol", "server_config"]

log = get_logger("syndicate.serving")

#: Largest request line plus headers, in bytes.
MAX_HEAD_BYTES = 16 * 1024


@dataclass(frozen=True)
class ClientLimits:
    """What one client may hold of the API server.

    Attributes:
        head_timeout_s: seconds for a request's line and headers to arrive.
        body_timeout_s: seconds for its body to arrive after the headers.
        max_per_client: connections one client address may hold open (0: no cap).
        max_connections: connections (and requests in progress) the server holds in all;
            requests beyond it are answered 503.
        keep_alive_s: seconds an idle kept-alive connection is kept.
    """

    head_timeout_s: float = 5.0
    body_timeout_s: float = 30.0
    max_per_client: int = 16
    max_connections: int = 200
    keep_alive_s: int = 5


def guarded_protocol(limits: ClientLimits) -> type[H11Protocol]:
    """uvicorn's h11 protocol with ``limits``' deadlines and per-client cap (one class per server)."""
    held: Counter[str] = Counter()

    class GuardedH11Protocol(H11Protocol):
        _timer: asyncio.TimerHandle | None = None
        _phase = ""
        _address = ""

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._address = self.client[0] if self.client else ""
            held[self._address] += 1
            if limits.max_per_client and held[self._address] > limits.max_per_client:
                log.debug("api.connection_refused", client=self._address, held=held[self._address] - 1,
                          reason="the client holds its share of connections")
                transport.close()
                return
            self._arm("head", limits.head_timeout_s)

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            held[self._address] -= 1
            if held[self._address] <= 0:
                del held[self._address]
            super().connection_lost(exc)

        def data_received(self, data: bytes) -> None:
            super().data_received(data)
            state = self.conn.their_state
            if state is h11.IDLE and self._phase == "":
                self._arm("head", limits.head_timeout_s)  # the next request on a kept-alive connection
            elif state is h11.SEND_BODY and self._phase != "body":
                self._arm("body", limits.body_timeout_s)
            elif state not in (h11.IDLE, h11.SEND_BODY):
                self._disarm()

        def on_response_complete(self) -> None:
            self._disarm()  # idle until the next request: uvicorn's keep-alive timeout
            super().on_response_complete()

        def _arm(self, phase: str, seconds: float) -> None:
            self._disarm()
            self._phase = phase
            self._timer = self.loop.call_later(seconds, self._expired, phase, seconds)

        def _disarm(self) -> None:
            if self._timer is not None:
                self._timer.cancel()
            self._timer, self._phase = None, ""

        def _expired(self, phase: str, seconds: float) -> None:
            self._timer, self._phase = None, ""
            if not self.transport.is_closing():
                log.warning("api.client_too_slow", client=self._address, phase=phase, limit_s=seconds,
                            reason=f"the request {phase} did not arrive in time; connection closed")
                self.transport.close()

    return GuardedH11Protocol


def server_config(app: Any, *, host: str, port: int, log_level: str = "info",
                  limits: ClientLimits | None = None, **extra: Any) -> uvicorn.Config:
    """The uvicorn configuration the API is served with (``syndicate api``)."""
    lim = limits or ClientLimits()
    options: dict[str, Any] = {"log_config": None, "log_level": log_level.lower(), "proxy_headers": False,
                               "server_header": False, "timeout_keep_alive": lim.keep_alive_s,
                               "limit_concurrency": lim.max_connections, "timeout_graceful_shutdown": 30,
                               "h11_max_incomplete_event_size": MAX_HEAD_BYTES}
    options.update(extra)
    return uvicorn.Config(app, host=host, port=port, http=guarded_protocol(lim), **options)
