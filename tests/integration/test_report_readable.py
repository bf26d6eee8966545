"""The HTML report read at 1,400 px in headless Chromium: nothing overflows, every column shows,
no cell clips its text, and the post text, the local time and the engagement are there.

The page is measured through the DevTools protocol (``tests/support/cdp.py``), as shipped, and a
screenshot is written (``SYNDICATE_KEEP_SCREENSHOT=/tmp/report.png`` keeps it to look at).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from syndicate import Runtime, submit
from syndicate.cli import main
from syndicate.localization.step import do_localize
from syndicate.model.states import PublicationState
from syndicate.operations.engagement import store_snapshot
from syndicate.publishing.steps import do_publish
from tests.helpers import item_data, simple_route
from tests.support.cdp import Chromium

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
WIDTH, HEIGHT = 1400, 1000

LONG_BODY = ("Northwind's field marketing team publishes every approved story in six languages to twelve "
             "channels. " * 6).strip()


@pytest.fixture
def report_file(config_dir: Callable[..., Path], sqlite_url: str, outbox: Path, tmp_path: Path,
                monkeypatch: pytest.MonkeyPatch) -> tuple[Path, dict[str, Any]]:
    """A campaign over three regions and time zones: short posts and a long article, published,
    skipped by a route's buying stages, failed, and scheduled; engagement on the published ones."""
    accounts = {"x-na": {"adapter": "sandbox", "options": {"max_length": 280}},
                "blog-en": {"adapter": "sandbox", "options": {"style": "article"}},
                "x-dach": {"adapter": "sandbox", "options": {"max_length": 280}},
                "linkedin-dach": {"adapter": "sandbox"},
                "x-jp": {"adapter": "sandbox", "options": {"max_length": 280}}}
    cfg = config_dir(accounts=accounts, routes=[
        simple_route("north-america", ["en-US"], ["x-na", "blog-en"], timezone="America/New_York"),
        simple_route("dach", ["de-DE"], ["x-dach", "linkedin-dach"], timezone="Europe/Berlin",
                     translation={"engine": "pseudo"}, buying_stages=["awareness", "consideration"]),
        simple_route("japan", ["ja-JP"], ["x-jp"], timezone="Asia/Tokyo", translation={"engine": "pseudo"})])
    with Runtime.create(config=cfg, database_url=sqlite_url, redis_url="") as rt:
        submit(item_data(id="launch-2026-analytics", campaign="spring", body=LONG_BODY,
                         buying_stage="awareness"), runtime=rt, ignore_schedule=True)
        submit(item_data(id="case-study-northwind", campaign="spring", buying_stage="decision",
                         repeat={"interval": "30d", "count": 2}), runtime=rt, ignore_schedule=True)
        for item in ("launch-2026-analytics", "case-study-northwind"):
            for loc in ("en-US", "de-DE", "ja-JP"):
                do_localize(rt, item, 1, loc)
        due = rt.ledger.take_due(horizon=timedelta(seconds=5), limit=50, actor="test")
        refused = next(p for p in due if p.item_id == "case-study-northwind" and p.account == "x-jp")
        rt.ledger.transition(refused.id, PublicationState.FAILED, expect=(PublicationState.ENQUEUED,),
                             actor="test", error="X refused the post (HTTP 403): You are not allowed to create a "
                                                 "Tweet with duplicate content.")
        for p in due:
            if p.id != refused.id:
                assert do_publish(rt, p.id) == "published"
        pubs = rt.ledger.publications(campaign="spring")
        for p in pubs:
            if p.state == "published":
                store_snapshot(rt.ledger, p.id, {"likes": 12, "reposts": 3, "replies": 1, "impressions": 12345,
                                                 "clicks": 5}, taken_at=rt.ledger.now())
    monkeypatch.setenv("SYNDICATE_DATABASE_URL", sqlite_url)
    out = tmp_path / "spring.html"
    result = CliRunner().invoke(main, ["report", "--config", str(cfg), "--campaign", "spring", "--format", "html",
                                       "--output", str(out)])
    assert result.exit_code == 0, result.output
    return out, {"pubs": pubs}


