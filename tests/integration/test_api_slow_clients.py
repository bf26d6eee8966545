"""Slow and greedy clients cannot take the intake API away from everyone else.

An attacker at 127.0.0.2 (any 127/8 address is this machine) opens connections and sends nothing,
or drips a request; probes and producers at 127.0.0.1 must still be served. The server runs as
``syndicate api`` runs it (``syndicate.api.serving.server_config``), with short deadlines.
"""

from __future__ import annotations

import select
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests
import uvicorn

from syndicate import Runtime
from syndicate.api.app import create_app
from syndicate.api.serving import ClientLimits, server_config
from tests.helpers import free_port, sandbox_accounts, simple_route

TOKEN = "tok-producer-0123456789abcdef"
ATTACKER = "127.0.0.2"


class Served:
    """The API served from a thread with ``limits``."""

    def __init__(self, rt: Runtime, limits: ClientLimits) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(server_config(create_app(rt), host="127.0.0.1", port=self.port, limits=limits,
                                                   lifespan="off"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> Served:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started and time.monotonic() < deadline:
            time.sleep(0.02)
        assert self.server.started
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)

    def connect_from(self, address: str) -> socket.socket:
        s = socket.socket()
        s.bind((address, 0))
        s.connect(("127.0.0.1", self.port))
        return s


@pytest.fixture
def rt(config_dir: Callable[..., Path], sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Runtime]:
    monkeypatch.setenv("API_TOKEN", TOKEN)
    cfg = config_dir(accounts=sandbox_accounts("a1"), routes=[simple_route("na", ["en-US"], ["a1"])],
                     settings={"api": {"tokens": {"cms": {"token": "${API_TOKEN}"}}}})
    with Runtime.create(config=cfg, database_url=sqlite_url, redis_url="") as runtime:
        yield runtime


def closed_by_server(sockets: list[socket.socket], *, expect: int, failsafe_s: float = 10.0) -> set[socket.socket]:
    """The sockets the server closed (readable with EOF), waiting until ``expect`` are (or the failsafe)."""
    closed: set[socket.socket] = set()
    end = time.monotonic() + failsafe_s
    while len(closed) < expect and time.monotonic() < end:
        readable, _, _ = select.select([s for s in sockets if s not in closed], [], [], 0.1)
        for s in readable:
            try:
                if s.recv(1) == b"":
                    closed.add(s)
            except ConnectionResetError:
                closed.add(s)
    return closed


def test_two_hundred_silent_connections_from_one_client_leave_the_api_answering_others(rt: Runtime) -> None:
    # Given the API with the default caps (16 connections a client, 200 in all) and a long head deadline
    with Served(rt, ClientLimits(head_timeout_s=60)) as api:
        # When one client opens 200 connections and sends nothing
        silent = [api.connect_from(ATTACKER) for _ in range(200)]
        try:
            # Then a probe from elsewhere is answered 200, and a producer's request too
            assert requests.get(f"{api.url}/healthz", timeout=10).status_code == 200
            answer = requests.get(f"{api.url}/v1/campaigns/none/publications", timeout=10,
                                  headers={"Authorization": f"Bearer {TOKEN}"})
            assert answer.status_code == 404 and answer.json()["code"] == "not_found"  # no such campaign: answered
            # And the server holds 16 of the client's connections: the other 184 were closed at once
            closed = closed_by_server(silent, expect=184)
            assert len(closed) == 184
        finally:
            for s in silent:
                s.close()


def test_a_connection_that_sends_nothing_or_drips_its_headers_is_closed_at_the_head_deadline(rt: Runtime) -> None:
    # Given the API with a head deadline of 0.5 s
    with Served(rt, ClientLimits(head_timeout_s=0.5)) as api:
        silent = api.connect_from(ATTACKER)
        dripping = api.connect_from(ATTACKER)
        try:
            # When one connection stays silent and another sends its request line a byte every 50 ms
            line = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"a" * 200
            sent = 0
            closed: set[socket.socket] = set()
            while sent < len(line) and len(closed) < 2:
                try:
                    dripping.send(line[sent:sent + 1])
                except OSError:
                    break
                sent += 1
                closed |= closed_by_server([silent, dripping], expect=2, failsafe_s=0.05)
            closed |= closed_by_server([silent, dripping], expect=2)
            # Then the server closed both before the headers were complete
            assert closed == {silent, dripping} and sent < len(line)
        finally:
            silent.close()
            dripping.close()


def test_a_body_dripped_past_the_body_deadline_is_cut_and_nothing_is_submitted(rt: Runtime) -> None:
    # Given the API with a body deadline of 0.5 s
    with Served(rt, ClientLimits(body_timeout_s=0.5)) as api:
        s = api.connect_from(ATTACKER)
        try:
            # When a submission declares 2,000 bytes of body and sends one every 50 ms
            s.sendall(b"POST /v1/items HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                      b"Authorization: Bearer " + TOKEN.encode() + b"\r\nContent-Length: 2000\r\n\r\n")
            sent = 0
            while sent < 2000 and not closed_by_server([s], expect=1, failsafe_s=0.05):
                try:
                    s.send(b" ")
                except OSError:
                    break
                sent += 1
            # Then the connection was closed before the body was complete, and no item was stored
            assert sent < 2000
        finally:
            s.close()
    assert rt.ledger.publications() == []
