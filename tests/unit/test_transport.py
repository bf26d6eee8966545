"""The HTTP boundary helpers: which failures sent nothing, and when a platform says to come back."""

from __future__ import annotations

import socket
from datetime import UTC, datetime, timedelta

import pytest
import requests

from syndicate.channels.http import is_loopback, nothing_sent, retry_after
from syndicate.channels.markup import body_html
from tests.fakes.base import FakeServer, Fault, Response, refused_url


def test_a_refused_connection_sent_nothing() -> None:
    with pytest.raises(requests.ConnectionError) as err:
        requests.post(refused_url() + "/x", json={}, timeout=(2, 2))
    assert nothing_sent(err.value)


def test_an_unresolvable_host_sent_nothing() -> None:
    with pytest.raises(requests.ConnectionError) as err:
        requests.post("http://no-such-host.invalid/x", json={}, timeout=(2, 2))
    assert nothing_sent(err.value)


def test_a_connect_timeout_sent_nothing() -> None:
    # A listening socket whose backlog is full never completes the handshake.
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(0)
    fillers = []
    try:
        for _ in range(8):
            s = socket.socket()
            s.setblocking(False)
            s.connect_ex(srv.getsockname())
            fillers.append(s)
        with pytest.raises(requests.ConnectTimeout) as err:
            requests.post(f"http://127.0.0.1:{srv.getsockname()[1]}/x", json={}, timeout=(0.3, 2))
        assert nothing_sent(err.value)
    finally:
        for s in fillers:
            s.close()
        srv.close()


@pytest.mark.parametrize("kind", ["stall", "close"])
def test_a_failure_after_the_request_was_sent_may_have_created_the_post(kind: str) -> None:
    with FakeServer() as fake:
        fake.route("POST", "/posts", lambda req: Response(201, {"id": "1"}))
        fake.fail_next(Fault(kind, when="after", seconds=1.0))
        with pytest.raises(requests.RequestException) as err:
            requests.post(fake.url + "/posts", json={"a": 1}, timeout=(2, 0.3))
        assert len(fake.requests) == 1  # the request arrived
    assert not nothing_sent(err.value)


def test_retry_after_accepts_seconds_and_http_dates() -> None:
    now = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    assert retry_after("120", now=now) == now + timedelta(seconds=120)
    assert retry_after("Mon, 23 Nov 2026 12:05:00 GMT", now=now) == now + timedelta(minutes=5)
    assert retry_after("soon", now=now) is None
    assert retry_after(None, now=now) is None
    assert retry_after("  ", now=now) is None


def test_loopback_detection() -> None:
    assert is_loopback("http://127.0.0.1:8080/") and is_loopback("http://localhost/") and is_loopback("http://[::1]/")
    assert not is_loopback("http://example.com/") and not is_loopback("http://10.0.0.1/")


def test_bodies_become_sanitized_html_from_markdown_or_html() -> None:
    assert body_html("Hello <script>x()</script> **bold**", "markdown").startswith("<p>Hello &lt;script&gt;")
    out = body_html('<p onclick="x()">Hi</p><script>alert(1)</script>', "html")
    assert out == "<p>Hi</p>"


def test_nothing_sent_is_false_for_unrelated_errors() -> None:
    assert not nothing_sent(ValueError("x"))
    assert not nothing_sent(requests.exceptions.ChunkedEncodingError("reset mid-body"))
