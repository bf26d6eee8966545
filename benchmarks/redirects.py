"""Short-link redirects per second: the redirect app against a bare Starlette redirect, same run.

Fills a throw-away SQLite ledger with ``--links`` short links (rows written straight into the
tables, made one a second), loads them into the app the way ``syndicate links serve`` does (one
full refresh, timed, then an incremental one),
then drives both apps in process, in alternating rounds, with the same requests: ``--unknown``
percent unknown codes, the rest known codes clicked by a browser, a link previewer or a HEAD
request. Each request is one ASGI call (scope, receive, send) on one event loop, so the figure is
the apps' own work per click, without HTTP parsing or sockets, which would be the same for both.

* **bare**: a Starlette app whose one route looks the code up in a ``dict`` and answers 302 (or 404);
* **syndicate**: :func:`syndicate.api.links.create_links_app`: the same lookup in its
  :class:`~syndicate.operations.clicks.LinkMap`, the bot check, the count in the
  :class:`~syndicate.operations.clicks.ClickBuffer`, and its redirect headers.

Also timed: writing the counts buffered by one round to the ledger (what the background writer
does every ``--flush`` seconds), and an incremental refresh.

    python -m benchmarks.redirects [--links 100000] [--requests 50000] [--rounds 5] [--unknown 10]

Goal: syndicate >= 0.8 x bare redirects per second.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from benchmarks._services import machine, table
from syndicate.api.links import LinkServer, LinkSettings, create_links_app
from syndicate.base.logging import configure_logging
from syndicate.ledger import Ledger
from syndicate.ledger.links import new_code
from syndicate.ledger.schema import items, publications, short_links

AGENTS = (
    b"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36",
    b"Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
    b"Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
    b"facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
)


def fill(ledger: Ledger, n: int) -> list[str]:
    """``n`` items, publications and short links, straight into the tables, the links made one a
    second up to now (as planning makes them, spread out); returns the codes."""
    now = datetime.now(UTC)
    codes = [new_code() for _ in range(n)]
    with ledger.begin() as conn:
        conn.execute(insert(items), [
            {"item_id": f"bench-{i}", "revision": 1, "payload": {}, "content_hash": "0" * 64, "campaign": "bench",
             "state": "active", "received_at": now, "updated_at": now} for i in range(n)])
        conn.execute(insert(publications), [
            {"id": i + 1, "key": f"bench-{i}/1/en-US/x/0", "item_id": f"bench-{i}", "revision": 1, "locale": "en-US",
             "account": "x", "slot": 0, "region": "bench", "channel": "x", "campaign": "bench", "state": "published",
             "ready": True, "scheduled_for": now, "planned_for": now, "attempts": 1, "failures": 0, "deferrals": 0,
             "tagged_url": f"https://example.com/post/{i}?utm_source=x&utm_medium=social&utm_campaign=bench"
                           f"&utm_content=bench-{i}.r1.en-US.x.0",
             "utm": {}, "created_at": now, "updated_at": now} for i in range(n)])
        conn.execute(insert(short_links), [
            {"code": codes[i], "publication_id": i + 1, "item_id": f"bench-{i}", "locale": "en-US", "account": "x",
             "slot": 0, "revision": 1, "target_publication_id": i + 1, "target_revision": 1,
             "created_at": now - timedelta(seconds=n - i), "updated_at": now - timedelta(seconds=n - i)}
            for i in range(n)])
    return codes


def bare_app(urls: dict[str, str]) -> Starlette:
    """The baseline: a dict lookup and a 302, nothing else."""

    async def redirect(request: Request) -> Response:
        url = urls.get(request.path_params["code"])
        if url is None:
            return Response(b"not found\n", status_code=404, media_type="text/plain")
        return Response(status_code=302, headers={"location": url})

    return Starlette(routes=[Route("/r/{code}", redirect, methods=["GET", "HEAD"])])


def requests_for(codes: Sequence[str], n: int, unknown_pct: float, seed: int = 7) -> list[dict[str, Any]]:
    """ASGI scopes: a mix of known and unknown codes, browsers, previewers and HEAD requests."""
    rnd = random.Random(seed)
    out = []
    for _ in range(n):
        code = new_code() if rnd.random() * 100 < unknown_pct else rnd.choice(codes)
        agent = rnd.choice(AGENTS)
        method = "HEAD" if rnd.random() < 0.05 else "GET"
        out.append({"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
                    "scheme": "https", "path": f"/r/{code}", "raw_path": f"/r/{code}".encode(), "query_string": b"",
                    "root_path": "", "headers": [(b"host", b"go.example.com"), (b"user-agent", agent)],
                    "client": ("203.0.113.9", 50000), "server": ("127.0.0.1", 8090)})
    return out


async def drive(app: Any, scopes: Sequence[dict[str, Any]]) -> tuple[float, dict[int, int]]:
    """Send every scope through ``app``; returns (seconds, statuses)."""
    statuses: dict[int, int] = {}

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses[message["status"]] = statuses.get(message["status"], 0) + 1

    start = time.perf_counter()
    for scope in scopes:
        await app(scope, receive, send)
    return time.perf_counter() - start, statuses


async def bench(args: argparse.Namespace) -> None:
    configure_logging(level="WARNING")
    print(machine())
    with tempfile.TemporaryDirectory() as tmp, Ledger(f"sqlite:///{Path(tmp) / 'bench.db'}") as ledger:
        ledger.migrate()
        codes = fill(ledger, args.links)
        app = create_links_app(ledger, LinkSettings(prefix="/r/"))
        server: LinkServer = app.state.links
        t0 = time.perf_counter()
        server.links.refresh(ledger)
        load_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        again_rows = server.links.refresh(ledger)
        again_s = time.perf_counter() - t0
        urls = {c: server.links.get(c)[1].decode("latin-1") for c in codes}  # type: ignore[index]
        bare = bare_app(urls)
        scopes = requests_for(codes, args.requests, args.unknown)
        await drive(bare, scopes[:2000])  # warm both up
        await drive(app, scopes[:2000])
        server.buffer.take()
        rates: dict[str, list[float]] = {"bare": [], "syndicate": []}
        ratios: list[float] = []
        flush_s: list[float] = []
        keys = 0
        for _ in range(args.rounds):
            s_bare, st_bare = await drive(bare, scopes)
            s_ours, st_ours = await drive(app, scopes)
            assert st_bare == st_ours, (st_bare, st_ours)
            rates["bare"].append(len(scopes) / s_bare)
            rates["syndicate"].append(len(scopes) / s_ours)
            ratios.append(s_bare / s_ours)
            counts = server.buffer.take()
            keys = len(counts)
            t0 = time.perf_counter()
            ledger.add_clicks(counts)
            flush_s.append(time.perf_counter() - t0)
        totals = ledger.click_totals(range(1, args.links + 1))
        counted = sum(c.human + c.bot for c in totals.values())
    med = statistics.median
    print(f"{args.links:,} links; {args.requests:,} requests a round ({args.unknown:g} % unknown codes, "
          f"5 % HEAD, half the agents previewers); {args.rounds} rounds, alternating")
    print(table(["app", "redirects/s (median)", "min", "max", "µs per request"], [
        [name, round(med(r)), round(min(r)), round(max(r)), round(1e6 / med(r), 1)] for name, r in rates.items()]))
    print(f"syndicate / bare: {med(ratios):.2f} (median of the rounds; min {min(ratios):.2f}, max {max(ratios):.2f})"
          f"  goal >= 0.8")
    print(f"load {args.links:,} links into memory: {load_s * 1000:.0f} ms; an incremental refresh (re-reads the "
          f"last 2 minutes' changes: {again_rows} links): {again_s * 1000:.1f} ms")
    print(f"write one round's counts ({keys:,} publication-hours): {med(flush_s) * 1000:.0f} ms (median); "
          f"clicks in the ledger after all rounds: {counted:,}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--links", type=int, default=100_000, help="short links in the ledger")
    p.add_argument("--requests", type=int, default=50_000, help="requests per app per round")
    p.add_argument("--rounds", type=int, default=5, help="rounds (each drives both apps)")
    p.add_argument("--unknown", type=float, default=10.0, help="percent of requests with an unknown code")
    asyncio.run(bench(p.parse_args()))


if __name__ == "__main__":
    main()
