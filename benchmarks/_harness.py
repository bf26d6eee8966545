"""What the pipeline benchmarks start and stop: a loopback platform with a set latency, worker
subprocesses (syndicate's, or a bare Dramatiq actor's), a webhook config, items, RSS samples and
the steady-state rate. Services (PostgreSQL database, Redis namespace) come from ``_services``."""

from __future__ import annotations

import base64
import hashlib
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from benchmarks._bare_worker import BARE_QUEUE, create_floor_tables
from tests.fakes.base import FakeServer, Request, Response

REPO = Path(__file__).resolve().parent.parent
#: The webhook secret of the benchmark accounts (a Standard Webhooks secret, not a real one).
SECRET = "whsec_" + base64.b64encode(hashlib.sha256(b"syndicate benchmark").digest()).decode()
SECRET_ENV = "SYNDICATE_BENCH_HOOK_SECRET"


class Platform(FakeServer):
    """A platform that answers every POST with 200 after ``latency_s`` and notes when.

    Attributes:
        done_at: ``time.monotonic()`` of each answer, in order.
    """

    def __init__(self, latency_s: float = 0.0) -> None:
        super().__init__()
        self.latency_s = latency_s
        self.done_at: list[float] = []
        self._times = threading.Lock()
        self.route("POST", r"/.*", self._post)

    def _post(self, req: Request) -> Response:
        if self.latency_s:
            time.sleep(self.latency_s)
        with self._times:
            self.done_at.append(time.monotonic())
            self.requests.clear()  # keep memory flat over long runs; times are what we count
        return Response(200, {"status": "received"})

    def start(self) -> Platform:
        """Listen, with a backlog for many workers connecting at once (the default is 5)."""
        super().start()
        assert self._httpd is not None
        self._httpd.socket.listen(512)
        return self

    def __enter__(self) -> Platform:
        return self.start()

    def reset(self) -> None:
        """Forget what was received."""
        with self._times:
            self.done_at.clear()


@dataclass
class Rate:
    """The steady-state rate of a run: completions between the ``lo`` and ``hi`` fractions."""

    count: int
    steady_per_s: float
    whole_per_s: float
    window_s: float
    deciles: list[float]


def steady_rate(times: Sequence[float], started: float, lo: float = 0.1, hi: float = 0.9) -> Rate:
    """Completions per second between the ``lo`` and ``hi`` fractions of ``times`` (start-up and
    drain left out), the whole-run rate from ``started``, and the rate within each tenth."""
    t = sorted(times)
    n = len(t)
    if n < 10:
        return Rate(n, float("nan"), float("nan"), float("nan"), [])
    a, b = round(lo * (n - 1)), round(hi * (n - 1))
    window = t[b] - t[a]
    deciles = []
    for k in range(10):
        i, j = round(k * (n - 1) / 10), round((k + 1) * (n - 1) / 10)
        deciles.append((j - i) / (t[j] - t[i]) if t[j] > t[i] else float("inf"))
    return Rate(n, (b - a) / window if window > 0 else float("inf"), n / (t[-1] - started), window, deciles)


def rss_mb(pid: int) -> float | None:
    """Resident set size of ``pid`` in MiB (``VmRSS``), or None when it is gone."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def cpu_s(pid: int) -> float | None:
    """User + system CPU seconds used by ``pid`` so far."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


def wait_for(predicate: Any, timeout_s: float, every_s: float = 0.2, progress: Any = None,
             stall_s: float = 30.0) -> bool:
    """Poll ``predicate`` until true, ``timeout_s`` passes, or ``progress()`` (a count) stays the same
    for ``stall_s``."""
    deadline = time.monotonic() + timeout_s
    last, since = None, time.monotonic()
    while time.monotonic() < deadline:
        if predicate():
            return True
        if progress is not None:
            now = progress()
            if now != last:
                last, since = now, time.monotonic()
            elif time.monotonic() - since > stall_s:
                return False
        time.sleep(every_s)
    return bool(predicate())