MEASURE = """(() => {
  const table = document.getElementById('publications');
  const box = e => { const r = e.getBoundingClientRect(); return {left: r.left, right: r.right, width: r.width}; };
  const clipped = e => e.scrollWidth > e.clientWidth + 1;
  const rows = [...table.tBodies[0].rows];
  return {
    docWidth: document.documentElement.scrollWidth, viewport: window.innerWidth,
    table: box(table),
    headers: [...table.tHead.rows[0].cells].map(c => ({text: c.innerText, ...box(c), clipped: clipped(c)})),
    clippedCells: rows.flatMap((tr, i) => [...tr.cells].filter(clipped).map(c => [i, c.cellIndex, c.innerText])),
    rows: rows.map(tr => ({state: tr.dataset.state, locale: tr.dataset.locale, account: tr.dataset.account,
      cells: [...tr.cells].map(c => ({text: c.innerText, ...box(c)})),
      noteColour: (n => n ? getComputedStyle(n).color : null)(tr.querySelector('.state .sub')),
      noteClass: (n => n ? n.className : null)(tr.querySelector('.state .sub'))})),
    postFontPx: parseFloat(getComputedStyle(table.querySelector('td.post')).fontSize),
  };
})()"""


@pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium is not installed (apt-get install chromium)")
def test_the_report_detail_table_is_readable_at_1400_px(report_file: tuple[Path, dict[str, Any]],
                                                         tmp_path: Path) -> None:
    # Given the written report
    html_file, expected = report_file
    assert CHROMIUM is not None
    # When Chromium shows it in a 1,400 x 1,000 window, measures it and takes a screenshot
    shot = tmp_path / "spring.png"
    with Chromium(CHROMIUM, tmp_path / "profile", width=WIDTH, height=HEIGHT) as browser:
        browser.open(html_file.as_uri())
        m = browser.evaluate(MEASURE)
        browser.screenshot(shot, full_page=True)
    # Then nothing is wider than the window, and the table fits in it
    assert m["viewport"] == WIDTH and m["docWidth"] <= WIDTH
    assert m["table"]["right"] <= WIDTH
    # And every column is visible and wide enough for its heading, which is not cut
    headers = {h["text"]: h for h in m["headers"]}
    assert list(headers) == ["Planned (UTC / local)", "Item", "Account", "State", "Post", "Back-link", "UTM",
                             "Engagement"]
    assert all(h["width"] >= 40 and h["right"] <= WIDTH and not h["clipped"] for h in m["headers"]), m["headers"]
    # And no cell clips its text (long URLs and ids wrap)
    assert m["clippedCells"] == []
    # And the post column leaves room to read: at least 300 px, at least 12 px type
    assert headers["Post"]["width"] >= 300 and m["postFontPx"] >= 12
    assert len(m["rows"]) == len(expected["pubs"])
    zones = {"en-US": ("EST", "EDT"), "de-DE": ("CET", "CEST"), "ja-JP": ("JST",)}
    for row in m["rows"]:
        when, _item, _account, state, post, link, _utm, engagement = (c["text"] for c in row["cells"])
        # And each row shows its planned time in UTC and in its route's zone
        assert "UTC" not in when.splitlines()[0] and any(z in when for z in zones[row["locale"]]), when
        if row["state"] == "published":
            # And a published row shows the post text, its back-link and its engagement
            assert post.strip() and link.startswith("file://")
            assert engagement.split("\n") == ["12 likes", "3 reposts", "1 replies", "12,345 views", "5 clicks"]
        else:
            assert link == "" and engagement == ""
        # And a skip by the route's rules reads as a reason, in grey; a failure as an error, in red
        if row["state"] == "skipped":
            assert "buying stages" in state and row["noteClass"] == "sub reason"
            assert row["noteColour"] == "rgb(85, 85, 85)"
        if row["state"] == "failed":
            assert "duplicate content" in state and row["noteClass"] == "sub err"
            assert row["noteColour"] == "rgb(178, 24, 43)"
    assert {r["state"] for r in m["rows"]} >= {"published", "skipped", "failed", "scheduled"}
    # And the long article shows its start and offers the full text
    blog = next(r for r in m["rows"] if r["account"] == "blog-en" and r["state"] == "published")
    assert "full text" in blog["cells"][4]["text"]
    # And the screenshot is a real image of the page at that width
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert int.from_bytes(data[16:20], "big") == WIDTH
    if keep := os.environ.get("SYNDICATE_KEEP_SCREENSHOT"):
        shutil.copy(shot, keep)
