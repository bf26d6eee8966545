"""Short links end to end: a post on X (the loopback fake) carries a short link on our own domain,
``syndicate links serve`` answers 302 to the publication's tagged URL over real HTTP, clicks are
counted per hour with bots apart, a revision keeps the code, and the counts reach the report, the
API and the metrics. On SQLite and PostgreSQL."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
import uvicorn
from prometheus_client import CollectorRegistry, generate_latest

from syndicate import Runtime, submit
from syndicate.api.app import create_app
from syndicate.api.links import LinkServer, LinkSettings, create_links_app
from syndicate.intake.steps import do_intake
from syndicate.ledger import Ledger
from syndicate.localization.step import do_localize
from syndicate.operations.metrics import LedgerCollector
from syndicate.operations.report import report_rows, write_report
from syndicate.publishing.steps import do_publish
from tests.fakes.x import FakeX, x_account, x_environ
from tests.helpers import free_port, item_data, simple_route

BASE = "https://go.example.com/r/"
BROWSER = ("Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) "
           "Version/17.5 Safari/605.1.15")
SLACKBOT = "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)"
TOKEN = "tok-reader-0123456789abcdefgh"


class Served:
    """uvicorn serving an ASGI app on a loopback port from a thread, lifespan on."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_config=None,
                                                    lifespan="on"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> Served:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started and time.monotonic() < deadline:
            time.sleep(0.02)
        assert self.server.started
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        assert not self.thread.is_alive()


def links_server(ledger: Ledger, **settings: Any) -> Served:
    # Background tasks slower than any test: each test refreshes and flushes when it means to.
    opts = {"prefix": "/r/", "refresh": timedelta(hours=1), "flush": timedelta(hours=1), **settings}
    return Served(create_links_app(ledger, LinkSettings(**opts)))


@pytest.fixture
def fx() -> Iterator[FakeX]:
    with FakeX() as fake:
        yield fake


@pytest.fixture
def x_config(config_dir: Callable[..., Path], fx: FakeX) -> Path:
    # on_revision: reply, so that a revision is a post of its own (X keeps the post by default)
    return config_dir(accounts={"x-na": {**x_account(fx, username="example"), "on_revision": "reply"}},
                      routes=[simple_route("na", ["en-US"], ["x-na"], short_links=True)],
                      settings={"short_links": {"base_url": BASE},
                                "api": {"tokens": {"dash": {"token": "${API_TOKEN_READER}", "scopes": ["read"]}}}})


def environ(fx: FakeX) -> dict[str, str]:
    return {**x_environ(fx), "API_TOKEN_READER": TOKEN}


def plan(rt: Runtime, revision: int) -> int:
    """Submit revision ``revision`` of item-1, run the intake step (which makes the short link) and
    localize it; returns the id of its one publication."""
    sub = submit(item_data(revision=revision, cta=None, body=f"Body of revision {revision}."), runtime=rt,
                 ignore_schedule=True)
    do_intake(rt, sub.item_id, sub.revision)
    do_localize(rt, sub.item_id, sub.revision, "en-US")
    [pub] = sub.publications
    return pub.id


def publish(rt: Runtime, pid: int) -> None:
    due = rt.ledger.take_due(horizon=timedelta(seconds=5), limit=10, actor="test")
    assert pid in [p.id for p in due]
    assert do_publish(rt, pid) == "published"


def get(url: str, agent: str = BROWSER, method: str = "GET") -> requests.Response:
    return requests.request(method, url, headers={"User-Agent": agent}, allow_redirects=False, timeout=5)