class Workers:
    """Worker subprocesses of one kind; stopped with SIGTERM (then SIGKILL) on exit.

    Args:
        argv: the command of one process (after ``python``).
        processes: how many to start.
        env: their environment.
        log: where their output goes (a file, so a full pipe never blocks them).
    """

    def __init__(self, argv: Sequence[str], processes: int, env: dict[str, str], log: Path) -> None:
        self.argv = list(argv)
        self.processes = processes
        self.env = env
        self.log = log
        self.procs: list[subprocess.Popen[bytes]] = []
        self.started_at = 0.0
        #: Where they run (``python -m`` imports from here first).
        self.cwd = REPO

    @property
    def pids(self) -> list[int]:
        """The process ids."""
        return [p.pid for p in self.procs]

    def start(self) -> Workers:
        """Start the processes."""
        out = self.log.open("ab")
        self.started_at = time.monotonic()
        for _ in range(self.processes):
            self.procs.append(subprocess.Popen([sys.executable, *self.argv], env=self.env, cwd=self.cwd,
                                               stdout=out, stderr=subprocess.STDOUT))
        out.close()
        return self

    def stop(self, timeout_s: float = 30.0) -> None:
        """SIGTERM, wait, SIGKILL what is left."""
        for p in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout_s
        for p in self.procs:
            try:
                p.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(5)

    def alive(self) -> bool:
        """Whether every process still runs."""
        return all(p.poll() is None for p in self.procs)

    def cpu_s(self) -> float:
        """CPU seconds used by the processes so far."""
        return sum(c for c in (cpu_s(pid) for pid in self.pids) if c is not None)

    def __enter__(self) -> Workers:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def worker_env(*, database_url: str, redis_url: str, namespace: str, config: Path, log_level: str = "INFO",
               pythonpath: Path | None = None, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a syndicate worker process for this run."""
    env = dict(os.environ)
    env.update(extra or {})
    env.update({"SYNDICATE_DATABASE_URL": database_url, "SYNDICATE_REDIS_URL": redis_url,
                "SYNDICATE_REDIS_NAMESPACE": namespace, "SYNDICATE_CONFIG": str(config),
                "SYNDICATE_LOG_LEVEL": log_level, SECRET_ENV: SECRET,
                "PYTHONPATH": str(pythonpath or REPO)})
    return env


def syndicate_workers(processes: int, threads: int, env: dict[str, str], log: Path) -> Workers:
    """``syndicate worker --processes 1 --threads N``, ``processes`` times (each with its dispatcher;
    one leads)."""
    return Workers(["-m", "syndicate", "worker", "--processes", "1", "--threads", str(threads)], processes, env, log)


def bare_workers(processes: int, threads: int, *, redis_url: str, namespace: str, url: str, log: Path,
                 ledger: str = "") -> Workers:
    """The bare baseline: a Dramatiq actor making one ``requests.post`` per message (and, with
    ``ledger``, a committed claim before and record after it)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO)
    argv = ["-m", "benchmarks._bare_worker", "--redis-url", redis_url, "--namespace", namespace, "--url", url,
            "--threads", str(threads)]
    return Workers([*argv, "--ledger", ledger] if ledger else argv, processes, env, log)


