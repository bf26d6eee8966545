"""Private Redis and PostgreSQL servers that the crash and outage tests may stop and restart.

The machine's shared servers (127.0.0.1:6379 and :5432) serve other tests at the same time and are
never stopped: each outage test starts its own ``redis-server`` and its own throw-away PostgreSQL
cluster on free ports, and stops or restarts those.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from tests.helpers import free_port

__all__ = ["PrivatePostgres", "PrivateRedis"]


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


class PrivateRedis:
    """A ``redis-server`` on a free port, without persistence (a restart loses every key)."""

    def __init__(self) -> None:
        exe = shutil.which("redis-server")
        if exe is None:
            raise RuntimeError("redis-server is not on PATH")
        self.exe = exe
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen([self.exe, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                                      "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while not _answers(self.port):
            if time.monotonic() > deadline:
                raise RuntimeError(f"redis-server did not start on port {self.port}")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.kill()  # as a crash would: nothing is saved
            self.proc.wait(10)
            self.proc = None


class PrivatePostgres:
    """A throw-away PostgreSQL cluster (initdb, pg_ctl) on a free port; as root, run as ``postgres``."""

    def __init__(self) -> None:
        found = shutil.which("initdb")
        candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
        bindir = Path(found).parent if found else (candidates[-1].parent if candidates else None)
        if bindir is None:
            raise RuntimeError("initdb is not on PATH")
        self.bindir = bindir
        self.prefix: list[str] = []
        self.tmp = Path(tempfile.mkdtemp(prefix="syndicate-outage-pg-"))
        if os.geteuid() == 0:
            if shutil.which("runuser") is None:
                raise RuntimeError("running as root and runuser is missing")
            self.prefix = ["runuser", "-u", "postgres", "--"]
            self.tmp.chmod(0o777)
        self.data = self.tmp / "pgdata"
        self.port = free_port()
        init = subprocess.run([*self.prefix, str(bindir / "initdb"), "-D", str(self.data), "-A", "trust", "-U",
                               "postgres"], capture_output=True, text=True)
        if init.returncode != 0:
            raise RuntimeError(f"initdb failed: {init.stderr.strip()[-300:]}")

    @property
    def admin_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def _ctl(self, *args: str) -> None:
        done = subprocess.run([*self.prefix, str(self.bindir / "pg_ctl"), "-D", str(self.data), *args],
                              capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"pg_ctl {args[-1]} failed: {done.stderr.strip()[-300:]}")

    def start(self) -> None:
        self._ctl("-w", "-l", str(self.tmp / "pg.log"), "-o",
                  f"-p {self.port} -k {self.tmp} -c listen_addresses=127.0.0.1 -c max_connections=300", "start")

    def stop(self) -> None:
        """Stop at once: open sessions are ended (``-m immediate``, as a crash)."""
        self._ctl("-m", "immediate", "-w", "stop")

    def create_database(self, name: str) -> str:
        import psycopg

        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def destroy(self) -> None:
        with contextlib.suppress(RuntimeError):  # already stopped
            self._ctl("-m", "immediate", "stop")
        shutil.rmtree(self.tmp, ignore_errors=True)