def test_a_post_carries_a_short_link_that_redirects_to_its_tagged_url_and_counts_people_and_bots_apart(
    x_config: Path, fx: FakeX, ledger_url: str
) -> None:
    with Runtime.create(config=x_config, database_url=ledger_url, redis_url="", environ=environ(fx)) as rt:
        # Given an item planned on a route with short links: the code exists before anything is posted
        pid = plan(rt, 1)
        code = rt.ledger.short_link_codes([pid])[pid]
        assert len(code) == 10 and code.isalnum()
        # When it is published on X
        publish(rt, pid)
        pub = rt.ledger.publication(pid)
        assert pub is not None
        # Then the post carries the short link, not the tagged URL; the tagged URL keeps its UTM
        [post] = fx.posts
        assert BASE + code in post.text and pub.tagged_url not in post.text
        assert [u["expanded_url"] for u in post.urls] == [BASE + code]
        assert "utm_source=x" in pub.tagged_url and "utm_content=" in pub.tagged_url
        # And the redirect app answers 302 to the tagged URL, for people, link previewers and HEAD
        with links_server(rt.ledger) as srv:
            server: LinkServer = srv.app.state.links
            human = get(f"{srv.url}/r/{code}")
            assert human.status_code == 302 and human.headers["location"] == pub.tagged_url
            assert human.headers["cache-control"] == "no-store"
            get(f"{srv.url}/r/{code}")
            assert get(f"{srv.url}/r/{code}", SLACKBOT).headers["location"] == pub.tagged_url
            assert get(f"{srv.url}/r/{code}", "facebookexternalhit/1.1").status_code == 302
            assert get(f"{srv.url}/r/{code}", method="HEAD").status_code == 302
            # And an unknown code is a bare 404 that says nothing about codes that exist
            missing = [get(f"{srv.url}/r/{c}") for c in ("AAAAAAAAAA", code[:-1], code + "x", "-x")]
            assert {r.status_code for r in missing} == {404}
            assert {r.content for r in missing} == {b"not found\n"}
            assert "location" not in {k.lower() for r in missing for k in r.headers}
            # Nothing is written until the writer runs: the counts wait in memory, one (post, hour) pair
            assert rt.ledger.click_totals([pid]) == {} and len(server.buffer) == 1
        # When the app shuts down, what it counted is written
        hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
        [count] = rt.ledger.clicks_by_hour([pid])
    # Then 2 people and 3 machines (a previewer, a crawler, a HEAD) clicked, in this hour
    assert (count.human, count.bot) == (2, 3)
    assert count.hour in {hour, hour - timedelta(hours=1)}


def test_counts_reach_the_report_the_api_and_the_metrics(x_config: Path, fx: FakeX, ledger_url: str) -> None:
    with Runtime.create(config=x_config, database_url=ledger_url, redis_url="", environ=environ(fx)) as rt:
        # Given a published post with a short link, clicked by 2 people and 1 previewer
        pid = plan(rt, 1)
        publish(rt, pid)
        code = rt.ledger.short_link_codes([pid])[pid]
        with links_server(rt.ledger) as srv:
            for agent in (BROWSER, BROWSER, "LinkedInBot/1.0 (compatible; Mozilla/5.0; +http://www.linkedin.com)"):
                assert get(f"{srv.url}/r/{code}", agent).status_code == 302
        # When the report is made / Then every format shows the short link and the clicks
        [row] = report_rows(rt.ledger, item_id="item-1")
        assert (row["short_link"], row["link_clicks"], row["link_bot_clicks"]) == (BASE + code, 2, 1)
        csv_text = write_report([row], "csv")
        header, line = csv_text.splitlines()[:2]
        assert header.endswith("short_link,link_clicks,link_bot_clicks") and line.endswith(f"{BASE}{code},2,1")
        assert '"link_clicks": 2' in write_report([row], "json")
        assert "2+1b" in write_report([row], "table", width=200)
        html = write_report([row], "html")
        assert 'data-metric="link_clicks"><b>2</b> link clicks' in html and "1 by bots" in html
        # And the API's clicks view has them per hour
        with Served(create_app(rt)) as api:
            answer = requests.get(f"{api.url}/v1/items/item-1/clicks", headers={"Authorization": f"Bearer {TOKEN}"},
                                  timeout=5)
            unknown = requests.get(f"{api.url}/v1/items/nope/clicks", headers={"Authorization": f"Bearer {TOKEN}"},
                                   timeout=5)
            anonymous = requests.get(f"{api.url}/v1/items/item-1/clicks", timeout=5)
        assert answer.status_code == 200 and unknown.status_code == 404 and anonymous.status_code == 401
        [entry] = answer.json()["publications"]
        assert (entry["publication_id"], entry["code"], entry["short_link"]) == (pid, code, BASE + code)
        assert (entry["human"], entry["bot"]) == (2, 1)
        assert [(h["human"], h["bot"]) for h in entry["hours"]] == [(2, 1)]
        # And the metrics gauge sums them per channel
        registry = CollectorRegistry()
        registry.register(LedgerCollector(rt.ledger))
        text = generate_latest(registry).decode()
    assert 'syndicate_link_clicks{channel="x",kind="human"} 2.0' in text
    assert 'syndicate_link_clicks{channel="x",kind="bot"} 1.0' in text


