"""Short links in the ledger and in the redirect app's map, on SQLite and PostgreSQL; and the
``syndicate links serve`` command as ops run it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests
from sqlalchemy.exc import OperationalError

from syndicate import Runtime, submit
from syndicate.intake.steps import do_intake
from syndicate.ledger import Ledger
from syndicate.model.item import parse_item
from syndicate.operations.clicks import LinkMap
from syndicate.operations.preview import preview_item
from tests.helpers import REPO, free_port, item_data, sandbox_accounts, simple_route

BASE = "https://go.example.com/r/"


def short_config(config_dir: Callable[..., Path]) -> Path:
    return config_dir(accounts=sandbox_accounts("a", "b"),
                      routes=[simple_route("na", ["en-US"], ["a"], short_links=True),
                              simple_route("uk", ["en-GB"], ["b"])],
                      settings={"short_links": {"base_url": BASE}})


def test_planning_makes_one_code_per_publication_that_posts_a_short_link(
    config_dir: Callable[..., Path], ledger_url: str
) -> None:
    with Runtime.create(config=short_config(config_dir), database_url=ledger_url, redis_url="") as rt:
        # Given an item planned on a route with short links and one without
        sub = submit(item_data(), runtime=rt, ignore_schedule=True)
        by_locale = {p.locale: p for p in sub.publications}
        # When the intake step runs, twice (a redelivered message)
        do_intake(rt, sub.item_id, sub.revision)
        do_intake(rt, sub.item_id, sub.revision)
        codes = rt.ledger.short_link_codes(p.id for p in sub.publications)
        targets = rt.ledger.link_targets()
    # Then only the short-link route's publication has a code, made once
    assert list(codes) == [by_locale["en-US"].id]
    assert [(t.code, t.publication_id, t.url) for t in targets] == [
        (codes[by_locale["en-US"].id], by_locale["en-US"].id, by_locale["en-US"].tagged_url)]


def test_many_processes_asking_at_once_get_the_same_code(config_dir: Callable[..., Path], ledger_url: str) -> None:
    with Runtime.create(config=short_config(config_dir), database_url=ledger_url, redis_url="") as rt:
        [pub] = [p for p in submit(item_data(), runtime=rt, ignore_schedule=True).publications if p.locale == "en-US"]
        ledgers = [Ledger(ledger_url) for _ in range(6)]
        start = threading.Barrier(len(ledgers))
        got: list[str] = []

        def ask(ledger: Ledger) -> None:
            start.wait()
            got.append(ledger.short_link_code(pub))

        threads = [threading.Thread(target=ask, args=(lg,)) for lg in ledgers]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        for lg in ledgers:
            lg.close()
        made = [e for e in rt.ledger.events(publication_id=pub.id) if e["kind"] == "short-link"]
        assert len(got) == 6 and len(set(got)) == 1
        assert len(made) == 1 and rt.ledger.short_link_code(pub) == got[0]


def test_the_map_loads_then_reads_only_changes_and_keeps_its_links_when_the_ledger_fails(
    config_dir: Callable[..., Path], ledger_url: str
) -> None:
    with Runtime.create(config=short_config(config_dir), database_url=ledger_url, redis_url="") as rt:
        first = submit(item_data(id="one"), runtime=rt, ignore_schedule=True)
        do_intake(rt, first.item_id, first.revision)
        links = LinkMap()
        assert not links.loaded and links.get("anything") is None
        # Given a first, full load
        assert links.refresh(rt.ledger) == 1 and links.loaded and len(links) == 1
        # When another item is planned / Then the next refresh adds its link to the ones held
        second = submit(item_data(id="two"), runtime=rt, ignore_schedule=True)
        do_intake(rt, second.item_id, second.revision)
        links.refresh(rt.ledger)
        codes = rt.ledger.short_link_codes(p.id for p in [*first.publications, *second.publications])
        assert len(links) == 2 and all(links.get(c) is not None for c in codes.values())
        # And a refresh against a ledger that does not answer raises, and every link stays
        dead = Ledger(f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/test")
        with pytest.raises(OperationalError):
            links.refresh(dead)
        dead.close()
        assert len(links) == 2 and {links.get(c)[0] for c in codes.values()} == set(codes)  # type: ignore[index]


def test_a_preview_shows_a_short_link_of_the_real_length(config_dir: Callable[..., Path], sqlite_url: str) -> None:
    with Runtime.create(config=short_config(config_dir), database_url=sqlite_url, redis_url="") as rt:
        item = parse_item(item_data(cta=None))
        posts = {p.locale: p for p in preview_item(rt, item, now=datetime.now(UTC), ignore_schedule=True)}
    assert posts["en-US"].link == BASE + "0000000000" and BASE in (posts["en-US"].text or "")
    assert posts["en-GB"].link is not None and posts["en-GB"].link.startswith("https://example.com/post?")


def test_links_serve_redirects_and_writes_its_counts_when_stopped(
    config_dir: Callable[..., Path], tmp_path: Path
) -> None:
    # Given a ledger with one planned short link
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    with Runtime.create(config=short_config(config_dir), database_url=url, redis_url="") as rt:
        sub = submit(item_data(), runtime=rt, ignore_schedule=True)
        do_intake(rt, sub.item_id, sub.revision)
        [(pid, code)] = rt.ledger.short_link_codes(p.id for p in sub.publications).items()
        tagged = rt.ledger.publication(pid).tagged_url  # type: ignore[union-attr]
    # When ops start the redirect app on it
    port, metrics = free_port(), free_port()
    env = {**os.environ, "SYNDICATE_DATABASE_URL": url, "SYNDICATE_LOG_FORMAT": "json"}
    proc = subprocess.Popen([sys.executable, "-m", "syndicate", "links", "serve", "--port", str(port), "--prefix",
                             "/r/", "--flush", "3600", "--metrics-port", str(metrics)],
                            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if requests.get(f"http://127.0.0.1:{port}/r/-/healthz", timeout=2).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read() if proc.stderr else ""
            time.sleep(0.1)
        # Then a click redirects, an unknown code does not, and the ops port answers
        hit = requests.get(f"http://127.0.0.1:{port}/r/{code}", allow_redirects=False, timeout=5,
                           headers={"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/127.0"})
        assert hit.status_code == 302 and hit.headers["location"] == tagged
        assert requests.get(f"http://127.0.0.1:{port}/r/ZZZZZZZZZZ", timeout=5).status_code == 404
        assert requests.get(f"http://127.0.0.1:{metrics}/readyz", timeout=5).status_code == 200
        assert "syndicate_link_clicks" in requests.get(f"http://127.0.0.1:{metrics}/metrics", timeout=5).text
    finally:
        # And stopping it (SIGTERM, as an orchestrator does) writes the click it counted
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
    # uvicorn shuts down gracefully, then raises the signal again so the exit status says SIGTERM
    assert proc.returncode == -signal.SIGTERM, proc.stderr.read() if proc.stderr else ""
    with Ledger(url) as ledger:
        total = ledger.click_totals([pid])[pid]
    assert (total.human, total.bot) == (1, 0)
    assert timedelta(0) <= datetime.now(UTC) - ledger.clicks_by_hour([pid])[0].hour  # type: ignore[operator]
