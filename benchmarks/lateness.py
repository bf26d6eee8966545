"""How late publications go out: 1,000 publications due within the same minute.

For each mode it starts what it needs (embedded: a SQLite ledger and the in-process broker;
redis: a throw-away PostgreSQL database and a Redis namespace), runs a worker with its
dispatcher in this process, submits 100 items for 10 sandbox accounts with ``publish_at``
spread over one minute (10 publications due at each instant; ``--spread`` changes that), waits
until all are published, and prints how late each call started (``claimed_at -
scheduled_for``) and finished (``published_at - scheduled_for``): p50, p99, max, and how many
started early. Stops by itself.

    python -m benchmarks.lateness [--mode embedded|redis|both] [--items 100] [--threads 8]

Goal: p99 lateness <= 1 s, none early.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from benchmarks._services import (
    REDIS_URL,
    machine,
    pg_database,
    redis_namespace,
    sandbox_config,
    summary_ms,
    table,
)
from syndicate import Runtime, submit
from syndicate.base.logging import configure_logging
from syndicate.worker.host import WorkerHost

ACCOUNTS = 10


def _item(n: int, publish_at: datetime) -> dict[str, Any]:
    return {
        "id": f"late-{n:04d}", "revision": 1, "source_locale": "en-US", "title": f"Item {n}",
        "summary": "A short summary of the item.", "body": "Body text.",
        "canonical_url": f"https://example.com/items/{n}", "campaign": "bench", "approved": True,
        "approved_by": "bench@example.com", "approved_at": "2026-01-01T00:00:00Z",
        "publish_at": publish_at.isoformat(),
    }


@contextmanager
def _runtime(mode: str, cfg: Path, stack: ExitStack) -> Iterator[Runtime]:
    if mode == "embedded":
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="syndicate-bench-")))
        with Runtime.create(config=cfg, database_url=f"sqlite:///{tmp / 'ledger.db'}", redis_url="") as rt:
            yield rt
    else:
        url = stack.enter_context(pg_database())
        ns = stack.enter_context(redis_namespace())
        with Runtime.create(config=cfg, database_url=url, redis_url=REDIS_URL, namespace=ns) as rt:
            yield rt


def run(mode: str, items: int, threads: int, lead: timedelta, spread: timedelta) -> tuple[Any, ...]:
    """One run; returns a table row."""
    with ExitStack() as stack:
        outbox = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="syndicate-outbox-")))
        cfg = stack.enter_context(sandbox_config(ACCOUNTS, outbox))
        rt = stack.enter_context(_runtime(mode, cfg, stack))
        host = WorkerHost(rt, threads=threads, dispatcher=True)
        host.start()
        try:
            start = datetime.now(UTC) + lead
            for n in range(items):
                submit(_item(n, start + spread * n / items), runtime=rt, actor="bench")
            total = items * ACCOUNTS
            deadline = time.monotonic() + (start - datetime.now(UTC) + spread).total_seconds() + 120
            while time.monotonic() < deadline:
                counts = rt.ledger.count_by_state()
                if counts.get("published", 0) + counts.get("failed", 0) >= total:
                    break
                time.sleep(0.5)
        finally:
            host.stop()
        pubs = rt.ledger.publications()
    done = [p for p in pubs if p.state == "published" and p.claimed_at and p.published_at]
    started = [(p.claimed_at - p.scheduled_for).total_seconds() for p in done if p.claimed_at]
    finished = [(p.published_at - p.scheduled_for).total_seconds() for p in done if p.published_at]
    early = sum(1 for s in started if s < 0)
    s, f = summary_ms(started), summary_ms(finished)
    return (mode, f"{len(done)}/{len(pubs)}", s["p50"], s["p99"], s["max"], f["p50"], f["p99"], f["max"], early)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mode", choices=["embedded", "redis", "both"], default="both")
    ap.add_argument("--items", type=int, default=100, help=f"items, each for {ACCOUNTS} accounts")
    ap.add_argument("--threads", type=int, default=8, help="worker threads")
    ap.add_argument("--lead", type=float, default=15.0, help="seconds between submitting and the first due time")
    ap.add_argument("--spread", type=float, default=60.0, help="seconds over which the due times are spread")
    args = ap.parse_args()
    configure_logging(level="WARNING")
    print(f"machine: {machine()}")
    rows = [run(mode, args.items, args.threads, timedelta(seconds=args.lead), timedelta(seconds=args.spread))
            for mode in (["embedded", "redis"] if args.mode == "both" else [args.mode])]
    print()
    print(f"lateness of {args.items * ACCOUNTS:,} publications due within {args.spread:g} s, sandbox accounts, "
          f"one worker process with {args.threads} threads and its dispatcher")
    print(table(["mode", "published", "start p50 ms", "start p99 ms", "start max ms", "done p50 ms", "done p99 ms",
                 "done max ms", "early"], rows))


if __name__ == "__main__":
    main()
