"""Every exchange through a bounded session has a total deadline and a cap on the answer it reads.

Per-read timeouts alone let a peer that drips one byte per read timeout hold a worker for hours;
the fake below drips its headers or its body (one byte every 50 ms, far under the 1 s read
timeout), answers with more than the cap, or answers normally.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator

import pytest
import requests

from syndicate.channels.http import DeadlineExceeded, _watchdog, answer_complete, bounded_session
from tests.fakes.base import FakeServer, Fault, Response

BODY = {"message": "x" * 2000}


@pytest.fixture
def server() -> Iterator[FakeServer]:
    with FakeServer() as fake:
        fake.route("GET", "/answer", lambda req: Response(200, BODY))
        yield fake


def test_a_body_dripped_slower_than_the_deadline_is_cut_off_there_and_marked_incomplete(server: FakeServer) -> None:
    # Given a peer that drips its 2 kB answer one byte every 50 ms (under the read timeout of 1 s)
    server.fail_next(Fault("drip", when="after", seconds=0.05))
    session = bounded_session()
    # When it is read with a deadline of 0.2 + 1 s in total
    resp = session.get(f"{server.url}/answer", timeout=(0.2, 1.0))
    # Then the call returns with the part that came, marked incomplete
    assert resp.status_code == 200 and not answer_complete(resp)
    expected = json.dumps(BODY).encode()
    assert 0 < len(resp.content) < len(expected) and expected.startswith(resp.content)


def test_headers_dripped_slower_than_the_deadline_raise_deadline_exceeded(server: FakeServer) -> None:
    # Given a peer that drips its status line and headers one byte every 50 ms
    server.fail_next(Fault("drip_headers", when="after", seconds=0.05))
    session = bounded_session()
    # When asked with a deadline of 0.2 + 1 s / Then the exchange ends as a read timeout after sending
    with pytest.raises(DeadlineExceeded) as caught:
        session.get(f"{server.url}/answer", timeout=(0.2, 1.0))
    assert isinstance(caught.value, requests.ReadTimeout)


def test_an_answer_over_the_cap_is_cut_at_the_cap(server: FakeServer) -> None:
    # Given a peer that answers 10 MB
    server.fail_next(Fault("huge", size=10 * 1024 * 1024))
    session = bounded_session(max_answer_bytes=64 * 1024)
    # When read through a session capped at 64 KiB / Then 64 KiB are kept, marked incomplete
    resp = session.get(f"{server.url}/answer", timeout=(1.0, 5.0))
    assert len(resp.content) == 64 * 1024 and not answer_complete(resp)


def test_an_ordinary_answer_is_read_whole_and_the_connection_is_kept(server: FakeServer) -> None:
    # Given a peer that answers at once / When asked twice through one session
    session = bounded_session()
    first = session.get(f"{server.url}/answer", timeout=(1.0, 5.0))
    second = session.get(f"{server.url}/answer", stream=True, timeout=(1.0, 5.0))
    # Then both answers are whole, readable as JSON, even when the caller asked to stream
    assert answer_complete(first) and first.json() == BODY
    assert answer_complete(second) and second.json() == BODY


def test_exchanges_share_one_watching_thread(server: FakeServer, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a bounded session that has made one exchange (the process's watcher may start then)
    session = bounded_session()
    session.get(f"{server.url}/answer", timeout=(1.0, 5.0))
    started: list[str] = []
    start = threading.Thread.start

    def counted(self: threading.Thread) -> None:
        started.append(self.name)
        start(self)

    monkeypatch.setattr(threading.Thread, "start", counted)
    # When it makes 30 more, each inside its own deadline
    for _ in range(30):
        assert answer_complete(session.get(f"{server.url}/answer", timeout=(1.0, 5.0)))
    # Then no thread was started for them (a timer per exchange started 30), and none is left to expire
    assert started == []
    assert _watchdog.pending() == 0