@contextmanager
def webhook_config(url: str, *, accounts: int, locales: Sequence[str], translation: dict[str, Any] | None = None,
                   settings: dict[str, Any] | None = None) -> Iterator[Path]:
    """A config directory: one route publishing ``locales`` to ``accounts`` webhook accounts at ``url``."""
    tmp = Path(tempfile.mkdtemp(prefix="syndicate-bench-cfg-"))
    try:
        ids = [f"hook{i:02d}" for i in range(accounts)]
        acc = {i: {"adapter": "webhooks", "base_url": url, "credentials": {"secret": f"${{{SECRET_ENV}}}"},
                   "connect_timeout_s": 5, "read_timeout_s": 20} for i in ids}
        route: dict[str, Any] = {"region": "bench", "locales": list(locales), "timezone": "UTC", "accounts": ids}
        if translation:
            route["translation"] = translation
        (tmp / "routes").mkdir()
        (tmp / "accounts.yaml").write_text(yaml.safe_dump({"accounts": acc}), encoding="utf-8")
        (tmp / "routes" / "bench.yaml").write_text(yaml.safe_dump(route), encoding="utf-8")
        if settings:
            (tmp / "settings.yaml").write_text(yaml.safe_dump(settings), encoding="utf-8")
        yield tmp
    finally:
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)


#: Human translations by locale, used for every non-source locale of the benchmark items.
HUMAN = {
    "de-DE": {"title": "Neuigkeiten Nummer {n}", "summary": "Eine kurze Zusammenfassung des Beitrags {n}.",
              "body": "Der Text des Beitrags {n} mit einem Link https://example.com/docs/{n} und @syndicate.",
              "cta_text": "Weiterlesen"},
    "fr-FR": {"title": "Nouvelles numéro {n}", "summary": "Un court résumé de l'article {n}.",
              "body": "Le texte de l'article {n} avec un lien https://example.com/docs/{n} et @syndicate.",
              "cta_text": "Lire la suite"},
}


def item(n: int, *, prefix: str = "bench", revision: int = 1, human: Sequence[str] = ()) -> dict[str, Any]:
    """Benchmark item ``n`` (en-US), with human translations for the locales in ``human``.

    Revisions differ in their links and tags only: the text a translator sees (links masked) is the
    same in every revision.
    """
    v = f"?v={revision}" if revision > 1 else ""
    data: dict[str, Any] = {
        "id": f"{prefix}-{n:06d}", "revision": revision, "source_locale": "en-US",
        "title": f"News number {n}", "summary": f"A short summary of item {n}, saying what it is about.",
        "body": (f"The body of item {n}, with a link https://example.com/docs/{n}{v} and a mention of "
                 "@syndicate. It has a second sentence, so that it reads like a short post."),
        "canonical_url": f"https://example.com/items/{n}?ref=feed{v.replace('?', '&')}", "campaign": "bench",
        "cta": {"text": "Read more", "url": f"https://example.com/items/{n}"},
        "tags": ["bench", "news"] + ([f"r{revision}"] if revision > 1 else []),
        "approved": True, "approved_by": "bench@example.com", "approved_at": "2026-01-01T00:00:00Z",
    }
    if human:
        data["overrides"] = {"locales": {loc: {k: v.format(n=n) for k, v in HUMAN[loc].items()} for loc in human}}
    return data


def worker_args(ap: Any, *, timeout_s: float = 900.0) -> None:
    """The worker options every pipeline benchmark takes: processes, threads, log level, timeout."""
    ap.add_argument("--processes", type=int, default=2, help="worker processes")
    ap.add_argument("--threads", type=int, default=8, help="worker threads per process")
    ap.add_argument("--log-level", default="INFO", help="the workers' log level (their output goes to a file)")
    ap.add_argument("--timeout", type=float, default=timeout_s, help="seconds per run")


def load() -> str:
    """The load average, as text."""
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


@dataclass
class LoadResult:
    """One measured run of a load: the platform's answer times, worker CPU, ledger counts."""

    name: str
    rate: Rate
    cpu_ms_per_post: float
    load: str
    counts: dict[str, int]
    complete: bool
    note: str = ""


Monitor = Any  # called as monitor(workers, done) at every poll


