"""The ops server (``/healthz``, ``/readyz``, ``/metrics``) listens on loopback unless told
otherwise, and no idle connection keeps one of its threads forever."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import click
import pytest

from syndicate.cli import main
from syndicate.operations.health import OpsServer, Readiness


@pytest.fixture
def ops() -> Iterator[OpsServer]:
    server = OpsServer("127.0.0.1", 0, Readiness([]), idle_timeout_s=0.3).start()
    yield server
    server.stop()


def _closed_by_server(s: socket.socket, failsafe_s: float = 10.0) -> bool:
    """Whether the server closed ``s`` (EOF) before the failsafe timeout."""
    s.settimeout(failsafe_s)
    try:
        while True:
            data = s.recv(4096)
            if not data:
                return True
    except TimeoutError:
        return False


def test_the_worker_serves_its_ops_endpoints_on_loopback_by_default() -> None:
    # Given the worker command / Then --metrics-host defaults to 127.0.0.1 (0.0.0.0 only when asked)
    command = main.commands["worker"]
    assert isinstance(command, click.Command)
    [option] = [p for p in command.params if p.name == "metrics_host"]
    assert option.default == "127.0.0.1"


def test_a_connection_that_sends_nothing_is_closed_after_the_idle_timeout(ops: OpsServer) -> None:
    # Given a client that connects and sends nothing / Then the server closes the connection
    with socket.create_connection(("127.0.0.1", ops.port)) as s:
        assert _closed_by_server(s)


def test_a_kept_alive_connection_left_idle_after_a_request_is_closed(ops: OpsServer) -> None:
    # Given a client that asks /healthz over HTTP/1.1 and keeps the connection
    with socket.create_connection(("127.0.0.1", ops.port)) as s:
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        # When it then sends nothing more / Then it got its answer, and the server closed the connection
        s.settimeout(10)
        first = s.recv(4096)
        assert first.startswith(b"HTTP/1.1 200")
        assert _closed_by_server(s)
