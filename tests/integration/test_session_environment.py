"""Sessions made by ``bounded_session`` read the proxy environment once per host
(``syndicate.channels.sessions``) and route every request as a plain ``requests.Session`` does:
through the proxy unless ``no_proxy`` names the host. Real HTTP on loopback: a target and a proxy."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from syndicate.channels.http import bounded_session


class _Recorder(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.server.seen.append(self.path)  # type: ignore[attr-defined]
        body = b"ok"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_a: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[ThreadingHTTPServer]:
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    srv.seen = []  # type: ignore[attr-defined]
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield srv
    srv.shutdown()
    srv.server_close()


def test_requests_go_through_the_environment_proxy_unless_no_proxy_names_the_host(
        server: ThreadingHTTPServer, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a proxy in the environment (the recorder stands in for it) and no_proxy naming localhost
    port = server.server_address[1]
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("NO_PROXY", "localhost")
    for name in ("http_proxy", "no_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    ours, plain = bounded_session(), requests.Session()
    # When each session asks a proxied host (by an unresolvable name) and a bypassed one, twice
    for session in (ours, plain):
        for _ in range(2):
            assert session.get("http://target.invalid/a", timeout=5).status_code == 200
            assert session.get(f"http://localhost:{port}/b", timeout=5).status_code == 200
    # Then both sent the first through the proxy (absolute URL) and the second directly, each time
    assert server.seen == ["http://target.invalid/a", "/b"] * 4  # type: ignore[attr-defined]


def test_the_proxy_settings_of_a_host_are_read_once_per_session(
        server: ThreadingHTTPServer, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a session that asked a host once with no proxy in the environment
    port = server.server_address[1]
    for name in ("HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    session = bounded_session()
    assert session.get(f"http://127.0.0.1:{port}/first", timeout=5).status_code == 200
    # When a proxy appears in the environment afterwards (a worker's environment does not change)
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    # Then that host keeps its settings, while a new session reads the environment again
    assert session.get(f"http://127.0.0.1:{port}/second", timeout=5).status_code == 200
    assert server.seen == ["/first", "/second"]  # type: ignore[attr-defined]
    with pytest.raises(requests.exceptions.ProxyError):
        bounded_session().get(f"http://127.0.0.1:{port}/third", timeout=5)
