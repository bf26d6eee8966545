"""Partner feeds through the real pipeline: files on disk, parsed back, and the WebSub hub's pings."""

# The XML parsed here is the feeds we just wrote, parsed with the stdlib as a feed reader would.
# ruff: noqa: S314

from __future__ import annotations

import stat
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import pytest

from adapters.feeds import FeedAdapter, entry_id_for
from syndicate import Runtime, submit
from syndicate.ledger import Publication
from syndicate.model.item import load_item_file
from syndicate.publishing.content import publication_ref, render_publication
from syndicate.worker.host import run_until_settled
from tests.fakes.base import Fault
from tests.fakes.websub import FakeHub
from tests.helpers import REPO, item_data, simple_route

ATOM = "{http://www.w3.org/2005/Atom}"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
PUBLIC = "https://partners.example.com/feeds"


@dataclass(frozen=True)
class Entry:
    """One entry as read back from a feed file."""

    id: str
    title: str
    link: str
    updated: datetime | None
    published: datetime


def read_atom(path: Path) -> tuple[ET.Element, list[Entry]]:
    root = ET.fromstring(path.read_bytes())
    entries = []
    for e in root.iter(f"{ATOM}entry"):
        link = e.find(f"{ATOM}link")
        assert link is not None
        entries.append(Entry(e.findtext(f"{ATOM}id") or "", e.findtext(f"{ATOM}title") or "", link.get("href") or "",
                             datetime.fromisoformat(e.findtext(f"{ATOM}updated") or ""),
                             datetime.fromisoformat(e.findtext(f"{ATOM}published") or "")))
    return root, entries


def read_rss(path: Path) -> tuple[ET.Element, list[Entry]]:
    channel = ET.fromstring(path.read_bytes()).find("channel")
    assert channel is not None
    entries = [Entry(i.findtext("guid") or "", i.findtext("title") or "", i.findtext("link") or "", None,
                     parsedate_to_datetime(i.findtext("pubDate") or "")) for i in channel.iter("item")]
    return channel, entries


@dataclass
class Setup:
    rt: Runtime
    directory: Path

    def run(self) -> list[Publication]:
        pubs = run_until_settled(self.rt, self.rt.ledger.publications, threads=4, timeout=timedelta(seconds=60))
        return [p for p in pubs if p.slot == 0]

    def files(self, locale: str) -> tuple[Path, Path]:
        base = self.directory / "partner-a"
        return base / f"{locale}.atom", base / f"{locale}.rss"


@pytest.fixture
def hub() -> Iterator[FakeHub]:
    with FakeHub() as h:
        yield h


@pytest.fixture
def setup(config_dir: Callable[..., Path], tmp_path: Path, sqlite_url: str) -> Iterator[Callable[..., Setup]]:
    with ExitStack() as runtimes:

        def build(*, locales: tuple[str, ...] = ("en-US",), database_url: str | None = None, **options: Any) -> Setup:
            directory = tmp_path / "feeds"
            cfg = config_dir(
                accounts={"partner-a": {"adapter": "feeds", "options": {"directory": str(directory), **options}}},
                routes=[simple_route("partners", list(locales), ["partner-a"], translation={"engine": "pseudo"})])
            rt = runtimes.enter_context(Runtime.create(config=cfg, database_url=database_url or sqlite_url,
                                                       redis_url=""))
            return Setup(rt, directory)

        yield build


