"""`syndicate calendar`: planned, published and held publications by local day, on SQLite and PostgreSQL,
as JSON, a table, an iCalendar feed (read back by a parser library) and an HTML week grid (read back,
and rendered in headless Chromium)."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import struct
import subprocess
import sys
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
import pytest
from click.testing import CliRunner

from syndicate import Runtime, submit
from syndicate.cli import main
from syndicate.ledger import Publication
from syndicate.localization.step import do_localize
from syndicate.publishing.steps import do_publish
from tests.helpers import REPO, ManualClock, item_data, sandbox_accounts, simple_route

#: A Monday, 10:00 UTC: the launch goes out then.
T0 = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
#: The webinar's planned time: Dec 9 in New York, Dec 10 in Berlin and Tokyo.
WEBINAR_AT = datetime(2026, 12, 9, 23, 30, tzinfo=UTC)
ZONES = {"dach": "Europe/Berlin", "na": "America/New_York", "jp": "Asia/Tokyo"}
CANCEL_REASON = "<script>alert(1)</script> & co"
EDITED_TITLE = "Edited; title, with \\ a backslash & <b>markup</b>"


@dataclass
class Plan:
    cfg: Path
    url: str
    pubs: list[Publication]
    titles: dict[int, str]

    def by(self, item_id: str, locale: str, account: str | None = None, revision: int = 1) -> Publication:
        [p] = [p for p in self.pubs if p.item_id == item_id and p.locale == locale and p.revision == revision
               and (account is None or p.account == account)]
        return p


@pytest.fixture
def plan(config_dir: Callable[..., Path], ledger_url: str, outbox: Path) -> Plan:
    """Three routes in three time zones; a launch published, a webinar planned (one account held,
    one cancelled with a reason that looks like markup), an item edited (its first revision
    superseded), and an item planned for February."""
    cfg = config_dir(accounts=sandbox_accounts("x-dach", "x-na", "li-na", "x-jp"),
                     routes=[simple_route("dach", ["de-DE"], ["x-dach"], timezone=ZONES["dach"],
                                          translation={"engine": "pseudo"}),
                             simple_route("na", ["en-US"], ["x-na", "li-na"], timezone=ZONES["na"]),
                             simple_route("jp", ["ja-JP"], ["x-jp"], timezone=ZONES["jp"],
                                          translation={"engine": "pseudo"})])
    clock = ManualClock(T0)
    with Runtime.create(config=cfg, database_url=ledger_url, redis_url="", clock=clock) as rt:
        submit(item_data(id="launch", title="Launch day"), runtime=rt, ignore_schedule=True)
        for loc in ("de-DE", "en-US", "ja-JP"):
            do_localize(rt, "launch", 1, loc)
        for p in rt.ledger.take_due(horizon=timedelta(seconds=5), limit=50, actor="test"):
            assert do_publish(rt, p.id) == "published"
        submit(item_data(id="webinar", title="Webinar on attribution", publish_at=WEBINAR_AT.isoformat()), runtime=rt)
        rt.ledger.cancel_item("webinar", actor="test", account="li-na", reason=CANCEL_REASON)
        rt.ledger.set_account_status("x-jp", "needs_credentials", "401 Unauthorized", actor="test")
        edit_at = datetime(2026, 12, 8, 12, 0, tzinfo=UTC).isoformat()
        submit(item_data(id="edit", title="First draft", publish_at=edit_at, locales=["en-US"]), runtime=rt)
        submit(item_data(id="edit", revision=2, title=EDITED_TITLE, publish_at=edit_at, locales=["en-US"]),
               runtime=rt)
        submit(item_data(id="later", publish_at="2027-02-01T09:00:00Z", locales=["en-US"]), runtime=rt)
        pubs = rt.ledger.publications()
        titles = {}
        for p in pubs:
            row = rt.ledger.localization(p.item_id, p.revision, p.locale)
            content = rt.ledger.item_content(p.item_id, p.revision)
            assert content is not None
            titles[p.id] = row["fields"]["title"] if row and row["state"] == "done" else content.title
    return Plan(cfg, ledger_url, pubs, titles)


def cli(plan: Plan, monkeypatch: pytest.MonkeyPatch, *args: str, code: int = 0) -> str:
    monkeypatch.setenv("SYNDICATE_DATABASE_URL", plan.url)
    result = CliRunner().invoke(main, ["calendar", "--config", str(plan.cfg), *args])
    assert result.exit_code == code, result.output
    return result.output


def local(p: Publication) -> datetime:
    at = p.published_at if p.state == "published" and p.published_at else p.scheduled_for
    return at.astimezone(ZoneInfo(ZONES[p.region]))


DECEMBER = ("--from", "2026-12-07", "--to", "2026-12-20")


def test_each_publication_is_placed_on_its_routes_local_day_and_time(
    plan: Plan, monkeypatch: pytest.MonkeyPatch
) -> None:
    # When the calendar of two weeks is asked for as JSON
    data = json.loads(cli(plan, monkeypatch, *DECEMBER, "--format", "json"))
    shown = {e["id"]: e for e in data["publications"]}
    # Then it holds every publication of those days, and not the one planned for February
    assert (data["from"], data["to"]) == ("2026-12-07", "2026-12-20")
    assert set(shown) == {p.id for p in plan.pubs if p.item_id != "later"}
    for p in plan.pubs:
        if p.item_id == "later":
            continue
        e = shown[p.id]
        # each at its local time in its route's zone, with its localized title once there is one
        assert datetime.fromisoformat(e["local"]) == local(p)
        assert datetime.fromisoformat(e["local"]).utcoffset() == local(p).utcoffset()
        assert (e["local_day"], e["timezone"]) == (local(p).date().isoformat(), ZONES[p.region])
        assert e["title"] == plan.titles[p.id]
        assert (e["state"], e["permalink"], e["tagged_url"]) == (p.state, p.permalink, p.tagged_url)
    # And what the calendar calls each one says what the state alone does not
    assert shown[plan.by("launch", "de-DE").id]["shown"] == "published"
    assert shown[plan.by("launch", "de-DE").id]["title"] != "Launch day"  # the pseudo-localized title
    assert shown[plan.by("webinar", "ja-JP").id]["shown"] == "held"
    assert "needs new credentials" in shown[plan.by("webinar", "ja-JP").id]["note"]
    assert shown[plan.by("webinar", "en-US", "li-na").id]["shown"] == "cancelled"
    assert shown[plan.by("webinar", "en-US", "li-na").id]["note"] == CANCEL_REASON
    assert shown[plan.by("webinar", "en-US", "x-na").id]["shown"] == "scheduled"
    assert shown[plan.by("edit", "en-US", "x-na", revision=1).id]["shown"] == "superseded"
    assert shown[plan.by("edit", "en-US", "x-na", revision=2).id]["shown"] == "scheduled"
    # And the entries come by local day, then local time
    keys = [(e["local_day"], e["local"][11:16]) for e in data["publications"]]
    assert keys == sorted(keys)


def test_the_days_are_local_days_of_each_route(plan: Plan, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given the webinar at 23:30 UTC on Dec 9: 18:30 on Dec 9 in New York, Dec 10 in Berlin and Tokyo
    # When the calendar of Dec 10 alone is asked for
    data = json.loads(cli(plan, monkeypatch, "--from", "2026-12-10", "--to", "2026-12-10", "--format", "json"))
    # Then it holds the Berlin and Tokyo posts, and not New York's
    assert {(e["item_id"], e["locale"]) for e in data["publications"]} == {("webinar", "de-DE"), ("webinar", "ja-JP")}
    # And Dec 9 holds New York's two
    data = json.loads(cli(plan, monkeypatch, "--from", "2026-12-09", "--to", "2026-12-09", "--format", "json"))
    assert {(e["account"], e["local"][:16]) for e in data["publications"]} == {
        ("x-na", "2026-12-09T18:30"), ("li-na", "2026-12-09T18:30")}


def test_region_and_account_narrow_the_calendar(plan: Plan, monkeypatch: pytest.MonkeyPatch) -> None:
    by_region = json.loads(cli(plan, monkeypatch, *DECEMBER, "--region", "jp", "--format", "json"))
    assert {e["region"] for e in by_region["publications"]} == {"jp"} and len(by_region["publications"]) == 2
    by_account = json.loads(cli(plan, monkeypatch, *DECEMBER, "--account", "li-na", "--format", "json"))
    assert {e["account"] for e in by_account["publications"]} == {"li-na"}
    assert len(by_account["publications"]) == len([p for p in plan.pubs if p.account == "li-na"
                                                    and p.item_id != "later"])


@pytest.mark.parametrize(("args", "message"), [
    (("--region", "jpn"), "unknown region 'jpn'; did you mean 'jp'? (regions: dach, jp, na)"),
    (("--account", "x-japan"), "unknown account 'x-japan'"),
    (("--from", "2026-12-32"), "invalid --from '2026-12-32': "),
    (("--to", "12/20/2026"), "invalid --to '12/20/2026'"),
    (("--from", "2026-12-10", "--to", "2026-12-01"), "--to 2026-12-01 is before --from 2026-12-10"),
    (("--from", "2026-01-01", "--to", "2027-06-01"), "a calendar shows at most 366"),
])
def test_a_bad_filter_or_date_is_refused_with_exit_2_and_says_why(
    plan: Plan, monkeypatch: pytest.MonkeyPatch, args: tuple[str, ...], message: str
) -> None:
    out = cli(plan, monkeypatch, *args, code=2)
    assert message in out


def test_the_table_groups_publications_under_their_local_day(plan: Plan, monkeypatch: pytest.MonkeyPatch) -> None:
    # When the table is printed at 200 columns
    monkeypatch.setenv("COLUMNS", "200")
    lines = cli(plan, monkeypatch, *DECEMBER).splitlines()
    # Then the days with publications come as headings, in order
    days = [ln for ln in lines if ln and not ln.startswith(" ") and ln[:3] in ("Mon", "Tue", "Wed", "Thu", "Fri")]
    assert days == ["Monday 2026-12-07", "Tuesday 2026-12-08", "Wednesday 2026-12-09", "Thursday 2026-12-10"]
    # And each publication's line sits under its local day, with its local time, state and back-link or reason
    for p in plan.pubs:
        if p.item_id == "later":
            continue
        when = local(p)
        heading = lines.index(f"{when:%A} {when.date().isoformat()}")
        block = lines[heading + 1:next((i for i in range(heading + 1, len(lines)) if lines[i] and
                                        not lines[i].startswith(" ")), len(lines))]
        mine = [ln for ln in block if f" {p.account} " in ln.replace("/", " ") and f" {p.locale} " in ln
                and ln.strip().startswith(when.strftime("%H:%M %Z"))]
        assert mine, (p.key, block)
    text = "\n".join(lines)
    assert "held: account 'x-jp' needs new credentials" in text
    assert CANCEL_REASON in text
    assert {p.permalink for p in plan.pubs if p.state == "published"} <= set(text.split())
    assert lines[-1].startswith(f"{len([p for p in plan.pubs if p.item_id != 'later'])} publication(s): ")


def test_an_empty_range_says_so_and_exits_0(plan: Plan, monkeypatch: pytest.MonkeyPatch) -> None:
    out = cli(plan, monkeypatch, "--from", "2027-03-01", "--to", "2027-03-07")
    assert "nothing planned, published or held in these days" in out


def test_the_ics_feed_has_one_event_per_publication_that_a_parser_reads(
    plan: Plan, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # When the feed is written to a file twice
    feed = tmp_path / "cal.ics"
    cli(plan, monkeypatch, *DECEMBER, "--format", "ics", "--output", str(feed))
    raw = feed.read_bytes()
    cli(plan, monkeypatch, *DECEMBER, "--format", "ics", "--uid-domain", "marketing.example.com",
        "--output", str(tmp_path / "again.ics"))
    again = icalendar.Calendar.from_ical((tmp_path / "again.ics").read_bytes())
    # Then its lines end in CRLF and fit 75 octets
    assert raw.endswith(b"\r\n") and b"\n" not in raw.replace(b"\r\n", b"")
    assert all(len(line) <= 75 for line in raw.split(b"\r\n"))
    # And a parser reads one event per publication, with its time, status, summary and link
    events = {int(str(ev["UID"]).split("-")[0]): ev for ev in icalendar.Calendar.from_ical(raw).walk("VEVENT")}
    pubs = {p.id: p for p in plan.pubs if p.item_id != "later"}
    assert set(events) == set(pubs)
    status = {"published": "CONFIRMED", "cancelled": "CANCELLED", "scheduled": "TENTATIVE"}
    for pid, ev in events.items():
        p = pubs[pid]
        assert ev.decoded("DTSTART") == (p.published_at if p.state == "published" else p.scheduled_for)
        assert str(ev["SUMMARY"]).endswith(f"{p.channel} · {p.account} · {p.locale}: {plan.titles[pid]}")
        assert str(ev["STATUS"]) == status[p.state]
        assert (str(ev["URL"]) if "URL" in ev else None) == (p.permalink if p.state == "published" else None)
        assert p.tagged_url in str(ev["DESCRIPTION"])
    # And the held and superseded ones say so
    assert str(events[plan.by("webinar", "ja-JP").id]["SUMMARY"]).startswith("[held] ")
    assert str(events[plan.by("webinar", "ja-JP").id]["STATUS"]) == "TENTATIVE"
    assert str(events[plan.by("edit", "en-US", "x-na", revision=1).id]["SUMMARY"]).startswith("[superseded] ")
    assert str(events[plan.by("edit", "en-US", "x-na", revision=1).id]["STATUS"]) == "CANCELLED"
    # And the UIDs are the same in the next export, but for the domain asked for
    assert sorted(str(ev["UID"]).replace("marketing.example.com", "syndicate.invalid")
                  for ev in again.walk("VEVENT")) == sorted(str(ev["UID"]) for ev in events.values())


class WeekPage(HTMLParser):
    """The week grids of a page: for each chip, the day of its column and its attributes and text."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.chips: list[dict[str, Any]] = []
        self.tables: list[dict[str, str]] = []
        self.captions: list[str] = []
        self._day: str | None = None
        self._chip: dict[str, Any] | None = None
        self._in_week = False
        self._caption: list[str] | None = None
        self._depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        self.tags.append((tag, a))
        if tag == "table" and "week" in a.get("class", "").split():
            self._in_week = True
            self.tables.append(a)
        elif tag == "caption" and self._in_week:
            self._caption = []
        elif tag == "td" and self._in_week:
            self._day = a.get("data-day")
        elif tag == "li" and "chip" in a.get("class", "").split():
            self._chip = {"day": self._day, **a, "text": [], "links": []}
        elif tag == "a" and self._chip is not None:
            self._chip["links"].append(a["href"])

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self._in_week = False
        elif tag == "caption" and self._caption is not None:
            self.captions.append("".join(self._caption))
            self._caption = None
        elif tag == "li" and self._chip is not None:
            self._chip["text"] = "".join(self._chip["text"])
            self.chips.append(self._chip)
            self._chip = None

    def handle_data(self, data: str) -> None:
        if self._chip is not None:
            self._chip["text"].append(data)
        if self._caption is not None:
            self._caption.append(data)


