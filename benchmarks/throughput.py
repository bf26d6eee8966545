"""End-to-end publications per second against a bare Dramatiq baseline, in the same run.

Starts a loopback platform (every POST answered 200 after ``--latency-ms``) and, for each round:

* **bare**: a fresh Redis namespace holding one message per publication, then ``--processes``
  worker processes of ``--threads`` threads running a bare Dramatiq actor that makes one
  ``requests.post`` of a similar body to the platform per message, on the same broker
  (``syndicate.runtime.make_broker``, Redis) and worker settings as syndicate's;
* **floor** (unless ``--no-floor``): the bare actor plus the least an exactly-once ledger must do,
  a committed claim before the post and a committed record after it, in plain psycopg on a
  throw-away PostgreSQL database (what any durable claim → call → record costs);
* **syndicate**: a throw-away PostgreSQL database and Redis namespace, ``--items`` items submitted
  (each in ``--locales`` locales, the non-source ones by human translation, to ``--accounts``
  webhook accounts), then as many ``syndicate worker --threads N`` processes (each with its
  dispatcher; one leads), until every publication is ``published`` in the ledger: intake →
  localize → dispatch → render and sign → POST → record.

The rate compared is the steady state: answers between the 10th and the 90th percentile of their
times at the platform (start-up and drain left out). The whole-run rate (from process start), the
lowest and highest rate within each tenth of the run, and the worker CPU per post are printed too.
``--ref REV`` also runs syndicate as of an earlier git revision (extracted with ``git archive``),
in the same rounds, for before/after figures. Stops by itself.

    python -m benchmarks.throughput [--items 1000] [--accounts 2] [--locales 2] [--rounds 2]

Goal (platform 0 ms, 2 processes × 8 threads): syndicate ≥ 0.7 × the floor, and worker CPU per
post ≤ 6 ms. (An earlier goal, 0.8 × bare, is out of reach for any durable ledger: the floor alone
reaches about half of bare; docs/performance.md.)
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from benchmarks._harness import (
    REPO,
    LoadResult,
    Platform,
    item,
    run_bare_load,
    run_syndicate_load,
    webhook_config,
    worker_args,
)
from benchmarks._services import REDIS_URL, machine, pg_database, redis_namespace, table

LOCALES = ["en-US", "de-DE", "fr-FR"]


def run_syndicate(name: str, platform: Platform, *, items: int, accounts: int, locales: Sequence[str],
                  processes: int, threads: int, log: Path, timeout_s: float, log_level: str,
                  tree: Path | None = None, monitor: Any = None) -> LoadResult:
    """One syndicate run on its own database and namespace."""
    human = [loc for loc in locales if loc != "en-US"]
    with ExitStack() as stack:
        url = stack.enter_context(pg_database())
        ns = stack.enter_context(redis_namespace())
        cfg = stack.enter_context(webhook_config(platform.url + "/hooks", accounts=accounts, locales=locales))
        return run_syndicate_load(name, platform, [item(n, human=human) for n in range(items)],
                                  items * len(locales) * accounts, database_url=url, redis_url=REDIS_URL,
                                  namespace=ns, config=cfg, processes=processes, threads=threads, log=log,
                                  timeout_s=timeout_s, log_level=log_level, tree=tree, monitor=monitor)


def extract(ref: str, into: Path) -> Path:
    """The tree of git revision ``ref`` (``git archive``), to run an earlier version side by side."""
    archive = subprocess.run(["git", "-C", str(REPO), "archive", ref], capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


def row(r: LoadResult, bare: float | None, ideal: float | None = None) -> list[Any]:
    """A table row for ``r``; ``bare``: the baseline's steady rate to compare with."""
    rate = r.rate
    cells: list[Any] = [r.name, rate.count, rate.steady_per_s, rate.whole_per_s]
    cells.append(f"{rate.steady_per_s / bare:.2f}" if bare else "")
    if ideal is not None:
        cells.append(f"{100 * rate.steady_per_s / ideal:.0f} %")
    cells += [r.cpu_ms_per_post, f"{min(rate.deciles):.0f}–{max(rate.deciles):.0f}" if rate.deciles else "", r.load]
    return cells


