"""Worker processes for the crash tests: start them, kill them with SIGKILL, and read the outcome.

Each worker is ``python -m tests.support.run_worker CONFIG THREADS`` (a real ``syndicate worker``
with the board adapter registered, its dispatcher included), on the test's own broker (Redis, or
RabbitMQ without Redis) and PostgreSQL. Killing one and starting a replacement is what a process supervisor does.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from syndicate import Runtime
from syndicate.ledger import Publication
from tests.fakes.board import FakeBoard
from tests.helpers import REPO

__all__ = ["Cluster", "check_exactly_once"]


@dataclass
class Cluster:
    """Worker processes sharing one config, ledger, broker and namespace (``redis_url`` is the
    Redis broker; with ``broker_url``, RabbitMQ, ``redis_url`` may be empty: no Redis)."""

    config: Path
    database_url: str
    redis_url: str
    namespace: str
    logs: Path
    threads: int = 2
    broker_url: str | None = None
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)
    _n: int = 0

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("SYNDICATE_")}
        env.update(SYNDICATE_DATABASE_URL=self.database_url, SYNDICATE_REDIS_NAMESPACE=self.namespace)
        if self.redis_url:
            env["SYNDICATE_REDIS_URL"] = self.redis_url
        if self.broker_url:
            env["SYNDICATE_BROKER_URL"] = self.broker_url
        return env

    def start(self, *, wait: bool = True) -> subprocess.Popen[bytes]:
        """Start one worker; with ``wait``, return once it logged ``worker.started``."""
        self._n += 1
        log = self.logs / f"worker-{self._n}.log"
        with log.open("wb") as out:
            proc = subprocess.Popen([sys.executable, "-m", "tests.support.run_worker", str(self.config),
                                     str(self.threads)], cwd=REPO, env=self.env(), stdout=out, stderr=out)
        proc.log = log  # type: ignore[attr-defined]
        self.procs.append(proc)
        deadline = time.monotonic() + 60
        while wait and b'"worker.started"' not in log.read_bytes():
            if proc.poll() is not None:
                raise AssertionError(f"worker exited with {proc.returncode}: {log.read_text()[-2000:]}")
            if time.monotonic() > deadline:
                raise AssertionError("worker did not start within 60 s")
            time.sleep(0.05)
        return proc

    def kill(self, proc: subprocess.Popen[bytes]) -> None:
        """SIGKILL: no shutdown, no acknowledgement, no ledger update."""
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        self.procs.remove(proc)

    def alive(self) -> bool:
        return all(p.poll() is None for p in self.procs)

    def stop(self) -> list[int]:
        """SIGTERM every worker and wait; returns their exit codes."""
        for p in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        codes = []
        for p in self.procs:
            try:
                codes.append(p.wait(90))
            except subprocess.TimeoutExpired:
                p.kill()
                codes.append(p.wait())
        self.procs.clear()
        return codes


def owned_by(rt: Runtime, proc: subprocess.Popen[bytes]) -> list[Publication]:
    """Rows the process is calling the platform for (its pid is in ``claimed_by``)."""
    return [p for p in rt.ledger.publications(state=["calling"]) if p.claimed_by and f":{proc.pid}:" in p.claimed_by]


def wait_until(check: object, timeout_s: float, what: str, poll_s: float = 0.1) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s:g} s waiting for {what}")
        time.sleep(poll_s)


def check_exactly_once(rt: Runtime, board: FakeBoard) -> Counter[str]:
    """Every publication terminal; the board holds one post per published row and none for the others.

    Returns the publications by state.
    """
    pubs = rt.ledger.publications()
    assert [p.key for p in pubs if not p.terminal] == []
    posts = board.posts_by_marker()
    duplicates = {p.key: posts[p.marker] for p in pubs if posts[p.marker] > 1}
    lost = [p.key for p in pubs if p.state == "published" and posts[p.marker] == 0]
    stray = [p.key for p in pubs if p.state != "published" and posts[p.marker] > 0]
    assert (duplicates, lost, stray) == ({}, [], [])
    assert sum(posts.values()) == sum(p.state == "published" for p in pubs)
    return Counter(p.state for p in pubs)
