"""A loopback HTTP server for fake platforms: records every request, fails on demand.

A fake is a :class:`FakeServer` with routes (``server.route("POST", "/2/tweets", handler)``);
a handler takes a :class:`Request` and returns a :class:`Response`. Faults come from the socket,
never from patching the client: queue one with :meth:`FakeServer.fail_next` and the next matching
request gets it, either ``before`` the handler runs (nothing is created) or ``after`` it (the
effect happened, then the answer is lost or damaged). Fault kinds:

* ``status``: answer with a status code, headers and body instead of the handler's answer;
* ``stall``: accept and read the request, then wait ``seconds`` before answering (read timeout);
* ``close``: read the request, then close the connection without a byte (connection reset);
* ``drip``: send the handler's answer one byte every ``seconds``;
* ``drip_headers``: send the status line and headers of the handler's answer one byte every ``seconds``;
* ``huge``: answer 200 with a body of ``size`` bytes;
* ``malformed``: answer the handler's status with a body that is not JSON.

``connection refused`` needs no fault: stop the server, or use :func:`refused_url`.
"""

from __future__ import annotations

import contextlib
import json
import re
import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit

__all__ = ["FakeServer", "Fault", "Request", "Response", "refused_url"]


@dataclass
class Request:
    """A request as the fake received it."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    path_params: dict[str, str] = field(default_factory=dict)

    def json(self) -> Any:
        """The body parsed as JSON."""
        return json.loads(self.body.decode("utf-8"))

    def header(self, name: str) -> str | None:
        """A header, case-insensitively."""
        for k, v in self.headers.items():
            if k.lower() == name.lower():
                return v
        return None

    def form(self) -> dict[str, list[str]]:
        """The body parsed as application/x-www-form-urlencoded."""
        return parse_qs(self.body.decode("utf-8"), keep_blank_values=True)


@dataclass
class Response:
    """An answer: status, headers, and a body (bytes, str, or JSON-serializable)."""

    status: int = 200
    body: Any = b""
    headers: dict[str, str] = field(default_factory=dict)

    def encoded(self) -> tuple[bytes, dict[str, str]]:
        """The body as bytes and the headers with a content type."""
        headers = dict(self.headers)
        if isinstance(self.body, bytes):
            data = self.body
        elif isinstance(self.body, str):
            data = self.body.encode("utf-8")
            headers.setdefault("Content-Type", "text/plain; charset=utf-8")
        else:
            data = json.dumps(self.body).encode("utf-8")
            headers.setdefault("Content-Type", "application/json")
        return data, headers


@dataclass
class Fault:
    """A fault for the next request that matches ``method`` and ``path`` (a regex)."""

    kind: str
    when: str = "before"
    method: str | None = None
    path: str | None = None
    status: int = 500
    body: Any = b""
    headers: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    size: int = 0
    times: int = 1

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method == method) and (self.path is None or re.search(self.path, path)
                                                                   is not None)


Handler = Callable[[Request], Response]


class FakeServer:
    """A threaded HTTP/1.1 server on 127.0.0.1 with routes, a request log and scripted faults."""

    def __init__(self) -> None:
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = []
        self._faults: list[Fault] = []
        self._lock = threading.Lock()
        self.requests: list[Request] = []
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        #: Serve https with this context instead of plain http (set before ``start``).
        self.tls: ssl.SSLContext | None = None

    # -- set-up ----------------------------------------------------------------------------

    def route(self, method: str, pattern: str, handler: Handler) -> None:
        """Answer ``method`` requests whose path fully matches ``pattern`` (named groups → path_params)."""
        self._routes.append((method, re.compile(pattern), handler))

    def fail_next(self, fault: Fault) -> None:
        """Queue ``fault`` for the next matching request(s)."""
        with self._lock:
            self._faults.append(fault)

    def clear_faults(self) -> None:
        """Drop queued faults."""
        with self._lock:
            self._faults.clear()

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT`` (``https://`` when serving TLS)."""
        assert self._httpd is not None
        host, port = self._httpd.server_address[:2]
        scheme = "https" if self.tls is not None else "http"
        return f"{scheme}://{host.decode() if isinstance(host, bytes) else host}:{port}"

    def start(self) -> Self:
        """Listen on a free loopback port, serving in a daemon thread."""
        server = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in separate writes; without TCP_NODELAY, Nagle's algorithm
            # and the client's delayed ACK add ~40 ms to every answer.
            disable_nagle_algorithm = True

            def log_message(self, format: str, *args: Any) -> None:
                return

            def _serve(self) -> None:
                server._handle(self)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _serve

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._httpd.daemon_threads = True
        if self.tls is not None:  # the handshake happens in the handler's thread, on its first read
            self._httpd.socket = self.tls.wrap_socket(self._httpd.socket, server_side=True,
                                                      do_handshake_on_connect=False)
        # shutdown() waits for the serving loop's next poll: 10 ms, paid by every test at its end
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.01},
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket (later connections are refused)."""
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- serving ---------------------------------------------------------------------------

    def _take_fault(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for f in self._faults:
                if f.matches(method, path):
                    f.times -= 1
                    if f.times <= 0:
                        self._faults.remove(f)
                    return f
        return None

    def _dispatch(self, req: Request) -> Response:
        for method, pattern, handler in self._routes:
            if method != req.method:
                continue
            m = pattern.fullmatch(req.path)
            if m:
                req.path_params = m.groupdict()
                return handler(req)
        return Response(404, {"error": "not found", "path": req.path})

    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        length = int(h.headers.get("Content-Length") or 0)
        body = h.rfile.read(length) if length else b""
        parts = urlsplit(h.path)
        req = Request(method=h.command, path=parts.path, query=parse_qs(parts.query, keep_blank_values=True),
                      headers={k: v for k, v in h.headers.items()}, body=body)
        with self._lock:
            self.requests.append(req)
        fault = self._take_fault(req.method, req.path)
        if fault is not None and fault.when == "before" and fault.kind in ("status", "close", "stall"):
            self._apply(h, fault, None)
            return
        resp = self._dispatch(req)
        if fault is not None:
            self._apply(h, fault, resp)
            return
        self._send(h, resp)

    def _send(self, h: BaseHTTPRequestHandler, resp: Response) -> None:
        data, headers = resp.encoded()
        h.send_response(resp.status)
        for k, v in headers.items():
            h.send_header(k, v)
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        if h.command != "HEAD":
            h.wfile.write(data)

    def _apply(self, h: BaseHTTPRequestHandler, fault: Fault, resp: Response | None) -> None:
        if fault.kind == "status":
            self._send(h, Response(fault.status, fault.body, fault.headers))
        elif fault.kind == "stall":
            time.sleep(fault.seconds)
            h.close_connection = True
            with contextlib.suppress(OSError):  # the client gave up waiting
                self._send(h, resp or Response(504, b""))
        elif fault.kind == "close":
            h.close_connection = True
            with contextlib.suppress(OSError):
                h.connection.shutdown(socket.SHUT_RDWR)
        elif fault.kind == "drip":
            assert resp is not None
            data, headers = resp.encoded()
            h.send_response(resp.status)
            for k, v in headers.items():
                h.send_header(k, v)
            h.send_header("Content-Length", str(len(data)))
            h.end_headers()
            h.close_connection = True
            try:
                for i in range(len(data)):
                    h.wfile.write(data[i:i + 1])
                    h.wfile.flush()
                    time.sleep(fault.seconds)
            except OSError:
                pass
        elif fault.kind == "drip_headers":
            assert resp is not None
            data, headers = resp.encoded()
            head = f"HTTP/1.1 {resp.status} OK\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
            head += f"Content-Length: {len(data)}\r\n\r\n"
            h.close_connection = True
            try:
                for ch in head.encode("latin-1"):
                    h.wfile.write(bytes([ch]))
                    h.wfile.flush()
                    time.sleep(fault.seconds)
                h.wfile.write(data)
            except OSError:
                pass
        elif fault.kind == "huge":
            h.send_response(200)
            h.send_header("Content-Type", "application/json")
            h.send_header("Content-Length", str(fault.size))
            h.end_headers()
            chunk = b" " * 65536
            sent = 0
            try:
                while sent < fault.size:
                    n = min(len(chunk), fault.size - sent)
                    h.wfile.write(chunk[:n])
                    sent += n
            except OSError:
                pass
        elif fault.kind == "malformed":
            status = resp.status if resp is not None else 200
            self._send(h, Response(status, b"{not json", {"Content-Type": "application/json"}))
        else:
            raise ValueError(f"unknown fault kind {fault.kind!r}")


def refused_url() -> str:
    """A loopback URL on which nothing listens (connection refused)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return f"http://127.0.0.1:{port}"
