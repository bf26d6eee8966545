"""Plain text in a feed reaches readers as text: what a reader takes as HTML is escaped first.

Each feed is read back the way readers read it: the XML parsed, the element's text taken as HTML
where readers take it so (RSS ``description``; RSS ``title`` when it looks like HTML, as feedparser
decides), that HTML parsed, and no element or attribute of the item's plain text may appear.
"""

# The XML parsed here is the feeds we just wrote, parsed with the stdlib as a feed reader would.
# ruff: noqa: S314

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path

import feedparser
import pytest

from adapters.feeds import rss_title
from syndicate import Runtime, submit
from syndicate.worker.host import run_until_settled
from tests.helpers import item_data, simple_route

ATOM = "{http://www.w3.org/2005/Atom}"
HOSTILE_SUMMARY = 'New: <img src=x onerror="alert(1)"> <script>alert(2)</script> Tom & Jerry &amp; <b>co</b>'
HOSTILE_TITLE = "Q&A <i>live</i>: <a href=javascript:alert(3)>win</a>"


class _Html(HTMLParser):
    """What a browser would make of a string of HTML: its elements, attributes and visible text."""

    def __init__(self, markup: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[str] = []
        self.attributes: list[str] = []
        self.text: list[str] = []
        self.feed(markup)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append(tag)
        self.attributes += [name for name, _ in attrs]

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def as_reader_shows_html(markup: str) -> str:
    """The visible text of ``markup``; fails if ``markup`` holds any element or attribute."""
    parsed = _Html(markup)
    assert parsed.elements == [] and parsed.attributes == [], (markup, parsed.elements, parsed.attributes)
    return "".join(parsed.text)


@pytest.fixture
def feeds(config_dir: Callable[..., Path], tmp_path: Path, sqlite_url: str) -> Iterator[tuple[Runtime, Path]]:
    directory = tmp_path / "feeds"
    cfg = config_dir(accounts={"partner-a": {"adapter": "feeds", "options": {"directory": str(directory)}}},
                     routes=[simple_route("partners", ["en-US"], ["partner-a"])])
    with Runtime.create(config=cfg, database_url=sqlite_url, redis_url="") as rt:
        yield rt, directory / "partner-a"


def publish(rt: Runtime, **item: str) -> None:
    submit(item_data(**item), runtime=rt, ignore_schedule=True)
    [pub] = run_until_settled(rt, rt.ledger.publications, threads=2, timeout=timedelta(seconds=60))
    assert pub.state == "published", pub.last_error


def test_a_hostile_plain_text_summary_and_title_reach_rss_readers_as_text(feeds: tuple[Runtime, Path]) -> None:
    # Given an item whose plain-text summary and title hold markup
    rt, directory = feeds
    publish(rt, summary=HOSTILE_SUMMARY, title=HOSTILE_TITLE)
    rss = (directory / "en-US.rss").read_bytes()
    [item] = ET.fromstring(rss).iter("item")
    # When a reader takes the description and the title as HTML
    description = as_reader_shows_html(item.findtext("description") or "")
    title = as_reader_shows_html(item.findtext("title") or "")
    # Then no element or attribute of the text appears, and the words shown are the words written
    assert description == HOSTILE_SUMMARY and title == HOSTILE_TITLE


def test_feedparser_reads_the_summary_and_title_back_as_the_written_text(feeds: tuple[Runtime, Path]) -> None:
    # Given the same item, in the RSS and the Atom feed
    rt, directory = feeds
    publish(rt, summary=HOSTILE_SUMMARY, title=HOSTILE_TITLE)
    for name in ("en-US.rss", "en-US.atom"):
        # When feedparser (what Python readers use) reads it
        [entry] = feedparser.parse((directory / name).read_bytes()).entries
        # Then where it says HTML, the HTML holds no element and reads as the text; where it says text, it is the text
        for detail, written in ((entry.summary_detail, HOSTILE_SUMMARY), (entry.title_detail, HOSTILE_TITLE)):
            shown = as_reader_shows_html(detail.value) if detail.type == "text/html" else detail.value
            assert shown == written, (name, detail)


def test_atom_keeps_plain_text_in_text_elements(feeds: tuple[Runtime, Path]) -> None:
    # Given the same item in the Atom feed
    rt, directory = feeds
    publish(rt, summary=HOSTILE_SUMMARY, title=HOSTILE_TITLE)
    [entry] = ET.fromstring((directory / "en-US.atom").read_bytes()).iter(f"{ATOM}entry")
    summary, title = entry.find(f"{ATOM}summary"), entry.find(f"{ATOM}title")
    # Then title and summary are type="text" (the default), holding the text itself
    assert summary is not None and summary.get("type", "text") == "text" and summary.text == HOSTILE_SUMMARY
    assert title is not None and title.get("type", "text") == "text" and title.text == HOSTILE_TITLE


def test_a_plain_rss_title_is_left_as_written_for_readers_that_show_titles_as_text(
    feeds: tuple[Runtime, Path]
) -> None:
    # Given a title with an ampersand that starts no character reference, and a summary with one
    rt, directory = feeds
    publish(rt, title="Tom & Jerry: 5 > 3", summary="Q & A")
    [item] = ET.fromstring((directory / "en-US.rss").read_bytes()).iter("item")
    # Then the title is as written (HTML shows it the same), while the description is escaped HTML
    assert item.findtext("title") == "Tom & Jerry: 5 > 3"
    assert as_reader_shows_html(item.findtext("title") or "") == "Tom & Jerry: 5 > 3"
    assert item.findtext("description") == "Q &amp; A"


@pytest.mark.parametrize(("text", "written"), [
    ("Tom & Jerry", "Tom & Jerry"),
    ("5 > 3", "5 > 3"),
    ("a <b> c", "a &lt;b&gt; c"),
    ("&copy; 2026", "&amp;copy; 2026"),
    ("R&D&#x41;", "R&amp;D&amp;#x41;"),
])
def test_rss_titles_are_escaped_only_when_html_would_read_them_differently(text: str, written: str) -> None:
    assert rss_title(text) == written
    assert as_reader_shows_html(written) == text
