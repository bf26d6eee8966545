"""Feeds with ``enclosures``: an item's images described in Atom (``link rel="enclosure"``), RSS
(``enclosure``, one per item) and Media RSS (``media:content`` with the alt text as
``media:description``), with the type and length of the bytes fetched once per item revision."""

# The XML parsed here is the feeds we just wrote, parsed as a feed reader would.
# ruff: noqa: S314

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import feedparser
import pytest

from syndicate import Runtime, submit
from syndicate.localization.step import do_localize
from syndicate.publishing.steps import do_publish
from tests.fakes.base import Fault
from tests.fakes.images import HTML, JPEG, PNG, FakeImageHost
from tests.helpers import item_data, simple_route

ATOM = "{http://www.w3.org/2005/Atom}"
MEDIA = "{http://search.yahoo.com/mrss/}"

pytestmark = pytest.mark.usefixtures("loopback_fetches")


@pytest.fixture
def host() -> Iterator[FakeImageHost]:
    with FakeImageHost() as fake:
        yield fake


def make_runtime(config_dir: Callable[..., Path], database_url: str, directory: Path,
                 accounts: tuple[str, ...] = ("partner-a",), **options: Any) -> Runtime:
    cfg = config_dir(
        accounts={a: {"adapter": "feeds", "options": {"directory": str(directory), "enclosures": True, **options}}
                  for a in accounts},
        routes=[simple_route("partners", ["en-US"], list(accounts))])
    return Runtime.create(config=cfg, database_url=database_url, redis_url="")


def publish_all(rt: Runtime, media: list[dict[str, Any]], revision: int = 1) -> list[str]:
    sub = submit(item_data(media=media, revision=revision), runtime=rt, ignore_schedule=True)
    rt.ledger.mark_localizations_requested(sub.item_id, sub.revision)
    do_localize(rt, sub.item_id, sub.revision, "en-US")
    return [do_publish(rt, p.id) for p in rt.ledger.take_due(horizon=timedelta(seconds=5), limit=10, actor="test")]


def test_feeds_describe_images_as_enclosures_and_media_content_with_alt_text(
    config_dir: Callable[..., Path], sqlite_url: str, tmp_path: Path, host: FakeImageHost
) -> None:
    # Given a feed account with enclosures and an item with a PNG and a JPEG (served as image/jpg)
    png_url = host.serve("chart.png", PNG)
    jpg_url = host.serve("team.jpg", JPEG, "image/jpg")
    with make_runtime(config_dir, sqlite_url, tmp_path / "feeds") as rt:
        # When published
        assert publish_all(rt, [{"url": png_url, "alt": "Pipeline by region"}, {"url": jpg_url}]) == ["published"]
    atom_path = tmp_path / "feeds" / "partner-a" / "en-US.atom"
    rss_path = atom_path.with_suffix(".rss")
    # Then the Atom entry has one enclosure link per image, with the bytes' type and length
    [entry] = ET.fromstring(atom_path.read_bytes()).iter(f"{ATOM}entry")
    enclosures = [(ln.get("href"), ln.get("type"), ln.get("length")) for ln in entry.findall(f"{ATOM}link")
                  if ln.get("rel") == "enclosure"]
    assert enclosures == [(png_url, "image/png", str(len(PNG))), (jpg_url, "image/jpeg", str(len(JPEG)))]
    # And Media RSS content for each, the alt text as a plain description where there is one
    contents = entry.findall(f"{MEDIA}content")
    assert [(c.get("url"), c.get("type"), c.get("fileSize"), c.get("medium")) for c in contents] == [
        (png_url, "image/png", str(len(PNG)), "image"), (jpg_url, "image/jpeg", str(len(JPEG)), "image")]
    assert [(d.text, d.get("type")) for c in contents for d in c.findall(f"{MEDIA}description")] == [
        ("Pipeline by region", "plain")]
    # And the RSS item has one enclosure (RSS allows one): the first image, and both media:content
    channel = ET.fromstring(rss_path.read_bytes()).find("channel")
    assert channel is not None
    [item] = channel.iter("item")
    [enclosure] = item.findall("enclosure")
    assert enclosure.attrib == {"url": png_url, "length": str(len(PNG)), "type": "image/png"}
    assert [c.get("url") for c in item.findall(f"{MEDIA}content")] == [png_url, jpg_url]
    # And a feed reader sees them
    parsed = feedparser.parse(rss_path.read_bytes())
    assert [e["href"] for e in parsed.entries[0].enclosures] == [png_url]
    assert [m["url"] for m in parsed.entries[0].media_content] == [png_url, jpg_url]


def test_feeds_of_two_accounts_fetch_each_image_once_per_item_revision(
    config_dir: Callable[..., Path], sqlite_url: str, tmp_path: Path, host: FakeImageHost
) -> None:
    # Given two feed accounts on one route and an item with one image
    url = host.serve("chart.png", PNG)
    with make_runtime(config_dir, sqlite_url, tmp_path / "feeds", accounts=("partner-a", "partner-b")) as rt:
        # When revision 1 goes to both feeds
        assert publish_all(rt, [{"url": url, "alt": "A chart"}]) == ["published", "published"]
        # Then the image was fetched once
        assert host.fetches("chart.png") == 1
        # When revision 2 (a new image at the same URL, with new alt text: a revision that changes
        # nothing a feed shows makes no call) goes out
        host.serve("chart.png", JPEG, "image/jpeg")
        assert publish_all(rt, [{"url": url, "alt": "A chart, updated"}], revision=2) == ["published", "published"]
    # Then it was fetched once more, and both feeds describe the new bytes
    assert host.fetches("chart.png") == 2
    for account in ("partner-a", "partner-b"):
        [entry] = ET.fromstring((tmp_path / "feeds" / account / "en-US.atom").read_bytes()).iter(f"{ATOM}entry")
        [link] = [ln for ln in entry.findall(f"{ATOM}link") if ln.get("rel") == "enclosure"]
        assert (link.get("type"), link.get("length")) == ("image/jpeg", str(len(JPEG)))


@pytest.mark.parametrize(("fault", "data", "outcome", "reason"), [
    (None, HTML, "failed", "its bytes are not a JPEG, PNG, GIF or WebP image"),
    (Fault("status", method="GET", status=404), PNG, "failed", "the server answered HTTP 404"),
    (Fault("status", method="GET", status=502), PNG, "retrying", "the server answered HTTP 502"),
], ids=["not-an-image", "404", "502"])
def test_feeds_image_that_cannot_be_used_fails_or_retries_and_writes_no_entry(
    config_dir: Callable[..., Path], sqlite_url: str, tmp_path: Path, host: FakeImageHost,
    fault: Fault | None, data: bytes, outcome: str, reason: str
) -> None:
    url = host.serve("img.png", data)
    if fault is not None:
        host.fail_next(fault)
    with make_runtime(config_dir, sqlite_url, tmp_path / "feeds") as rt:
        assert publish_all(rt, [{"url": url, "alt": "x"}]) == [outcome]
        [pub] = rt.ledger.publications()
    # Then the reason names the item and the URL, and no feed was written
    assert pub.last_error is not None and url in pub.last_error and pub.item_id in pub.last_error
    assert reason in pub.last_error
    assert not (tmp_path / "feeds" / "partner-a" / "en-US.atom").exists()
