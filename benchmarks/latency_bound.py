"""Latency-bound throughput: a platform that takes 300 ms to answer, 16 worker threads.

With every call waiting ``--latency-ms`` on the platform, ``processes × threads`` threads can make
at most ``threads / latency`` posts per second (16 / 0.3 s = 53.3/s): the ideal. This runs the same
loads as ``benchmarks.throughput`` (bare Dramatiq actor, then syndicate end to end, same broker,
same processes and threads) against a slow platform and prints each steady rate as a share of
the ideal, and syndicate's ratio to the bare actor. Stops by itself.

    python -m benchmarks.latency_bound [--latency-ms 300] [--items 500] [--rounds 1]

Goal: syndicate ≥ 92 % of the ideal.
"""

from __future__ import annotations

import argparse
import tempfile
from contextlib import ExitStack
from pathlib import Path

from benchmarks._harness import LoadResult, Platform, run_bare_load, worker_args
from benchmarks._services import REDIS_URL, machine, table
from benchmarks.throughput import HEADERS, LOCALES, TAIL, rows_against_bare, run_syndicate


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--latency-ms", type=float, default=300.0)
    ap.add_argument("--items", type=int, default=500, help="items, each for --locales × --accounts publications")
    ap.add_argument("--accounts", type=int, default=2)
    ap.add_argument("--locales", type=int, default=2, choices=[1, 2, 3])
    worker_args(ap)
    ap.add_argument("--rounds", type=int, default=1)
    args = ap.parse_args()
    from syndicate.base.logging import configure_logging

    configure_logging(level="WARNING")
    locales = LOCALES[:args.locales]
    pubs = args.items * len(locales) * args.accounts
    ideal = args.processes * args.threads / (args.latency_ms / 1000)
    print(f"machine: {machine()}")
    results: list[LoadResult] = []
    with ExitStack() as stack:
        log = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="syndicate-bench-"))) / "workers.log"
        platform = stack.enter_context(Platform(args.latency_ms / 1000))
        for rnd in range(args.rounds):
            results.append(run_bare_load(platform, pubs, processes=args.processes, threads=args.threads,
                                         redis_url=REDIS_URL, log=log, timeout_s=args.timeout))
            print(f"round {rnd + 1}: bare {results[-1].rate.steady_per_s:.1f}/s", flush=True)
            results.append(run_syndicate("syndicate", platform, items=args.items, accounts=args.accounts,
                                         locales=locales, processes=args.processes, threads=args.threads, log=log,
                                         timeout_s=args.timeout, log_level=args.log_level))
            print(f"round {rnd + 1}: syndicate {results[-1].rate.steady_per_s:.1f}/s", flush=True)
    print()
    print(f"latency-bound throughput: platform answers after {args.latency_ms:g} ms, {args.processes} processes × "
          f"{args.threads} threads: ideal {ideal:.1f} posts/s; {pubs:,} publications per run ({args.items:,} items "
          f"× {len(locales)} locales × {args.accounts} webhook accounts)")
    print(table([*HEADERS, "of ideal", *TAIL], rows_against_bare(results, ideal)))
    for r in results:
        if r.note:
            print(f"  {r.name}: {r.note}")
    syn = [r.rate.steady_per_s for r in results if r.name == "syndicate"]
    if syn:
        print(f"syndicate: {100 * sum(syn) / len(syn) / ideal:.0f} % of the ideal {ideal:.1f}/s (goal ≥ 92 %)")


if __name__ == "__main__":
    main()