def test_feeds_publish_the_example_items_into_atom_and_rss_per_locale(
    setup: Callable[..., Setup], hub: FakeHub, ledger_url: str
) -> None:
    # Given a partner feed account for two locales, served publicly, with a WebSub hub
    s = setup(locales=("en-US", "de-DE"), database_url=ledger_url, public_url=PUBLIC, hub=hub.hub_url,
              title="Example for partners ({locale})", author_name="Example Inc.", author_email="news@example.com")
    items = [load_item_file(p) for p in sorted((REPO / "examples" / "content").glob("*.yaml"))]
    for item in items:
        submit(item, runtime=s.rt, ignore_schedule=True)
    # When the worker publishes everything that is due
    pubs = s.run()
    # Then every publication is published with the public feed URL and its entry id as permalink
    assert len(pubs) == 6 and {p.state for p in pubs} == {"published"}
    for p in pubs:
        eid = entry_id_for(p.item_id, p.locale)
        assert p.remote_id == eid and p.permalink == f"{PUBLIC}/partner-a/{p.locale}.atom#{eid}"
    for locale in ("en-US", "de-DE"):
        mine = {p.item_id: p for p in pubs if p.locale == locale}
        atom_path, rss_path = s.files(locale)
        feed, atom_entries = read_atom(atom_path)
        channel, rss_entries = read_rss(rss_path)
        # and each feed has one entry per item, in its language, newest first, with the tagged links
        assert feed.get(XML_LANG) == locale and channel.findtext("language") == locale
        assert feed.findtext(f"{ATOM}title") == f"Example for partners ({locale})"
        assert sorted(e.id for e in atom_entries) == sorted(entry_id_for(i.id, locale) for i in items)
        assert [e.id for e in rss_entries] == [e.id for e in atom_entries]
        assert all(e.updated is not None and e.updated.tzinfo is not None for e in atom_entries)
        assert [e.updated for e in atom_entries] == sorted((e.updated for e in atom_entries), reverse=True)
        for a, r in zip(atom_entries, rss_entries, strict=True):
            pub = next(p for p in mine.values() if entry_id_for(p.item_id, locale) == a.id)
            assert a.link == r.link == pub.tagged_url
            assert a.published == r.published and a.published.tzinfo is not None
        # and both advertise the hub and their own URL, as WebSub asks
        atom_links = {ln.get("rel"): ln.get("href") for ln in feed.findall(f"{ATOM}link")}
        rss_links = {ln.get("rel"): ln.get("href") for ln in channel.findall(f"{ATOM}link")}
        assert atom_links["hub"] == rss_links["hub"] == hub.hub_url
        assert atom_links["self"] == f"{PUBLIC}/partner-a/{locale}.atom"
        assert rss_links["self"] == f"{PUBLIC}/partner-a/{locale}.rss"
    # and the hub was pinged for both feeds of both locales after each change
    assert len(hub.pings) == 12
    assert set(hub.pings) == {f"{PUBLIC}/partner-a/{loc}.{ext}"
                              for loc in ("en-US", "de-DE") for ext in ("atom", "rss")}
    assert {r.header("Content-Type") for r in hub.requests} == {"application/x-www-form-urlencoded"}
    assert {r.form()["hub.mode"][0] for r in hub.requests} == {"publish"}


def test_feed_content_is_sanitized_html_with_author_and_categories(setup: Callable[..., Setup]) -> None:
    # Given an item with an HTML body carrying a script, and tags
    s = setup(author_name="Example Inc.", author_email="news@example.com")
    submit(item_data(body="<p>Hello <script>alert(1)</script><b>world</b></p>", body_format="html",
                     tags=["b2b", "launch"]), runtime=s.rt, ignore_schedule=True)
    # When it is published
    [pub] = s.run()
    # Then the Atom entry's HTML content is clean, with author and categories, and RSS has them too
    feed, _ = read_atom(s.files("en-US")[0])
    entry = feed.find(f"{ATOM}entry")
    assert entry is not None and pub.state == "published"
    content = entry.find(f"{ATOM}content")
    assert content is not None and content.get("type") == "html"
    assert "<b>world</b>" in (content.text or "") and "script" not in (content.text or "")
    assert entry.findtext(f"{ATOM}author/{ATOM}name") == "Example Inc."
    assert [c.get("term") for c in entry.findall(f"{ATOM}category")] == ["b2b", "launch"]
    channel, _ = read_rss(s.files("en-US")[1])
    assert channel.findtext("item/author") == "news@example.com (Example Inc.)"
    assert [c.text for c in channel.findall("item/category")] == ["b2b", "launch"]


def test_a_new_revision_updates_the_entry_in_place_with_the_same_id(setup: Callable[..., Setup]) -> None:
    # Given a published item and another one in the same feed
    s = setup(public_url=PUBLIC)
    submit(item_data(id="other"), runtime=s.rt, ignore_schedule=True)
    submit(item_data(id="launch", title="First title"), runtime=s.rt, ignore_schedule=True)
    s.run()
    _, before = read_atom(s.files("en-US")[0])
    # When revision 2 of the item is submitted and published
    submit(item_data(id="launch", revision=2, title="Second title"), runtime=s.rt, ignore_schedule=True)
    pubs = s.run()
    # Then the feed still has two entries; the item's entry kept its id and published time, and moved forward
    _, after = read_atom(s.files("en-US")[0])
    _, rss = read_rss(s.files("en-US")[1])
    eid = entry_id_for("launch", "en-US")
    old, new = next(e for e in before if e.id == eid), next(e for e in after if e.id == eid)
    assert len(after) == len(rss) == 2 and len({e.id for e in after}) == 2
    assert new.title == "Second title" and old.title == "First title"
    assert new.published == old.published
    assert old.updated is not None and new.updated is not None and new.updated > old.updated
    assert after[0].id == eid and next(e for e in rss if e.id == eid).title == "Second title"
    # and both revisions' publications point at the same entry
    launch = [p for p in pubs if p.item_id == "launch"]
    assert {p.revision: p.remote_id for p in launch} == {1: eid, 2: eid}


