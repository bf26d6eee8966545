"""`syndicate report --format html`: one self-contained page per campaign, parsed, and rendered in
headless Chromium when it is installed."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from syndicate import Runtime, submit
from syndicate.cli import main
from syndicate.localization.step import do_localize
from syndicate.operations.engagement import store_snapshot
from syndicate.publishing.steps import do_publish
from tests.helpers import item_data, sandbox_accounts, simple_route


class Page(HTMLParser):
    """Collects what the assertions need: tags with attributes, the rows of the publications table
    (the week view's tables are not it), text."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.rows: list[list[str]] = []
        self.text: list[str] = []
        self._cell: list[str] | None = None
        self._in_tbody = False
        self._in_publications = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {k: v or "" for k, v in attrs}))
        if tag == "table":
            self._in_publications = dict(attrs).get("id") == "publications"
        elif tag == "tbody" and self._in_publications:
            self._in_tbody = True
        elif tag == "tr" and self._in_tbody:
            self.rows.append([])
        elif tag == "td" and self._in_tbody:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "tbody":
            self._in_tbody = False
        elif tag == "td" and self._cell is not None:
            self.rows[-1].append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self._cell is not None:
            self._cell.append(data)

    def all(self, tag: str, **attrs: str) -> list[dict[str, str]]:
        return [a for t, a in self.tags if t == tag and all(a.get(k) == v for k, v in attrs.items())]


@pytest.fixture
def campaign(config_dir: Callable[..., Path], sqlite_url: str, outbox: Path) -> tuple[Path, str, dict[str, Any]]:
    """A campaign over two routes and three accounts: published, cancelled and scheduled rows,
    engagement on some, and a cancel reason that looks like markup."""
    cfg = config_dir(accounts=sandbox_accounts("x-na", "li-na", "x-fr"),
                     routes=[simple_route("na", ["en-US"], ["x-na", "li-na"]),
                             simple_route("fr", ["fr-FR"], ["x-fr"], translation={"engine": "pseudo"})])
    with Runtime.create(config=cfg, database_url=sqlite_url, redis_url="") as rt:
        submit(item_data(id="launch", campaign="spring"), runtime=rt, ignore_schedule=True)
        submit(item_data(id="later", campaign="spring", locales=["en-US"]), runtime=rt, ignore_schedule=True)
        for loc in ("en-US", "fr-FR"):
            do_localize(rt, "launch", 1, loc)
        for p in rt.ledger.take_due(horizon=timedelta(seconds=5), limit=50, actor="test"):
            if p.item_id == "launch":
                assert do_publish(rt, p.id) == "published"
        rt.ledger.cancel_item("later", actor="test", account="li-na", reason="<script>alert(1)</script> & co")
        pubs = rt.ledger.publications(campaign="spring")
        for p in pubs:
            if p.state == "published" and p.account != "li-na":
                store_snapshot(rt.ledger, p.id, {"likes": 12, "reposts": 3, "replies": 1, "clicks": 5},
                               taken_at=rt.ledger.now())
        expected = {"pubs": pubs, "states": Counter(p.state for p in pubs)}
    return cfg, sqlite_url, expected


