"""Where the time goes per publication: CPU by actor, thread and service, SQL statements,
transactions and messages per publication, and (``--sample`` or ``--cprofile``) the publish actor's CPU
by library.

For each tree (this working tree, and each ``--ref`` git revision, extracted with ``git archive``)
a child process runs syndicate on a throw-away PostgreSQL database and a Redis namespace, against
a loopback platform (0 ms) in the parent: it submits ``--items`` items (``--locales`` × ``--accounts``
webhook publications each), then runs one worker thread with its dispatcher in-process until all
are published. One worker thread makes the accounting exact: each message's CPU is that thread's
CPU time between Dramatiq's before/after hooks; the consumer and dispatcher threads are read from
``/proc``; PostgreSQL's share is the CPU of the database's backend processes. Trees alternate
within each round, so a before/after comparison shares the machine's conditions.

    python -m benchmarks.profile_publish [--items 200] [--ref HEAD~3] [--rounds 2] [--sample] [--cprofile]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
from collections import Counter, defaultdict
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# A child profiling another revision (``--tree``) must import that revision's syndicate, before
# anything below imports the working tree's (``_harness`` imports ``syndicate.runtime``).
if __name__ == "__main__" and "--tree" in sys.argv[:-1] and sys.argv[sys.argv.index("--tree") + 1]:
    sys.path.insert(0, sys.argv[sys.argv.index("--tree") + 1])

from benchmarks._harness import REPO, SECRET, SECRET_ENV, Platform, cpu_s, item, load, wait_for, webhook_config
from benchmarks._services import REDIS_URL, machine, pg_database, redis_namespace, table

LOCALES = ["en-US", "de-DE", "fr-FR"]

#: Library → category, for the publish actor's cProfile (first match on the function's file).
CATEGORIES = [
    ("ledger (SQLAlchemy, psycopg)", ("sqlalchemy/", "psycopg/", "syndicate/ledger/")),
    ("broker (Dramatiq, redis)", ("dramatiq/", "/redis/")),
    ("HTTP (requests, urllib3)", ("requests/", "urllib3/", "http/client.py", "socket.py", "ssl.py",
                                  "syndicate/channels/http.py")),
    ("logging and redaction", ("structlog/", "logging/", "syndicate/base/logging.py", "syndicate/base/secrets.py")),
    ("render and sign (adapter)", ("adapters/", "syndicate/channels/rendering.py", "markdown_it/", "nh3",
                                   "syndicate/channels/markup.py", "standardwebhooks", "json/",
                                   "syndicate/intake/attribution.py")),
    ("item validation (pydantic)", ("pydantic", "syndicate/model/item.py", "syndicate/base/fields.py")),
    ("metrics", ("prometheus_client", "syndicate/operations/metrics.py", "syndicate/base/metrics.py")),
]


def _category(filename: str) -> str | None:
    return next((name for name, parts in CATEGORIES if any(p in filename for p in parts)), None)


def _thread_cpu_s() -> dict[str, float]:
    """CPU seconds of each live thread of this process, by thread name."""
    names = {t.native_id: (type(t).__name__ if type(t).__module__.startswith("dramatiq") else t.name)
             for t in threading.enumerate()}
    out: dict[str, float] = defaultdict(float)
    for tid in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{tid}/stat", encoding="ascii") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        out[names.get(int(tid), "other")] += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return dict(out)


def _backend_cpu(url: str) -> dict[int, float]:
    """CPU seconds of each PostgreSQL backend connected to the database of ``url``."""
    import psycopg

    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
        pids = [r[0] for r in conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                                           "AND pid <> pg_backend_pid()").fetchall()]
    return {pid: c for pid in pids if (c := cpu_s(pid)) is not None}


#: Files that serve every library (a JSON encoder, a socket): a sample in one is charged to the
#: library further out on the stack that called it, if any (``--sample``).
_SHARED = ("json/", "socket.py", "http/client.py", "ssl.py")

_OTHER = "other (pipeline, stdlib)"


def _sampled_category(frame: Any, ours: tuple[str, ...]) -> str:
    """The library a stack is in: its innermost frame's (:data:`CATEGORIES`), or "other" when that
    frame is the project's own uncategorized code (files under ``ours``); a frame of the standard
    library or of another package, or in a file of :data:`_SHARED`, is charged to whoever called it."""
    shared = None
    while frame is not None:
        name = frame.f_code.co_filename
        cat = _category(name)
        if cat is not None:
            if not any(part in name for part in _SHARED):
                return cat
            shared = shared or cat
        elif name.startswith(ours):
            return shared or _OTHER
        frame = frame.f_back
    return shared or _OTHER


def _short_path(filename: str) -> str:
    """``package/module.py`` of a file path (the last two parts)."""
    return "/".join(Path(filename).parts[-2:])


@dataclass
class _Watched:
    """One thread while it runs the profiled actor: its CPU clock, the clock at the last sample,
    its ``/proc`` status file, and the (library, function) of its last sample taken running."""

    clock: int
    last: float
    stat: str
    running: tuple[str, str] | None = None


class _Sampler(threading.Thread):
    """Samples the stacks of the threads running the profiled actor every ``every_s`` and charges the
    CPU each used since the previous sample to a library (:func:`_sampled_category`). Unlike
    cProfile it adds nothing to each call, so call-heavy code is not inflated.

    A sampler thread only runs when the other threads let go of the GIL: at the switch interval
    (made short here) or when one blocks on I/O. A sample of a thread that is blocked (its state in
    ``/proc`` is not ``R``) would charge the CPU it used before blocking to the wait, so that CPU
    goes to the last stack of it seen running instead. The CPU between a message's last sample and
    its end is counted apart.
    """

    TAIL = "(after the last sample of a message)"

    def __init__(self, ours: tuple[str, ...], every_s: float = 0.001) -> None:
        super().__init__(name="sampler", daemon=True)
        self.ours = ours
        self.every_s = every_s
        self.cpu_s: dict[str, float] = defaultdict(float)
        self.by_function: dict[str, float] = defaultdict(float)
        self.samples = 0
        self._halt = threading.Event()
        self._lock = threading.Lock()
        self._watched: dict[int, _Watched] = {}

    def start_message(self) -> None:
        """From a thread starting a message of the actor: charge its CPU from now on."""
        ident = threading.get_ident()
        clock = time.pthread_getcpuclockid(ident)
        with self._lock:
            self._watched[ident] = _Watched(clock, time.clock_gettime(clock),
                                            f"/proc/self/task/{threading.get_native_id()}/stat")

    def end_message(self) -> None:
        """From a thread ending a message: stop charging its CPU (none if it was not watched)."""
        with self._lock:
            w = self._watched.pop(threading.get_ident(), None)
            if w is not None:
                self.cpu_s[self.TAIL] += time.clock_gettime(w.clock) - w.last

    @staticmethod
    def _is_running(stat: str) -> bool:
        try:
            with open(stat, encoding="ascii") as f:
                return f.read().rpartition(")")[2].split()[0] == "R"
        except OSError:
            return True

    def run(self) -> None:
        sys.setswitchinterval(self.every_s / 20)
        while not self._halt.wait(self.every_s):
            with self._lock:
                if not self._watched:
                    continue
                frames = sys._current_frames()
                for ident, w in self._watched.items():
                    frame = frames.get(ident)
                    running = self._is_running(w.stat)
                    now = time.clock_gettime(w.clock)
                    used, w.last = now - w.last, now
                    if frame is None:
                        continue
                    if running or w.running is None:  # else charged where it last ran, not walked again
                        here = (_sampled_category(frame, self.ours),
                                f"{_short_path(frame.f_code.co_filename)}:{frame.f_code.co_name}")
                        if running:
                            w.running = here
                    else:
                        here = w.running
                    library, function = here
                    self.cpu_s[library] += used
                    self.by_function[function] += used
                    self.samples += 1

    def stop(self) -> None:
        self._halt.set()
        self.join()


def child(args: argparse.Namespace) -> None:
    """Run one tree and write its figures as JSON to ``args.out``."""
    log_file = open(args.log, "a", encoding="utf-8")  # noqa: SIM115 - the workers' log, for the whole run
    sys.stderr = log_file
    import cProfile
    import pstats

    from dramatiq.middleware import Middleware
    from sqlalchemy import event

    import syndicate
    from syndicate import Runtime, submit
    from syndicate.base.logging import configure_logging
    from syndicate.worker.host import WorkerHost

    configure_logging(json=True, level=args.log_level)
    os.environ[SECRET_ENV] = SECRET
    locales = LOCALES[:args.locales]
    human = [loc for loc in locales if loc != "en-US"]
    counts: Counter[str] = Counter()
    actor_cpu: dict[str, float] = defaultdict(float)
    prof = cProfile.Profile(time.thread_time) if args.cprofile else None
    sampler = _Sampler((str(Path(syndicate.__file__).parent.parent) + "/",)) if args.sample else None

    class Measure(Middleware):
        """Each message's CPU (this thread's), per actor; the publish actor profiled on request."""

        def __init__(self) -> None:
            self.local = threading.local()

        def before_process_message(self, broker: Any, message: Any) -> None:
            if prof is not None and message.actor_name == args.actor:
                prof.enable()
            self.local.t0 = time.thread_time()
            if sampler is not None and message.actor_name == args.actor:
                sampler.start_message()

        def _done(self, message: Any) -> None:
            if sampler is not None:
                sampler.end_message()
            actor_cpu[message.actor_name] += time.thread_time() - self.local.t0
            counts[f"messages: {message.actor_name}"] += 1
            if prof is not None and message.actor_name == args.actor:
                prof.disable()

        def after_process_message(self, broker: Any, message: Any, *, result: Any = None,
                                  exception: BaseException | None = None) -> None:
            self._done(message)

        def after_skip_message(self, broker: Any, message: Any) -> None:
            self._done(message)

    with ExitStack() as stack:
        url = stack.enter_context(pg_database())
        ns = stack.enter_context(redis_namespace())
        cfg = stack.enter_context(webhook_config(args.platform + "/hooks", accounts=args.accounts, locales=locales))
        with Runtime.create(config=cfg, database_url=url, redis_url=REDIS_URL, namespace=ns,
                            environ={**os.environ, SECRET_ENV: SECRET}) as rt:
            engine = rt.ledger.engine

            @event.listens_for(engine, "before_cursor_execute")
            def _statement(*_a: Any) -> None:
                counts["SQL statements"] += 1

            @event.listens_for(engine, "commit")
            def _commit(*_a: Any) -> None:
                counts["transactions committed"] += 1

            @event.listens_for(engine, "checkout")
            def _checkout(*_a: Any) -> None:
                counts["pool checkouts"] += 1

            t0 = time.perf_counter()
            for n in range(args.items):
                submit(item(n, human=human), runtime=rt, ignore_schedule=True, actor="bench")
            submit_s = time.perf_counter() - t0
            total = args.items * len(locales) * args.accounts
            counts.clear()
            rt.broker.middleware.insert(0, Measure())
            pg_before = _backend_cpu(url)
            threads_before = _thread_cpu_s()
            cpu0, wall0 = time.process_time(), time.perf_counter()
            snapshots: list[Any] = []
            if args.tracemalloc:
                tracemalloc.start(max(1, args.frames))

            def _done() -> bool:
                published_now = int(rt.ledger.count_by_state().get("published", 0))
                if args.tracemalloc and not snapshots and published_now >= args.warmup * total:
                    gc.collect()
                    snapshots.append((published_now, tracemalloc.take_snapshot()))
                return bool(published_now >= total)

            host = WorkerHost(rt, threads=1, dispatcher=True)
            if sampler is not None:
                sampler.start()
            host.start()
            try:
                wait_for(_done, 3600, every_s=0.2, progress=lambda: sum(counts.values()))
                if args.tracemalloc:
                    gc.collect()
                    snapshots.append((total, tracemalloc.take_snapshot()))
                # Read while the pool's connections are still open, and before the main thread's polling
                # above is counted twice.
                cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
                threads = _thread_cpu_s()
                pg_after = _backend_cpu(url)
            finally:
                host.stop()
                if sampler is not None:
                    sampler.stop()
            published = rt.ledger.count_by_state().get("published", 0)
    per = 1000 / max(1, published)
    consumers = sum(v - threads_before.get(k, 0.0) for k, v in threads.items() if "Consumer" in k)
    dispatcher = sum(v - threads_before.get(k, 0.0) for k, v in threads.items() if k.startswith("dispatcher"))
    pg = sum(c - pg_before.get(pid, 0.0) for pid, c in pg_after.items())
    worker_total = sum(actor_cpu.values())
    out: dict[str, Any] = {
        "version": getattr(syndicate, "__version__", "?"), "syndicate_path": str(Path(syndicate.__file__).parent),
        "published": published, "expected": total, "submit_ms_per_item": submit_s * 1000 / args.items,
        "cpu_ms": {
            **{f"actor {name}": v * per for name, v in sorted(actor_cpu.items())},
            "worker thread, all messages": worker_total * per,
            "Dramatiq consumers (fetch, ack)": consumers * per,
            "dispatcher": dispatcher * per,
            "this process, all threads": cpu * per,
            "PostgreSQL backends": pg * per,
        },
        "per_publication": {k: v / max(1, published) for k, v in sorted(counts.items())},
        "wall_ms": wall * per,
    }
    if len(snapshots) == 2:
        (n0, first), (n1, last) = snapshots
        keep = [tracemalloc.Filter(False, tracemalloc.__file__),
                tracemalloc.Filter(False, "<frozen importlib._bootstrap>")]
        diff = last.filter_traces(keep).compare_to(first.filter_traces(keep), "traceback")
        out["tracemalloc"] = {
            "between": [n0, n1],
            "grown_kib": sum(d.size_diff for d in diff) / 1024,
            "top": [[f"{d.size_diff / 1024:+.1f} KiB, {d.count_diff:+d} blocks",
                     " <- ".join(f"{Path(f.filename).name}:{f.lineno}" for f in list(d.traceback)[:args.frames])]
                    for d in diff[:args.top]],
        }
    if sampler is not None:
        out["sampled_ms"] = {k: v * per for k, v in sorted(sampler.cpu_s.items(), key=lambda kv: -kv[1])}
        out["sampled_ms"]["all charged"] = sum(sampler.cpu_s.values()) * per
        out["sampled_top"] = [[f, v * per] for f, v in sorted(sampler.by_function.items(), key=lambda kv: -kv[1])
                              [:args.top]]
        out["sampled_ms"]["(samples per publication)"] = sampler.samples / max(1, published)
    if prof is not None:
        stats = pstats.Stats(prof)
        if args.pstats:
            stats.dump_stats(args.pstats)
        by_cat: dict[str, float] = defaultdict(float)
        raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
        for func, (_cc, _nc, tt, _ct, callers) in raw.items():
            cat = _category(func[0])
            if cat is None and func[0] == "~" and callers:  # a builtin: charge it to its main caller
                caller = max(callers.items(), key=lambda kv: kv[1][2])[0]
                cat = _category(caller[0])
            by_cat[cat or "other (pipeline, stdlib)"] += tt
        out["publish_profile_ms"] = {k: v * per for k, v in sorted(by_cat.items(), key=lambda kv: -kv[1])}
        top = sorted(raw.items(), key=lambda kv: -kv[1][2])[:args.top]
        out["publish_top"] = [[f"{Path(f[0]).name}:{f[1]}({f[2]})", tt * per] for f, (_c, _n, tt, _ct, _cl) in top]
    Path(args.out).write_text(json.dumps(out), encoding="utf-8")


def _extract(ref: str, into: Path) -> Path:
    archive = subprocess.run(["git", "-C", str(REPO), "archive", ref], capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


def _merge(results: list[dict[str, Any]], key: str) -> dict[str, float]:
    keys: list[str] = []
    for r in results:
        keys += [k for k in r.get(key, {}) if k not in keys]
    return {k: sum(r.get(key, {}).get(k, 0.0) for r in results) / len(results) for k in keys}


def _print_by_library(results: dict[str, list[dict[str, Any]]], key: str, title: str, top_key: str,
                      top_title: str) -> None:
    """A profile's CPU by library for every tree, then the first tree's top functions."""
    names = list(results)
    by_library = {n: _merge(results[n], key) for n in names}
    print()
    print(f"{title}, ms per publication")
    print(table(["library", *names], [[k, *[by_library[n].get(k, 0.0) for n in names]] for k in by_library[names[0]]]))
    print()
    print(f"{top_title}, {names[0]}, ms")
    print(table(["function", "ms"], results[names[0]][-1][top_key]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--items", type=int, default=200)
    ap.add_argument("--accounts", type=int, default=2)
    ap.add_argument("--locales", type=int, default=2, choices=[1, 2, 3])
    ap.add_argument("--ref", action="append", default=[], help="also profile this git revision (repeatable)")
    ap.add_argument("--rounds", type=int, default=1, help="rounds; the trees alternate within each")
    how = ap.add_mutually_exclusive_group()  # a sample of a run under cProfile would sample its inflation
    how.add_argument("--cprofile", action="store_true", help="profile the publish actor by library (slower)")
    how.add_argument("--sample", action="store_true",
                     help="charge the CPU of the threads running the actor to libraries by sampling their stacks "
                          "every 1 ms (no per-call cost, unlike --cprofile)")
    ap.add_argument("--top", type=int, default=15, help="functions listed with --cprofile or --sample")
    ap.add_argument("--actor", default="publish", choices=["intake", "localize", "publish"],
                    help="the actor profiled with --cprofile or --sample")
    ap.add_argument("--pstats", default="", help="with --cprofile: also write the working tree's publish profile "
                    "to this file (pstats format, for `python -m pstats FILE`)")
    ap.add_argument("--tracemalloc", action="store_true",
                    help="trace allocations: what grew between the end of warm-up and the end (slower)")
    ap.add_argument("--warmup", type=float, default=0.2, help="with --tracemalloc: share of publications "
                    "published before the first snapshot")
    ap.add_argument("--frames", type=int, default=4, help="with --tracemalloc: frames shown per allocation site")
    ap.add_argument("--log-level", default="INFO")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--tree", default="", help=argparse.SUPPRESS)
    ap.add_argument("--platform", default="", help=argparse.SUPPRESS)
    ap.add_argument("--out", default="", help=argparse.SUPPRESS)
    ap.add_argument("--log", default=os.devnull, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args)
        return
    print(f"machine: {machine()}")
    results: dict[str, list[dict[str, Any]]] = {"working tree": []}
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="syndicate-profile-")))
        trees: dict[str, str] = {"working tree": ""}
        for ref in args.ref:
            trees[ref] = str(_extract(ref, Path(stack.enter_context(tempfile.TemporaryDirectory(
                prefix="syndicate-ref-")))))
            results[ref] = []
        platform = stack.enter_context(Platform(0.0))
        for rnd in range(args.rounds):
            for name, tree in trees.items():
                out = tmp / f"{len(results[name])}-{abs(hash(name))}.json"
                cmd = [sys.executable, "-m", "benchmarks.profile_publish", "--child", "--platform", platform.url,
                       "--items", str(args.items), "--accounts", str(args.accounts), "--locales", str(args.locales),
                       "--out", str(out), "--log", str(tmp / "worker.log"), "--log-level", args.log_level,
                       "--top", str(args.top)]
                if tree:
                    cmd += ["--tree", tree]
                if args.tracemalloc:
                    cmd += ["--tracemalloc", "--warmup", str(args.warmup), "--frames", str(args.frames)]
                if args.sample:
                    cmd += ["--sample", "--actor", args.actor]
                if args.cprofile:
                    cmd += ["--cprofile", "--actor", args.actor]
                    if args.pstats and not tree:
                        cmd += ["--pstats", str(Path(args.pstats).resolve())]
                subprocess.run(cmd, cwd=REPO, check=True)
                results[name].append(json.loads(out.read_text(encoding="utf-8")))
                r = results[name][-1]
                expected_root = Path(tree) if tree else REPO
                if Path(r["syndicate_path"]).parent.resolve() != expected_root.resolve():
                    raise SystemExit(f"{name}: profiled {r['syndicate_path']}, not the tree asked for")
                print(f"round {rnd + 1}, {name}: {r['published']}/{r['expected']} published, "
                      f"{r['cpu_ms']['this process, all threads'] + r['cpu_ms']['PostgreSQL backends']:.1f} ms CPU "
                      f"per publication (load {load()})", flush=True)
    names = list(results)
    pubs = args.items * args.locales * args.accounts
    print()
    print(f"per publication: {args.items} items × {args.locales} locales × {args.accounts} webhook accounts = "
          f"{pubs} publications, one worker thread and its dispatcher, PostgreSQL ledger, Redis broker, "
          f"platform 0 ms; mean of {args.rounds} round(s)")
    cpu = {n: _merge(results[n], "cpu_ms") for n in names}
    rows = [[k, *[cpu[n].get(k, 0.0) for n in names]] for k in cpu[names[0]]]
    rows.append(["total CPU (this process + PostgreSQL)",
                 *[cpu[n]["this process, all threads"] + cpu[n]["PostgreSQL backends"] for n in names]])
    rows.append(["wall time, one thread", *[sum(r["wall_ms"] for r in results[n]) / len(results[n]) for n in names]])
    print(table(["CPU ms per publication", *names], rows))
    per = {n: _merge(results[n], "per_publication") for n in names}
    print()
    print(table(["count per publication", *names],
                [[k, *[f"{per[n].get(k, 0.0):.2f}" for n in names]] for k in per[names[0]]]))
    if args.tracemalloc:
        for n in names:
            for r in results[n]:
                tm = r.get("tracemalloc")
                if not tm:
                    continue
                n0, n1 = tm["between"]
                print()
                print(f"{n}: memory allocated and still held, {n0} → {n1} publications: {tm['grown_kib']:+.1f} KiB "
                      f"({tm['grown_kib'] * 1000 / 1024 / max(1, n1 - n0):+.3f} MiB per 1,000 publications); "
                      "largest growth by allocation site")
                print(table(["growth", "where (innermost first)"], tm["top"]))
    if args.sample:
        _print_by_library(results, "sampled_ms", f"{args.actor} actor sampled every 1 ms (the CPU of the threads "
                          "running it charged to the library on their stacks; nothing added per call)",
                          "sampled_top", "innermost Python function of each sample (a C function's CPU is its "
                          "caller's)")
    if args.cprofile:
        _print_by_library(results, "publish_profile_ms", f"{args.actor} actor under cProfile (thread CPU; the "
                          "profiler inflates call-heavy code)", "publish_top", "top functions by own time")


if __name__ == "__main__":
    main()