def test_publishing_the_same_publication_again_changes_nothing(setup: Callable[..., Setup], hub: FakeHub) -> None:
    # Given a published item
    s = setup(public_url=PUBLIC, hub=hub.hub_url)
    submit(item_data(), runtime=s.rt, ignore_schedule=True)
    [pub] = s.run()
    atom_path, rss_path = s.files("en-US")
    atom, rss, pings = atom_path.read_bytes(), rss_path.read_bytes(), len(hub.pings)
    # When the same publication is sent again (as a retry would)
    adapter = s.rt.adapter("partner-a")
    receipt = adapter.publish(render_publication(s.rt, pub), publication_ref(s.rt, pub))
    # Then the files are byte for byte the same, the hub is not pinged, and the receipt names the same entry
    assert atom_path.read_bytes() == atom and rss_path.read_bytes() == rss
    assert len(hub.pings) == pings
    assert receipt.remote_id == pub.remote_id and receipt.permalink == pub.permalink


def test_find_existing_sees_the_stored_entry_and_only_it(setup: Callable[..., Setup]) -> None:
    # Given one published item and one submitted to a route where it is not yet published
    s = setup()
    submit(item_data(id="published"), runtime=s.rt, ignore_schedule=True)
    [pub] = s.run()
    adapter = s.rt.adapter("partner-a")
    assert isinstance(adapter, FeedAdapter)
    rendered = render_publication(s.rt, pub)
    # When we look for its entry, Then it is found with its permalink
    found = adapter.find_existing(rendered, publication_ref(s.rt, pub))
    assert found is not None and found.remote_id == pub.remote_id and found.permalink == pub.permalink
    # When the feed files are lost, Then it is reported absent (so publishing again rewrites them)
    for path in s.files("en-US"):
        path.unlink()
    assert adapter.find_existing(rendered, publication_ref(s.rt, pub)) is None


def test_a_failed_hub_ping_is_a_recorded_warning_not_a_failed_publication(
    setup: Callable[..., Setup], hub: FakeHub
) -> None:
    # Given a hub that answers 503 to the next two pings
    s = setup(public_url=PUBLIC, hub=hub.hub_url)
    hub.fail_next(Fault("status", status=503, body="hub overloaded", times=2))
    submit(item_data(), runtime=s.rt, ignore_schedule=True)
    # When the item is published
    [pub] = s.run()
    # Then the publication is published, the entry is in the feed, and the ledger event carries the warnings
    assert pub.state == "published"
    _, entries = read_atom(s.files("en-US")[0])
    assert [e.id for e in entries] == [pub.remote_id]
    [event] = [e for e in s.rt.ledger.events(publication_id=pub.id) if e["kind"] == "published"]
    warnings = event["detail"]["warnings"]
    assert len(warnings) == 2 and all("HTTP 503: hub overloaded" in w for w in warnings)
    assert hub.pings == []


def test_feed_files_are_readable_by_a_web_server_and_no_temporary_file_is_left(setup: Callable[..., Setup]) -> None:
    # Given a published item, When we look at the feed directory
    s = setup()
    submit(item_data(), runtime=s.rt, ignore_schedule=True)
    s.run()
    files = sorted(p.name for p in (s.directory / "partner-a").iterdir())
    # Then there are exactly the two feeds, readable by others (mkstemp would leave 0600)
    assert files == ["en-US.atom", "en-US.rss"]
    for path in s.files("en-US"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o644


def test_the_feed_keeps_at_most_max_entries(setup: Callable[..., Setup]) -> None:
    # Given a feed of at most two entries, When three items are published
    s = setup(max_entries=2)
    for i in range(3):
        submit(item_data(id=f"item-{i}"), runtime=s.rt, ignore_schedule=True)
    pubs = s.run()
    # Then all three are published but the feed keeps two, without duplicates
    _, atom = read_atom(s.files("en-US")[0])
    _, rss = read_rss(s.files("en-US")[1])
    assert {p.state for p in pubs} == {"published"}
    assert len(atom) == len(rss) == 2 and len({e.id for e in atom}) == 2
