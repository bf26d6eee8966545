"""How long one dispatcher tick takes with 100,000 scheduled rows in a PostgreSQL ledger.

Starts a throw-away PostgreSQL database and a Redis namespace, bulk-inserts the rows with COPY
(1,000 items x 100 publications, due over the next 30 days), then times ticks: idle ones (nothing
due) and ones that enqueue a batch of due rows (made due by moving their time into the past),
with real sends to the Redis broker, and ``Ledger.take_due`` alone (the ledger's share of a
tick). Prints a table; stops by itself.

    python -m benchmarks.dispatcher_tick [--rows 100000] [--rounds 10]

Goal: a tick <= 50 ms at 100,000 rows.

Each tick that enqueues rows is measured twice in the same round, interleaved: the dispatcher as
it is, and a baseline tick that does what the dispatcher did before its batches went to Redis in
one pipeline and its ledger queries became one statement each (the ledger's general path, one
``send`` per message). Wall time and the tick's own CPU time (this thread) are printed for both,
with their ratio.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from benchmarks._harness import load
from benchmarks._services import REDIS_URL, machine, pg_database, redis_namespace, sandbox_config, summary_ms, table
from syndicate.base.logging import configure_logging
from syndicate.ledger.localizations import LocalizationStore
from syndicate.publishing.dispatcher import BATCH, Dispatcher, TickReport
from syndicate.runtime import Runtime

ITEM_PUBS = 100
ACCOUNTS = 10


def _copy_rows(url: str, rows: int, now: datetime) -> None:
    """Items, done localizations and scheduled publications, straight into the tables."""
    import psycopg

    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    items = max(1, rows // ITEM_PUBS)
    with psycopg.connect(dsn) as conn, conn.cursor() as cur:
        with cur.copy("COPY items (item_id, revision, payload, content_hash, campaign, state, received_at, "
                      "updated_at) FROM STDIN") as cp:
            for i in range(items):
                cp.write_row((f"bench-{i:05d}", 1, "{}", "0" * 64, "bench", "active", now, now))
        with cur.copy("COPY localizations (item_id, revision, locale, state, fields, attempts, created_at, "
                      "updated_at) FROM STDIN") as cp:
            for i in range(items):
                cp.write_row((f"bench-{i:05d}", 1, "en-US", "done", '{"title": "t"}', 1, now, now))
        span_s = 30 * 86400
        with cur.copy("COPY publications (key, item_id, revision, locale, account, slot, region, channel, "
                      "campaign, state, ready, scheduled_for, planned_for, attempts, failures, deferrals, "
                      "tagged_url, utm, created_at, updated_at) FROM STDIN") as cp:
            for n in range(rows):
                item, k = divmod(n, ITEM_PUBS)
                account, slot = f"s{k % ACCOUNTS:03d}", k // ACCOUNTS
                when = now + timedelta(seconds=60 + (n * 7919) % span_s)  # spread, not in id order
                utm = json.dumps({"utm_content": f"bench-{item:05d}.en-US.{account}.{slot}"})
                cp.write_row((f"bench-{item:05d}/1/en-US/{account}/{slot}", f"bench-{item:05d}", 1, "en-US",
                              account, slot, "bench", "sandbox", "bench", "scheduled", True, when, when, 0, 0, 0,
                              f"https://example.com/{item}?utm_content={slot}", utm, now, now))
        conn.commit()
        cur.execute("ANALYZE")


def _make_due(url: str, count: int) -> None:
    import psycopg

    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        conn.execute("UPDATE publications SET scheduled_for = now() - interval '1 second' WHERE id IN "
                     "(SELECT id FROM publications WHERE state = 'scheduled' ORDER BY scheduled_for DESC LIMIT %s)",
                     (count,))


def _explain(url: str) -> str:
    import psycopg

    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        plan = conn.execute(
            "EXPLAIN SELECT id FROM publications WHERE state IN ('scheduled', 'retrying') AND ready "
            "AND scheduled_for <= now() + interval '5 seconds' AND account NOT IN "
            "(SELECT account FROM accounts WHERE status != 'ok') ORDER BY scheduled_for, id LIMIT 500 "
            "FOR UPDATE OF publications SKIP LOCKED").fetchall()
    return "\n".join(f"    {r[0]}" for r in plan)


def baseline_tick(d: Dispatcher) -> TickReport:
    """The tick before batching: the ledger's general path (a transaction of several statements
    per query) and one broker round trip per message."""
    import math

    rt, led, t = d.rt, d.rt.ledger, d.rt.timing
    locs = LocalizationStore.localizations_to_request(led, stale_after=t.localize_stale_after, limit=BATCH)
    for key in locs:
        rt.actors.localize.send(*key)
    now = led.now()
    due = LocalizationStore.take_due(led, horizon=t.dispatch_horizon, limit=BATCH, actor=d.name)
    for pub in due:
        delay_ms = max(0, math.ceil((pub.scheduled_for - now).total_seconds() * 1000))
        rt.actors.publish.send_with_options(args=(pub.id,), delay=delay_ms or None)
    stale = led.stale_enqueued(older_than=t.resend_after, limit=BATCH, actor=d.name)
    for pub in stale:
        rt.actors.publish.send(pub.id)
    expired = led.expired_claims(limit=BATCH, actor=d.name)
    waiting = led.stale_in_doubt(older_than=t.resend_after, limit=BATCH)
    for pub in [*expired, *waiting]:
        rt.actors.reconcile.send(pub.id)
    return TickReport(len(locs), len(due), len(stale), len(expired) + len(waiting))


def _timed(tick: Callable[[], TickReport]) -> tuple[TickReport, float, float]:
    t, c = time.perf_counter(), time.thread_time()
    report = tick()
    return report, time.perf_counter() - t, time.thread_time() - c


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--rounds", type=int, default=10, help="timed ticks per case")
    ap.add_argument("--profile", action="store_true", help="print a cProfile of one tick")
    ap.add_argument("--profile-rows", type=int, default=100, help="due rows in the profiled tick")
    args = ap.parse_args()
    configure_logging(level="WARNING")
    print(f"machine: {machine()}")
    with (pg_database() as url,
          redis_namespace() as ns,
          sandbox_config(ACCOUNTS) as cfg,
          Runtime.create(config=cfg, database_url=url, redis_url=REDIS_URL, namespace=ns) as rt):
        t0 = time.perf_counter()
        _copy_rows(url, args.rows, datetime.now(UTC))
        print(f"inserted {args.rows:,} scheduled rows in {time.perf_counter() - t0:.1f} s")
        print("plan of the due-rows query:\n" + _explain(url))
        dispatcher = Dispatcher(rt, name="bench")
        dispatcher.tick()  # warm the pool and the statement caches
        results = []
        idle = []
        for _ in range(args.rounds * 3):
            t = time.perf_counter()
            report = dispatcher.tick()
            idle.append(time.perf_counter() - t)
            assert report.enqueued == 0
        results.append(("idle (nothing due)", 0, *summary_ms(idle).values()))
        compared = []
        for batch in (1, 100, BATCH):
            timings: dict[str, list[float]] = {"wall": [], "cpu": [], "base wall": [], "base cpu": []}
            for _ in range(args.rounds):
                for name, tick in (("", dispatcher.tick), ("base ", lambda: baseline_tick(dispatcher))):
                    _make_due(url, batch)
                    report, wall, cpu = _timed(tick)
                    timings[name + "wall"].append(wall)
                    timings[name + "cpu"].append(cpu)
                    assert report.enqueued == batch, report
            results.append((f"{batch} due", batch, *summary_ms(timings["wall"]).values()))
            results.append((f"{batch} due, baseline tick", batch, *summary_ms(timings["base wall"]).values()))
            med = {k: sorted(v)[len(v) // 2] * 1000 for k, v in timings.items()}
            compared.append((f"{batch} due", med["wall"], med["base wall"], med["wall"] / med["base wall"],
                             med["cpu"], med["base cpu"], med["cpu"] / med["base cpu"]))
        for batch in (100, BATCH):  # the ledger's share: take_due alone, without the sends
            took = []
            for _ in range(args.rounds):
                _make_due(url, batch)
                t = time.perf_counter()
                taken = rt.ledger.take_due(horizon=rt.timing.dispatch_horizon, limit=BATCH, actor="bench")
                took.append(time.perf_counter() - t)
                assert len(taken) == batch
            results.append((f"{batch} due, take_due only", batch, *summary_ms(took).values()))
        if args.profile:
            import cProfile
            import pstats

            _make_due(url, args.profile_rows)
            prof = cProfile.Profile()
            prof.runcall(dispatcher.tick)
            pstats.Stats(prof).sort_stats("tottime").print_stats(15)
    print()
    print(f"dispatcher tick, {args.rows:,} scheduled rows, PostgreSQL ledger, Redis broker, {args.rounds} ticks "
          "per row (idle: 3x)")
    print(table(["case", "enqueued/tick", "p50 ms", "p99 ms", "max ms", "mean ms"], results))
    print()
    print(f"same rounds, interleaved, medians (load {load()})")
    print(table(["case", "tick wall ms", "baseline wall ms", "ratio", "tick CPU ms", "baseline CPU ms", "ratio"],
                compared))


if __name__ == "__main__":
    main()