def render(cfg: Path, db: str, out: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("SYNDICATE_DATABASE_URL", db)
    result = CliRunner().invoke(main, ["report", "--config", str(cfg), "--campaign", "spring", "--format", "html",
                                       "--output", str(out)])
    assert result.exit_code == 0, result.output
    return out.read_text(encoding="utf-8")


def test_the_html_report_lists_every_publication_with_back_links_and_engagement(
    campaign: tuple[Path, str, dict[str, Any]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a campaign with published, scheduled and cancelled publications
    cfg, db, expected = campaign
    # When the HTML report is written
    page = Page()
    page.feed(render(cfg, db, tmp_path / "spring.html", monkeypatch))
    # Then the table has one row per publication, by planned time, with its state
    pubs = sorted(expected["pubs"], key=lambda p: (p.scheduled_for, p.item_id, p.locale, p.account, p.slot))
    shown = [(t["data-locale"], t["data-account"], t["data-state"]) for t in page.all("tr") if "data-state" in t]
    assert shown == [(p.locale, p.account, p.state) for p in pubs]
    # And every published row links its post, and shows its counts
    links = {a["href"] for a in page.all("a")}
    assert {p.permalink for p in pubs if p.state == "published"} <= links
    engaged = [r for r, p in zip(page.rows, pubs, strict=True) if p.account != "li-na" and p.state == "published"]
    assert engaged and all(r[7].startswith("12 likes3 reposts1 replies") for r in engaged)
    # And text from the ledger (here a cancel reason) is shown as text, never as markup
    assert any(r[3].endswith("<script>alert(1)</script> & co") for r in page.rows)
    assert not page.all("script")


def test_the_chart_segments_add_up_to_the_publications_per_locale_and_channel(
    campaign: tuple[Path, str, dict[str, Any]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the campaign
    cfg, db, expected = campaign
    # When the report is written and its chart read back
    page = Page()
    page.feed(render(cfg, db, tmp_path / "spring.html", monkeypatch))
    segments = [a for a in page.all("rect") if "data-state" in a]
    # Then the segments of each (locale, channel) bar count exactly its publications by state
    drawn = Counter()
    for s in segments:
        drawn[(s["data-locale"], s["data-channel"], s["data-state"])] += int(s["data-count"])
    assert drawn == Counter((p.locale, p.channel, p.state) for p in expected["pubs"])
    # And the engagement chart sums the counts per channel
    bars = {(b["data-channel"], b["data-metric"]): int(b["data-count"]) for b in page.all("rect", **{"class": "bar"})}
    published_engaged = sum(1 for p in expected["pubs"] if p.state == "published" and p.account != "li-na")
    assert bars[("sandbox", "likes")] == 12 * published_engaged


def test_the_html_report_is_self_contained(
    campaign: tuple[Path, str, dict[str, Any]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # When the report is written
    cfg, db, _ = campaign
    page = Page()
    page.feed(render(cfg, db, tmp_path / "spring.html", monkeypatch))
    # Then it loads nothing: no script, no stylesheet link, no image or frame source, and a CSP that forbids it
    assert not page.all("script") and not page.all("link") and not page.all("iframe")
    assert not [a for _t, a in page.tags if "src" in a]
    [csp] = page.all("meta", **{"http-equiv": "Content-Security-Policy"})
    assert csp["content"].startswith("default-src 'none'")
    assert len(page.all("svg")) == 2


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium is not installed (apt-get install chromium)")
def test_the_html_report_renders_in_headless_chromium(
    campaign: tuple[Path, str, dict[str, Any]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the written report
    cfg, db, expected = campaign
    html_file = tmp_path / "spring.html"
    render(cfg, db, html_file, monkeypatch)
    flags = [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={tmp_path / 'chromium-profile'}"]
    # When Chromium loads it, dumping the DOM it built and taking a screenshot
    dom = subprocess.run([*flags, "--dump-dom", html_file.as_uri()], capture_output=True, text=True, timeout=120)
    shot = tmp_path / "spring.png"
    subprocess.run([*flags, f"--screenshot={shot}", "--window-size=1400,1000", html_file.as_uri()],
                   capture_output=True, timeout=120)
    # Then the browser's DOM holds the table and both charts, and the screenshot is a real image
    assert dom.returncode == 0, dom.stderr[-2000:]
    page = Page()
    page.feed(dom.stdout)
    assert len(page.rows) == len(expected["pubs"])
    assert len(page.all("svg")) == 2
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert (width, height) == (1400, 1000)
    if keep := os.environ.get("SYNDICATE_KEEP_SCREENSHOT"):  # to look at it: SYNDICATE_KEEP_SCREENSHOT=/tmp/x.png
        shutil.copy(shot, keep)
