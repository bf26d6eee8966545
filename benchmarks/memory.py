"""Worker memory over 10,000 items: resident set size sampled while they are published.

Submits ``--items`` items (one locale, one webhook account each: one publication per item) to a
throw-away PostgreSQL ledger, starts ``--processes`` × ``syndicate worker --threads N`` against a
loopback platform (0 ms) and samples each worker's RSS (``VmRSS`` from ``/proc``) every half
second until all are published. Then the same number of messages through the bare Dramatiq actor
(one ``requests.post`` each), sampled the same way. Prints, per run: RSS after start-up, at the
end of warm-up (the first ``--warmup`` of the items), peak, at the end, and the slope after
warm-up (least squares, MiB per 1,000 items, per process). Stops by itself.

    python -m benchmarks.memory [--items 10000] [--warmup 0.2] [--arena-max 2]

Every worker process runs with ``MALLOC_ARENA_MAX=2`` unless ``--arena-max`` says otherwise, as
the Dockerfile starts them (docs/performance.md explains why).

Goal: ≤ 200 MB per worker process and no growth after warm-up.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks._harness import (
    LoadResult,
    Platform,
    Workers,
    item,
    rss_mb,
    run_bare_load,
    run_syndicate_load,
    webhook_config,
    worker_args,
)
from benchmarks._services import REDIS_URL, machine, pg_database, redis_namespace, table


@dataclass
class Samples:
    """RSS samples of each worker process against the items done at that time."""

    per_pid: dict[int, list[tuple[int, float]]] = field(default_factory=dict)

    def __call__(self, workers: Workers, done: int) -> None:
        for pid in workers.pids:
            mb = rss_mb(pid)
            if mb is not None:
                self.per_pid.setdefault(pid, []).append((done, mb))

    def summary(self, total: int, warmup: float) -> list[float]:
        """Worst process: RSS at start, after warm-up, peak, at the end; slope after warm-up (MiB / 1,000)."""
        start = after_warm = peak = end = 0.0
        slope = float("-inf")
        for samples in self.per_pid.values():
            if not samples:
                continue
            start = max(start, samples[0][1])
            peak = max(peak, max(mb for _, mb in samples))
            end = max(end, samples[-1][1])
            warm = [(n, mb) for n, mb in samples if n >= warmup * total]
            if warm:
                after_warm = max(after_warm, warm[0][1])
            slope = max(slope, _slope(warm) * 1000)
        return [start, after_warm, peak, end, slope]


def _slope(points: list[tuple[int, float]]) -> float:
    """Least-squares slope of MiB over items."""
    if len(points) < 3:
        return float("nan")
    n = len(points)
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    var = sum((x - mx) ** 2 for x, _ in points)
    return sum((x - mx) * (y - my) for x, y in points) / var if var else float("nan")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--items", type=int, default=10_000)
    ap.add_argument("--warmup", type=float, default=0.2, help="share of the items counted as warm-up")
    ap.add_argument("--arena-max", type=int, default=2,
                    help="MALLOC_ARENA_MAX of every worker process, syndicate's and the bare actor's (default 2, "
                         "as the Dockerfile sets it; 0: the C library's default, 8 per core)")
    worker_args(ap, timeout_s=1800.0)
    args = ap.parse_args()
    if args.arena_max > 0:
        os.environ["MALLOC_ARENA_MAX"] = str(args.arena_max)  # the workers inherit this environment
    else:
        os.environ.pop("MALLOC_ARENA_MAX", None)
    from syndicate.base.logging import configure_logging

    configure_logging(level="WARNING")
    print(f"machine: {machine()}")
    rows = []
    results: list[tuple[LoadResult, list[float]]] = []
    with ExitStack() as stack:
        log = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="syndicate-bench-"))) / "workers.log"
        platform = stack.enter_context(Platform(0.0))
        url = stack.enter_context(pg_database())
        ns = stack.enter_context(redis_namespace())
        cfg = stack.enter_context(webhook_config(platform.url + "/hooks", accounts=1, locales=["en-US"]))
        syn = Samples()
        r = run_syndicate_load("syndicate", platform, [item(n) for n in range(args.items)], args.items,
                               database_url=url, redis_url=REDIS_URL, namespace=ns, config=cfg,
                               processes=args.processes, threads=args.threads, log=log, timeout_s=args.timeout,
                               log_level=args.log_level, monitor=syn)
        results.append((r, syn.summary(args.items, args.warmup)))
        print(f"syndicate: {r.rate.steady_per_s:.1f}/s, {sum(len(s) for s in syn.per_pid.values())} samples",
              flush=True)
        bare = Samples()
        b = run_bare_load(platform, args.items, processes=args.processes, threads=args.threads, redis_url=REDIS_URL,
                          log=log, timeout_s=args.timeout, monitor=bare)
        results.append((b, bare.summary(args.items, args.warmup)))
        print(f"bare: {b.rate.steady_per_s:.1f}/s, {sum(len(s) for s in bare.per_pid.values())} samples", flush=True)
    for res, (start, warm, peak, end, slope) in results:
        rows.append([res.name, res.rate.count, start, warm, peak, end, f"{slope:+.3f}"])
    print()
    arenas = f"MALLOC_ARENA_MAX={args.arena_max}" if args.arena_max > 0 else "the C library's malloc arenas"
    print(f"worker RSS (MiB, the larger of {args.processes} processes × {args.threads} threads, {arenas}) over "
          f"{args.items:,} items, one publication each, platform 0 ms; warm-up: the first "
          f"{args.warmup:.0%} of the items")
    print(table(["run", "posts", "after start", "after warm-up", "peak", "end", "slope MiB/1,000 items"], rows))
    for res, _ in results:
        if res.note:
            print(f"  {res.name}: {res.note}")
    syn_peak, syn_slope = results[0][1][2], results[0][1][4]
    print(f"syndicate: peak {syn_peak:.0f} MiB (goal ≤ 200 MB), slope after warm-up {syn_slope:+.3f} MiB per "
          "1,000 items (goal: flat, < 0.02)")


if __name__ == "__main__":
    main()