def rows_against_bare(results: Sequence[LoadResult], ideal: float | None = None) -> list[list[Any]]:
    """Table rows, each run compared with the bare baseline run before it (same round)."""
    rows = []
    bare_rate: float | None = None
    for r in results:
        if r.name.startswith("bare Dramatiq"):
            bare_rate = r.rate.steady_per_s
            rows.append(row(r, None, ideal))
        else:
            rows.append(row(r, bare_rate, ideal))
    return rows


HEADERS = ["run", "posts", "steady /s", "whole run /s", "ratio to bare"]
TAIL = ["worker CPU ms/post", "tenths /s (min–max)", "load after"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--items", type=int, default=1000)
    ap.add_argument("--accounts", type=int, default=2, help="webhook accounts per item")
    ap.add_argument("--locales", type=int, default=2, choices=[1, 2, 3], help="of en-US, de-DE, fr-FR")
    worker_args(ap)
    ap.add_argument("--latency-ms", type=float, default=0.0, help="the platform's answer delay")
    ap.add_argument("--rounds", type=int, default=2, help="bare and syndicate runs, interleaved")
    ap.add_argument("--ref", action="append", default=[],
                    help="also run syndicate as of this git revision (repeatable), for before/after figures")
    ap.add_argument("--no-floor", action="store_true", help="skip the bare + claim/record run")
    args = ap.parse_args()
    from syndicate.base.logging import configure_logging

    configure_logging(level="WARNING")
    locales = LOCALES[:args.locales]
    pubs = args.items * len(locales) * args.accounts
    print(f"machine: {machine()}")
    results: list[LoadResult] = []
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="syndicate-bench-")))
        log = tmp / "workers.log"
        trees = {ref: extract(ref, Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="syndicate-ref-"))))
                 for ref in args.ref}
        platform = stack.enter_context(Platform(args.latency_ms / 1000))
        common = {"processes": args.processes, "threads": args.threads, "log": log, "timeout_s": args.timeout}
        for rnd in range(args.rounds):
            results.append(run_bare_load(platform, pubs, redis_url=REDIS_URL, **common))
            print(f"round {rnd + 1}: {results[-1].name}: {results[-1].rate.steady_per_s:.1f}/s", flush=True)
            if not args.no_floor:
                results.append(run_bare_load(platform, pubs, redis_url=REDIS_URL, floor=True, **common))
                print(f"round {rnd + 1}: {results[-1].name}: {results[-1].rate.steady_per_s:.1f}/s", flush=True)
            for name, tree in [("syndicate", None), *((f"syndicate @ {ref}", t) for ref, t in trees.items())]:
                results.append(run_syndicate(name, platform, items=args.items, accounts=args.accounts,
                                             locales=locales, log_level=args.log_level, tree=tree,
                                             **common))
                print(f"round {rnd + 1}: {name}: {results[-1].rate.steady_per_s:.1f}/s", flush=True)
        tail = log.read_text(encoding="utf-8", errors="replace").splitlines()[-5:] if log.exists() else []
    print()
    print(f"throughput: {pubs:,} publications per run ({args.items:,} items × {len(locales)} locales × "
          f"{args.accounts} webhook accounts), platform latency {args.latency_ms:g} ms, "
          f"{args.processes} processes × {args.threads} threads, PostgreSQL ledger, Redis broker")
    print(table([*HEADERS, *TAIL], rows_against_bare(results)))
    for r in results:
        if r.note:
            print(f"  {r.name}: {r.note}")
    def mean(name: str) -> float | None:
        rates = [r.rate.steady_per_s for r in results if r.name == name]
        return sum(rates) / len(rates) if rates else None

    bare, floor = mean("bare Dramatiq + requests.post"), mean("bare + claim/record in PostgreSQL")
    for name in ["syndicate", *(f"syndicate @ {ref}" for ref in args.ref)]:
        syn = mean(name)
        if syn and bare:
            print(f"{name}: mean steady rate {syn:.1f}/s, ratio of the means to bare {syn / bare:.2f}"
                  + (f", to the floor {syn / floor:.2f} (goal ≥ 0.7)" if floor else ""))
    if floor and bare:
        print(f"the floor (a claim and a record per post) alone: {floor / bare:.2f} of bare")
    if any(r.note for r in results) and tail:
        print("last worker log lines:\n  " + "\n  ".join(tail))


if __name__ == "__main__":
    main()