def run_bare_load(platform: Platform, count: int, *, processes: int, threads: int, redis_url: str, log: Path,
                  timeout_s: float, monitor: Monitor = None, floor: bool = False) -> LoadResult:
    """The bare baseline: ``count`` messages on a fresh namespace, one ``requests.post`` each.

    ``floor``: each post also claimed and recorded in a throw-away PostgreSQL database (two
    committed transactions, plain psycopg): the least any exactly-once ledger costs.
    """
    import redis as redis_lib
    from dramatiq import Message

    from benchmarks._services import pg_database
    from syndicate.runtime import make_broker

    ns = f"syndicate-bench-{uuid.uuid4().hex[:10]}"
    broker = make_broker(redis_url, namespace=ns)
    stack = ExitStack()
    dsn = ""
    if floor:

        dsn = stack.enter_context(pg_database()).replace("postgresql+psycopg://", "postgresql://")
        create_floor_tables(dsn, count)
    try:
        broker.declare_queue(BARE_QUEUE)
        for n in range(count):
            broker.enqueue(Message(queue_name=BARE_QUEUE, actor_name="bare_post", args=(n,), kwargs={}, options={}))
        platform.reset()
        with bare_workers(processes, threads, redis_url=redis_url, namespace=ns, url=platform.url + "/bare",
                          log=log, ledger=dsn) as workers:
            def done() -> bool:
                if monitor is not None:
                    monitor(workers, len(platform.done_at))
                return len(platform.done_at) >= count or not workers.alive()

            wait_for(done, timeout_s, progress=lambda: len(platform.done_at), stall_s=15)
            cpu = workers.cpu_s()
            started = workers.started_at
    finally:
        broker.close()
        client = redis_lib.Redis.from_url(redis_url)
        keys = list(client.scan_iter(match=f"{ns}*", count=1000))
        if keys:
            client.delete(*keys)
        client.close()
        stack.close()
    answered = len(platform.done_at)
    rate = steady_rate(platform.done_at, started)
    name = "bare + claim/record in PostgreSQL" if floor else "bare Dramatiq + requests.post"
    return LoadResult(name, rate, cpu * 1000 / max(1, answered), load(),
                      {"posted": answered}, answered >= count,
                      "" if answered >= count else f"incomplete: {answered}/{count} answered")


def run_syndicate_load(name: str, platform: Platform, items: Sequence[dict[str, Any]], total: int, *,
                       database_url: str, redis_url: str, namespace: str, config: Path, processes: int,
                       threads: int, log: Path, timeout_s: float, log_level: str = "INFO",
                       tree: Path | None = None, monitor: Monitor = None,
                       extra_env: dict[str, str] | None = None) -> LoadResult:
    """Syndicate end to end: submit ``items`` (``total`` publications), start ``processes`` workers of
    ``threads`` threads, wait until the ledger holds ``total`` more published rows."""
    from syndicate import Runtime, submit

    env = worker_env(database_url=database_url, redis_url=redis_url, namespace=namespace, config=config,
                     log_level=log_level, pythonpath=tree, extra=extra_env)
    with Runtime.create(config=config, database_url=database_url, redis_url=redis_url, namespace=namespace,
                        environ=env) as rt:
        already = rt.ledger.count_by_state().get("published", 0)
        for data in items:
            submit(data, runtime=rt, ignore_schedule=True, actor="bench")
        platform.reset()
        workers = syndicate_workers(processes, threads, env, log)
        if tree is not None:
            workers.cwd = tree
        with workers:
            def done() -> bool:
                published = rt.ledger.count_by_state().get("published", 0) - already
                if monitor is not None:
                    monitor(workers, published)
                return published >= total or not workers.alive()

            wait_for(done, timeout_s, every_s=0.5, progress=lambda: len(platform.done_at))
            cpu = workers.cpu_s()
            started = workers.started_at
        counts = rt.ledger.count_by_state()
    published = counts.get("published", 0) - already
    rate = steady_rate(platform.done_at, started)
    return LoadResult(name, rate, cpu * 1000 / max(1, published), load(), counts, published >= total,
                      "" if published >= total else f"incomplete: {counts}")