def check_week_grid(page: WeekPage, plan: Plan, pubs: list[Publication], *, with_titles: bool) -> None:
    """Each of ``pubs`` is one chip in the column of its local day, with its time, state and link."""
    assert len(page.chips) == len(pubs)
    for p in pubs:
        [chip] = [c for c in page.chips if (c["data-item"], c["data-revision"], c["data-locale"], c["data-account"])
                  == (p.item_id, str(p.revision), p.locale, p.account)]
        assert chip["data-state"] == p.state
        assert chip.get("data-publication", str(p.id)) == str(p.id)
        assert chip["day"] == local(p).date().isoformat()
        assert local(p).strftime("%H:%M %Z") in chip["text"]
        if p.state == "published":
            assert chip["links"] == [p.permalink]
        if with_titles:
            assert plan.titles[p.id] in chip["text"]
    # And text from the ledger is text, never markup (the edited title's <b> comes back as text above)
    assert not [t for t, _a in page.tags if t == "script"]
    assert any(CANCEL_REASON in c["text"] for c in page.chips)


def test_the_html_calendar_is_a_week_grid_with_a_chip_per_publication(
    plan: Plan, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # When the calendar is written as HTML
    out = tmp_path / "cal.html"
    cli(plan, monkeypatch, *DECEMBER, "--format", "html", "--output", str(out))
    page = WeekPage()
    page.feed(out.read_text(encoding="utf-8"))
    # Then it has a table per week (Mondays), days as column headers and hours as row headers
    assert [t["data-week"] for t in page.tables] == ["2026-12-07", "2026-12-14"]
    col_days = [a["data-day"] for t, a in page.tags if t == "th" and a.get("scope") == "col" and "data-day" in a]
    assert col_days[:7] == [(date(2026, 12, 7) + timedelta(days=i)).isoformat() for i in range(7)]
    assert all(page.captions) and page.captions[0].startswith("Week of Monday 7 December 2026")
    # And each publication is a chip in its local day's column, with its title and link
    check_week_grid(page, plan, [p for p in plan.pubs if p.item_id != "later"], with_titles=True)
    # And it loads nothing
    assert not [a for _t, a in page.tags if "src" in a]
    [csp] = [a for t, a in page.tags if t == "meta" and a.get("http-equiv") == "Content-Security-Policy"]
    assert csp["content"].startswith("default-src 'none'")


def test_the_html_report_has_the_week_view_of_its_campaign(plan: Plan, monkeypatch: pytest.MonkeyPatch,
                                                           tmp_path: Path) -> None:
    # When the campaign report is written as HTML
    monkeypatch.setenv("SYNDICATE_DATABASE_URL", plan.url)
    out = tmp_path / "report.html"
    result = CliRunner().invoke(main, ["report", "--config", str(plan.cfg), "--campaign", "test-campaign",
                                       "--format", "html", "--output", str(out)])
    assert result.exit_code == 0, result.output
    page = WeekPage()
    page.feed(out.read_text(encoding="utf-8"))
    # Then its week view shows every publication of the campaign as a chip on its local day (by the
    # item id: a report row has no title), the February item in a week of its own
    check_week_grid(page, plan, plan.pubs, with_titles=False)
    assert [t["data-week"] for t in page.tables] == ["2026-12-07", "2027-02-01"]
    # And a held publication is shown as held
    held = [c for c in page.chips if c["data-item"] == "webinar" and c["data-locale"] == "ja-JP"]
    assert [c["data-shown"] for c in held] == ["held"]


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def png_pixels_vary(data: bytes) -> bool:
    """Whether a PNG's decoded scanlines hold more than a handful of distinct byte values (not blank)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat = 8, b""
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind = data[pos + 4:pos + 8]
        if kind == b"IDAT":
            idat += data[pos + 8:pos + 8 + length]
        pos += 12 + length
    return len(set(zlib.decompress(idat))) > 16


@pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium is not installed (apt-get install chromium)")
def test_the_html_calendar_renders_in_headless_chromium(plan: Plan, monkeypatch: pytest.MonkeyPatch,
                                                        tmp_path: Path) -> None:
    # Given the calendar written as HTML
    html_file = tmp_path / "cal.html"
    cli(plan, monkeypatch, *DECEMBER, "--format", "html", "--output", str(html_file))
    flags = [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={tmp_path / 'chromium-profile'}"]
    # When Chromium loads it, dumping the DOM it built and taking a screenshot
    dom = subprocess.run([*flags, "--dump-dom", html_file.as_uri()], capture_output=True, text=True, timeout=120)
    shot = tmp_path / "cal.png"
    subprocess.run([*flags, f"--screenshot={shot}", "--window-size=1400,1000", html_file.as_uri()],
                   capture_output=True, timeout=120)
    # Then the browser's DOM holds every chip in its local day's column
    assert dom.returncode == 0, dom.stderr[-2000:]
    page = WeekPage()
    page.feed(dom.stdout)
    check_week_grid(page, plan, [p for p in plan.pubs if p.item_id != "later"], with_titles=True)
    # And the screenshot is a 1400 x 1000 PNG with something drawn on it
    data = shot.read_bytes()
    assert (int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")) == (1400, 1000)
    assert png_pixels_vary(data)
    if keep := os.environ.get("SYNDICATE_KEEP_SCREENSHOT"):  # to look at it: SYNDICATE_KEEP_SCREENSHOT=/tmp/x.png
        shutil.copy(shot, keep)


def test_after_the_readme_run_the_calendar_shows_every_post_in_every_format(tmp_path: Path) -> None:
    # Given the README's first command: the examples published in the embedded run
    shutil.copytree(REPO / "config", tmp_path / "config")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SYNDICATE_")}
    env["SYNDICATE_OUTBOX"] = str(tmp_path / "outbox")

    def syndicate(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "syndicate", *args], cwd=tmp_path, env=env, capture_output=True,
                              text=True, timeout=180)

    examples = sorted(str(p) for p in (REPO / "examples" / "content").glob("*.yaml"))
    assert syndicate("run", "--now", *examples).returncode == 0
    report = list(csv.DictReader(io.StringIO(syndicate("report", "--format", "csv").stdout)))
    published = {(r["item_id"], r["locale"], r["account"], r["slot"]): r["permalink"] for r in report
                 if r["state"] == "published"}
    assert len(published) == 25
    # When the calendar is asked for with its defaults, as JSON
    out = syndicate("calendar", "--format", "json")
    assert out.returncode == 0, out.stderr
    entries = json.loads(out.stdout)["publications"]
    # Then every post of the run is in it, published, with its back-link
    mine = {(e["item_id"], e["locale"], e["account"], str(e["slot"])): e for e in entries}
    assert {k: mine[k]["permalink"] for k in published} == published
    assert all(mine[k]["shown"] == "published" for k in published)
    # And the table shows each back-link under today's heading
    table = syndicate("calendar")
    assert table.returncode == 0 and table.stdout.startswith("Calendar ")
    assert set(published.values()) <= set(table.stdout.split())
    # And the feed has an event per entry, the posts confirmed with their URL
    feed = syndicate("calendar", "--format", "ics")
    events = list(icalendar.Calendar.from_ical(feed.stdout.encode("utf-8")).walk("VEVENT"))
    assert len(events) == len(entries)
    urls = {str(ev["URL"]) for ev in events if str(ev["STATUS"]) == "CONFIRMED"}
    assert urls == set(published.values())
    # And the HTML page has a chip per entry
    page = WeekPage()
    page.feed(syndicate("calendar", "--format", "html").stdout)
    assert len(page.chips) == len(entries)
