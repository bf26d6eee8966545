"""What the scheduling benchmarks start and stop: a throw-away PostgreSQL database, a Redis
namespace, a config directory of sandbox accounts. Everything is removed on exit."""

from __future__ import annotations

import os
import platform
import shutil
import statistics
import subprocess
import tempfile
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

PG_ADMIN_URL = os.environ.get("SYNDICATE_BENCH_DATABASE_URL") or "postgresql://postgres@127.0.0.1:5432/postgres"
REDIS_URL = os.environ.get("SYNDICATE_BENCH_REDIS_URL") or "redis://127.0.0.1:6379/0"


@contextmanager
def pg_database() -> Iterator[str]:
    """A fresh PostgreSQL database (SQLAlchemy URL), dropped afterwards."""
    import psycopg
    from sqlalchemy.engine import make_url

    name = f"syndicate_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(PG_ADMIN_URL).set(drivername="postgresql+psycopg", database=name).render_as_string(
            hide_password=False)
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def redis_namespace() -> Iterator[str]:
    """A Redis namespace of its own; its keys are deleted afterwards."""
    import redis

    ns = f"syndicate-bench-{uuid.uuid4().hex[:10]}"
    try:
        yield ns
    finally:
        client = redis.Redis.from_url(REDIS_URL)
        keys = list(client.scan_iter(match=f"{ns}*", count=1000))
        if keys:
            client.delete(*keys)
        client.close()


@contextmanager
def sandbox_config(accounts: int, outbox: Path | None = None) -> Iterator[Path]:
    """A config directory with one route publishing en-US to ``accounts`` sandbox accounts."""
    tmp = Path(tempfile.mkdtemp(prefix="syndicate-bench-"))
    try:
        ids = [f"s{i:03d}" for i in range(accounts)]
        options: dict[str, Any] = {"directory": str(outbox or tmp / "outbox")}
        (tmp / "routes").mkdir()
        (tmp / "accounts.yaml").write_text(yaml.safe_dump(
            {"accounts": {i: {"adapter": "sandbox", "options": dict(options)} for i in ids}}), encoding="utf-8")
        (tmp / "routes" / "bench.yaml").write_text(yaml.safe_dump(
            {"region": "bench", "locales": ["en-US"], "timezone": "UTC", "accounts": ids}), encoding="utf-8")
        yield tmp
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0–100) by the nearest-rank method."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def summary_ms(values_s: Sequence[float]) -> dict[str, float]:
    """p50, p99, max and mean in milliseconds."""
    return {"p50": percentile(values_s, 50) * 1000, "p99": percentile(values_s, 99) * 1000,
            "max": max(values_s) * 1000 if values_s else float("nan"),
            "mean": statistics.fmean(values_s) * 1000 if values_s else float("nan")}


def machine() -> str:
    """One line describing this machine and the services' versions."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            cpu = next((line.split(":", 1)[1].strip() for line in fh if line.startswith("model name")), cpu)
    except OSError:
        pass
    versions = []
    for cmd in (["psql", "--version"], ["redis-server", "--version"]):
        try:
            out = subprocess.run(cmd, capture_output=True, text=True, timeout=5, check=False).stdout.split()
            versions.append(" ".join(out[:3]))
        except OSError:
            continue
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return (f"{os.cpu_count()} CPU ({cpu}), Python {platform.python_version()}, {', '.join(versions)}; "
            f"load average {load}")


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A plain-text table with right-aligned numbers."""
    cells = [[f"{c:.1f}" if isinstance(c, float) else str(c) for c in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(headers)]
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))
    out = [line, "  ".join("-" * w for w in widths)]
    for r in cells:
        out.append("  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True))))
    return "\n".join(out)
