"""Machine-translation efficiency: requests to the engine per (item revision, locale), and the cache.

Starts a loopback DeepL (``tests.fakes.deepl``, answering after ``--latency-ms``), a throw-away
PostgreSQL ledger, a Redis namespace (the translation cache lives there) and a loopback platform,
with a route that machine-translates en-US items into ``--locales`` locales (each a different
DeepL target language) with DeepL and publishes them to one webhook account. Then:

1. **first run**: ``--items`` items (revision 1), published by ``--processes`` × ``syndicate worker``;
2. **re-run of unchanged items**: revision 2 of every item, whose links, canonical URL and tags
   changed but whose text did not (links are masked before translation, so a translator sees the
   same text), published the same way;
3. **baseline**: the same texts sent the plain way, one ``translate_text`` request per field with
   the ``deepl`` client, no batching and no cache (what a naive integration does), run 1's
   (item, locale) pairs, from 16 threads.

Prints, for each: requests the engine received, per (item revision, locale), texts per request,
and the cache hit rate (fields served from the cache over fields localized, from the ledger's
``localizations.sources``). Stops by itself.

    python -m benchmarks.mt_efficiency [--items 200] [--locales 4] [--latency-ms 20]

Goal: 1 request per (item revision, locale) on the first run, 0 on the re-run.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from benchmarks._harness import Platform, item, run_syndicate_load, webhook_config, worker_args
from benchmarks._services import REDIS_URL, machine, pg_database, redis_namespace, table
from tests.fakes.base import Request, Response
from tests.fakes.deepl import FakeDeepL

KEY = "bench-deepl-key-5a6b7c8d:fx"
KEY_ENV = "SYNDICATE_BENCH_DEEPL_KEY"
#: Target locales, each a different DeepL target language (locales sharing one share its cache).
TARGETS = ["de-DE", "fr-FR", "es-ES", "it-IT", "ja-JP", "pt-BR", "nl-NL", "pl-PL"]


class SlowDeepL(FakeDeepL):
    """The DeepL fake, answering translations after ``latency_s``."""

    def __init__(self, auth_key: str, latency_s: float) -> None:
        super().__init__(auth_key)
        self.latency_s = latency_s
        self.quota_left = 10**12

    def __enter__(self) -> SlowDeepL:
        self.start()
        return self

    def _translate(self, req: Request) -> Response:
        time.sleep(self.latency_s)
        return super()._translate(req)


def _texts(req: Request) -> int:
    try:
        texts = req.json().get("text")
    except ValueError:
        return 0
    return len(texts) if isinstance(texts, list) else 0


def _sources(rt: Any, revision: int) -> Counter[str]:
    """Where each localized field of ``revision`` came from (human, machine, cache, source)."""
    from sqlalchemy import select

    from syndicate.ledger.schema import localizations

    out: Counter[str] = Counter()
    with rt.ledger.engine.connect() as conn:
        for (sources,) in conn.execute(select(localizations.c.sources).where(localizations.c.revision == revision)):
            out.update((sources or {}).values())
    return out


def _naive(fake: SlowDeepL, items: int, targets: list[str], threads: int) -> tuple[int, float]:
    """One ``translate_text`` per field, no cache: returns (requests made, seconds)."""
    import deepl

    from syndicate.base.locales import engine_code
    from syndicate.localization import source_fields
    from syndicate.model.item import parse_item

    jobs = [(text, engine_code("deepl", loc)) for n in range(items) for loc in targets
            for text in source_fields(parse_item(item(n))).values()]
    before = len(fake.translate_requests())
    started = time.perf_counter()

    def one(job: tuple[str, str]) -> None:
        client = deepl.Translator(KEY, server_url=fake.url, send_platform_info=False)
        client.translate_text(job[0], source_lang="EN", target_lang=job[1])

    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(one, jobs))
    return len(fake.translate_requests()) - before, time.perf_counter() - started


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--items", type=int, default=200)
    ap.add_argument("--locales", type=int, default=4, choices=range(1, len(TARGETS) + 1),
                    help=f"target locales, of {', '.join(TARGETS)}")
    ap.add_argument("--latency-ms", type=float, default=20.0, help="the engine's answer delay")
    worker_args(ap)
    args = ap.parse_args()
    from syndicate import Runtime
    from syndicate.base.logging import configure_logging

    configure_logging(level="WARNING")
    targets = TARGETS[:args.locales]
    pairs = args.items * len(targets)
    print(f"machine: {machine()}")
    rows: list[list[Any]] = []
    with ExitStack() as stack:
        log = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="syndicate-bench-"))) / "workers.log"
        fake = stack.enter_context(SlowDeepL(KEY, args.latency_ms / 1000))
        platform = stack.enter_context(Platform(0.0))
        url = stack.enter_context(pg_database())
        ns = stack.enter_context(redis_namespace())
        profiles = {"translation": {"engines": {"deepl": {"engine": "deepl", "options": {
            "auth_key": f"${{{KEY_ENV}}}", "server_url": fake.url}}}}}
        cfg = stack.enter_context(webhook_config(platform.url + "/hooks", accounts=1, locales=targets,
                                                 translation={"engine": "deepl"}, settings=profiles))
        env = {KEY_ENV: KEY}
        with Runtime.create(config=cfg, database_url=url, redis_url=REDIS_URL, namespace=ns,
                            environ={**env, "SYNDICATE_CONFIG": str(cfg)}) as rt:
            for revision, name in ((1, "syndicate, first run"), (2, "syndicate, re-run of unchanged items")):
                before = list(fake.translate_requests())
                t0 = time.perf_counter()
                res = run_syndicate_load(name, platform, [item(n, revision=revision) for n in range(args.items)],
                                         pairs, database_url=url, redis_url=REDIS_URL, namespace=ns, config=cfg,
                                         processes=args.processes, threads=args.threads, log=log,
                                         timeout_s=args.timeout, log_level=args.log_level, extra_env=env)
                took = time.perf_counter() - t0
                reqs = fake.translate_requests()[len(before):]
                texts = sum(_texts(r) for r in reqs)
                src = _sources(rt, revision)
                translated = src["machine"] + src["cache"]
                rows.append([name, pairs, len(reqs), f"{len(reqs) / pairs:.2f}",
                             f"{texts / len(reqs):.1f}" if reqs else "–",
                             f"{100 * src['cache'] / translated:.0f} %" if translated else "–", f"{took:.1f}"])
                print(f"{name}: {len(reqs)} requests for {pairs} (item revision, locale) pairs"
                      + (f"; {res.note}" if res.note else ""), flush=True)
        naive, took = _naive(fake, args.items, targets, 16)
        rows.append(["baseline: a request per field, no cache (each run)", pairs, naive, f"{naive / pairs:.2f}",
                     "1.0", "0 %", f"{took:.1f}"])
    print()
    print(f"MT efficiency: {args.items} items × {len(targets)} locales ({', '.join(targets)}) by DeepL "
          f"(fake, {args.latency_ms:g} ms), cache in Redis, {args.processes} processes × {args.threads} threads")
    print(table(["run", "pairs", "engine requests", "per pair", "texts per request", "cache hit rate",
                 "seconds (with publishing)"], rows))
    print("goal: 1 request per (item revision, locale) on the first run, 0 on the re-run")


if __name__ == "__main__":
    main()