def test_a_revision_keeps_the_old_code_working_and_sends_it_to_the_new_revisions_tagged_url(
    x_config: Path, fx: FakeX, ledger_url: str
) -> None:
    with Runtime.create(config=x_config, database_url=ledger_url, redis_url="", environ=environ(fx)) as rt:
        # Given revision 1 went out with its short link, and the redirect app serves it
        first = plan(rt, 1)
        publish(rt, first)
        code = rt.ledger.short_link_codes([first])[first]
        with links_server(rt.ledger, refresh=timedelta(milliseconds=100)) as srv:
            old = rt.ledger.publication(first)
            assert old is not None and get(f"{srv.url}/r/{code}").headers["location"] == old.tagged_url
            # When revision 2 is planned (the intake step makes its code and moves the old one to it)
            second = plan(rt, 2)
            new = rt.ledger.publication(second)
            assert new is not None and ".r2." in new.tagged_url and ".r1." in old.tagged_url
            new_code = rt.ledger.short_link_codes([second])[second]
            # Then, once the app's refresher has read the change, the link on the post already out
            # sends readers to revision 2's tagged URL, and so does revision 2's own link
            server: LinkServer = srv.app.state.links
            deadline = time.monotonic() + 10
            while server.links.get(code) != (first, new.tagged_url.encode()):
                assert time.monotonic() < deadline, "the refresher never picked up the revision"
                time.sleep(0.05)
            assert get(f"{srv.url}/r/{code}").headers["location"] == new.tagged_url
            assert get(f"{srv.url}/r/{new_code}").headers["location"] == new.tagged_url
        # And revision 2's post carries its own link (X refuses a repeated text), made once
        publish(rt, second)
        assert new_code != code and rt.ledger.short_link_codes([first, second]) == {first: code, second: new_code}
        assert [p.text.count(BASE) for p in fx.posts] == [1, 1]
        assert BASE + code in fx.posts[0].text and BASE + new_code in fx.posts[1].text
        made = [e["publication_id"] for e in rt.ledger.events(item_id="item-1") if e["kind"] == "short-link"]
        assert made == [first, second]
        # And each click counts under the post that carried the link: the old post's 3, the new one's 1
        totals = rt.ledger.click_totals([first, second])
    assert (totals[first].human, totals[first].bot, totals[second].human, totals[second].bot) == (2, 0, 1, 0)


def test_a_dead_database_stops_no_redirect_and_the_counts_wait_for_it(
    x_config: Path, fx: FakeX, ledger_url: str
) -> None:
    with Runtime.create(config=x_config, database_url=ledger_url, redis_url="", environ=environ(fx)) as rt:
        pid = plan(rt, 1)
        publish(rt, pid)
        code = rt.ledger.short_link_codes([pid])[pid]
        tagged = rt.ledger.publication(pid).tagged_url  # type: ignore[union-attr]
        # A ledger nobody answers at (a closed loopback port): every read and write fails at once
        dead = Ledger(f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/test")
        with links_server(rt.ledger, refresh=timedelta(milliseconds=50), flush=timedelta(milliseconds=50)) as srv:
            server: LinkServer = srv.app.state.links
            # Given the app loaded its links, then lost its database
            server.ledger = dead
            # When people click / Then every click is still redirected
            for _ in range(3):
                answer = get(f"{srv.url}/r/{code}")
                assert answer.status_code == 302 and answer.headers["location"] == tagged
            # And the writer keeps failing, keeping the counts in memory
            deadline = time.monotonic() + 10
            while not server.flush_failures:
                assert time.monotonic() < deadline, "the writer never tried"
                time.sleep(0.02)
            assert len(server.buffer) == 1 and rt.ledger.click_totals([pid]) == {}
            assert get(f"{srv.url}/r/{code}").status_code == 302
            # When the database is back / Then the counts kept are written
            server.ledger = rt.ledger
            while rt.ledger.click_totals([pid]) == {}:
                assert time.monotonic() < deadline + 10, "the writer never wrote the kept counts"
                time.sleep(0.02)
        dead.close()
        total = rt.ledger.click_totals([pid])[pid]
    assert (total.human, total.bot) == (4, 0)
