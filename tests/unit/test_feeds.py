"""Partner feeds without services: entry ids, rendering, the feed documents, and merging entries."""

# The XML parsed here is the feeds we just wrote, parsed with the stdlib as a feed reader would.
# ruff: noqa: S314

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from adapters.feeds import FeedAdapter, FeedMeta, FeedOptions, _merge, build_feeds, entry_id_for
from syndicate.base.secrets import Credentials
from syndicate.channels.contract import AccountContext, MediaRef, PostContent

ATOM = "{http://www.w3.org/2005/Atom}"


def adapter(tmp_path: Path, **options: Any) -> FeedAdapter:
    opts = FeedOptions.model_validate({"directory": str(tmp_path / "feeds"), **options})
    return FeedAdapter(AccountContext(id="partner-a", options=opts, credentials=Credentials("partner-a", {})))


def content(**overrides: Any) -> PostContent:
    fields: dict[str, Any] = {
        "item_id": "item-1", "revision": 1, "locale": "en-US", "title": "A title",
        "summary": "What the item is about.", "body": "Some **bold** text.", "body_format": "markdown",
        "link": "https://example.com/post?utm_source=feeds&utm_medium=partner",
        "canonical_url": "https://example.com/post", "cta_text": "Read more",
        "cta_url": "https://example.com/post?utm_source=feeds&utm_medium=partner",
        "tags": ("b2b", "launch"), "media": (MediaRef("https://example.com/a.png", "A chart"),),
        "campaign": "spring",
    }
    fields.update(overrides)
    return PostContent(**fields)


def record(entry_id: str, *, revision: int = 1, slot: int = 0, updated: str = "2026-11-20T10:00:00+00:00",
           digest: str = "h1", title: str = "T") -> dict[str, Any]:
    return {"id": entry_id, "title": title, "summary": "S", "content": "<p>C</p>", "link": "https://example.com/x",
            "categories": ["a"], "item_id": entry_id, "locale": "en-US", "revision": revision, "slot": slot,
            "key": f"{entry_id}/{revision}/en-US/partner-a/{slot}", "marker": "m", "hash": digest,
            "published": updated, "updated": updated}


META = FeedMeta(feed_id="https://partners.example.com/feeds/partner-a/en-US.atom", title="Partner feed",
                locale="en-US", site_url="https://partners.example.com/",
                atom_url="https://partners.example.com/feeds/partner-a/en-US.atom",
                rss_url="https://partners.example.com/feeds/partner-a/en-US.rss",
                hub="https://hub.example.net/")


# -- entry ids -------------------------------------------------------------------------------


def test_feed_entry_id_is_the_same_for_every_revision_and_differs_per_locale(tmp_path: Path) -> None:
    # Given one adapter and an item in two revisions and two locales
    feeds = adapter(tmp_path)
    # When each is rendered
    r1 = feeds.render(content(revision=1))
    r2 = feeds.render(content(revision=2, title="A new title"))
    de = feeds.render(content(locale="de-DE"))
    # Then the revisions share an id and the other locale has its own
    assert r1.extra["entry_id"] == r2.extra["entry_id"] == entry_id_for("item-1", "en-US")
    assert de.extra["entry_id"] != r1.extra["entry_id"]
    assert str(r1.extra["entry_id"]).startswith("urn:uuid:")


def test_feed_entry_id_is_a_tag_uri_when_the_account_names_an_authority(tmp_path: Path) -> None:
    # Given an account with a tag authority
    feeds = adapter(tmp_path, tag_authority="example.com,2026")
    # When an item whose id has a colon is rendered
    rendered = feeds.render(content(item_id="launch:2026"))
    # Then the id is an RFC 4151 tag URI with the item id escaped
    assert rendered.extra["entry_id"] == "tag:example.com,2026:launch%3A2026/en-US"


def test_feed_options_refuse_a_hub_without_a_public_url() -> None:
    # Given options with a hub but no public URL, When validated, Then they are refused with the reason
    with pytest.raises(ValidationError, match="hub needs public_url"):
        FeedOptions.model_validate({"hub": "https://hub.example.net/"})


# -- rendering -------------------------------------------------------------------------------


def test_feed_render_converts_markdown_and_escapes_raw_html_in_it(tmp_path: Path) -> None:
    # Given a Markdown body with raw HTML in it
    body = "## Heading\n\nSome **bold** text <script>alert(1)</script> and <b onclick=x>tag</b>."
    # When it is rendered
    rendered = adapter(tmp_path).render(content(body=body))
    # Then Markdown became HTML, the raw HTML is shown as text, and the CTA links to the tagged URL
    assert "<h2>Heading</h2>" in rendered.text
    assert "<strong>bold</strong>" in rendered.text
    assert "<script>" not in rendered.text and "&lt;script&gt;" in rendered.text
    assert "<b onclick" not in rendered.text
    assert '<a href="https://example.com/post?utm_source=feeds&amp;utm_medium=partner"' in rendered.text
    assert rendered.format == "html" and rendered.title == "A title"


def test_feed_render_sanitizes_html_bodies(tmp_path: Path) -> None:
    # Given an HTML body with a script, an event handler and a javascript: link
    body = '<p onclick="steal()">Hi <script>alert(1)</script><a href="javascript:alert(1)">x</a></p>'
    # When it is rendered
    rendered = adapter(tmp_path).render(content(body=body, body_format="html"))
    # Then none of them survive
    assert "script" not in rendered.text
    assert "onclick" not in rendered.text
    assert "javascript:" not in rendered.text
    assert "<p>Hi " in rendered.text


def test_feed_render_marks_right_to_left_content(tmp_path: Path) -> None:
    # Given an Arabic item, When it is rendered, Then its HTML is wrapped with dir="rtl"
    rendered = adapter(tmp_path).render(content(locale="ar-EG", rtl=True, body="مرحبا"))
    assert rendered.text.startswith('<div dir="rtl">') and rendered.text.endswith("</div>")


def test_feed_render_puts_images_with_alt_text_and_tags_as_categories(tmp_path: Path) -> None:
    # Given an item with one image with alt text, one without, and tags
    media = (MediaRef("https://example.com/a.png", "A chart"), MediaRef("https://example.com/b.png", None))
    # When it is rendered
    rendered = adapter(tmp_path).render(content(media=media, tags=("b2b", "launch", "b2b")))
    # Then both images are in the content, the missing alt text is a warning, and tags are categories
    assert '<img src="https://example.com/a.png" alt="A chart">' in rendered.text
    assert '<img src="https://example.com/b.png" alt="">' in rendered.text
    assert rendered.warnings == ("media https://example.com/b.png has no alt text",)
    assert rendered.extra["categories"] == ["b2b", "launch"]


def test_feed_permalink_is_the_public_feed_url_with_the_entry_id_or_a_file_url(tmp_path: Path) -> None:
    # Given one account served at a public URL and one not
    served = adapter(tmp_path, public_url="https://partners.example.com/feeds/")
    local = adapter(tmp_path)
    # When permalinks are built, Then they point at the Atom feed with the entry id as fragment
    assert served.permalink("urn:uuid:1", "en-US") == "https://partners.example.com/feeds/partner-a/en-US.atom#urn:uuid:1"
    assert local.permalink("urn:uuid:1", "en-US") == (tmp_path / "feeds/partner-a/en-US.atom").as_uri() + "#urn:uuid:1"


# -- feed documents --------------------------------------------------------------------------


def test_build_feeds_keeps_entries_in_the_given_order(tmp_path: Path) -> None:
    # Given three entries, newest first (feedgen's add_entry would prepend and reverse them)
    entries = [record("c", updated="2026-11-22T10:00:00+00:00"), record("b", updated="2026-11-21T10:00:00+00:00"),
               record("a", updated="2026-11-20T10:00:00+00:00")]
    # When the feeds are built
    atom, rss = build_feeds(META, entries)
    # Then both list them in that order
    assert [e.findtext(f"{ATOM}id") for e in ET.fromstring(atom).iter(f"{ATOM}entry")] == ["c", "b", "a"]
    assert [i.findtext("guid") for i in ET.fromstring(rss).iter("item")] == ["c", "b", "a"]


def test_build_feeds_gives_rss_the_site_link_and_each_document_its_own_self_link() -> None:
    # Given a feed with self, hub and site links
    atom, rss = build_feeds(META, [record("a")])
    # When both documents are parsed
    feed = ET.fromstring(atom)
    channel = ET.fromstring(rss).find("channel")
    assert channel is not None
    # Then RSS's channel link is the site (feedgen takes the last link) and each self link is its own URL
    assert channel.findtext("link") == "https://partners.example.com/"
    rss_links = {ln.get("rel"): ln.get("href") for ln in channel.findall(f"{ATOM}link")}
    atom_links = {ln.get("rel"): ln.get("href") for ln in feed.findall(f"{ATOM}link")}
    assert rss_links == {"self": META.rss_url, "hub": META.hub}
    assert atom_links == {"self": META.atom_url, "hub": META.hub, "alternate": META.site_url}


def test_build_feeds_sets_the_language_and_aware_dates_in_both_formats() -> None:
    # Given one entry
    atom, rss = build_feeds(META, [record("a", updated="2026-11-20T10:00:00+00:00")])
    # When parsed
    feed = ET.fromstring(atom)
    channel = ET.fromstring(rss).find("channel")
    assert channel is not None
    # Then Atom has xml:lang and ISO dates with an offset, RSS a language and RFC 822 dates
    assert feed.get("{http://www.w3.org/XML/1998/namespace}lang") == "en-US"
    assert channel.findtext("language") == "en-US"
    assert feed.findtext(f"{ATOM}updated") == "2026-11-20T10:00:00+00:00"
    assert channel.findtext("item/pubDate") == "Fri, 20 Nov 2026 10:00:00 +0000"


def test_build_feeds_is_byte_identical_for_the_same_entries() -> None:
    # Given the same entries twice, When built twice, Then the bytes are the same (no build-time clock)
    entries = [record("b", updated="2026-11-21T10:00:00+00:00"), record("a")]
    assert build_feeds(META, entries) == build_feeds(META, entries)


def test_stored_entry_times_without_an_offset_are_refused() -> None:
    # Given a stored entry whose time lost its offset, When the feed is built, Then it is refused
    with pytest.raises(ValueError, match="no offset"):
        build_feeds(META, [record("a", updated="2026-11-20T10:00:00")])


# -- merging entries -------------------------------------------------------------------------

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def test_merge_adds_a_new_entry_first_with_published_and_updated_now() -> None:
    # Given a feed with one entry
    entries = [record("old")]
    # When a new item is merged
    merged, stored, changed = _merge(entries, record("new"), NOW, 10)
    # Then it comes first, dated now
    assert changed and [e["id"] for e in merged] == ["new", "old"]
    assert stored["published"] == stored["updated"] == NOW.isoformat()


def test_merge_updates_an_entry_in_place_on_a_new_revision() -> None:
    # Given a feed with an item's revision 1 behind a newer entry
    entries = [record("other", updated="2026-11-22T10:00:00+00:00"),
               record("item", updated="2026-11-20T10:00:00+00:00")]
    # When revision 2 of the item is merged
    merged, stored, changed = _merge(entries, record("item", revision=2, digest="h2", title="New"), NOW, 10)
    # Then the same id is updated (now first), keeps its published time, and no entry is added
    assert changed and [e["id"] for e in merged] == ["item", "other"]
    assert stored["title"] == "New" and stored["revision"] == 2
    assert stored["published"] == "2026-11-20T10:00:00+00:00" and stored["updated"] == NOW.isoformat()


def test_merge_puts_the_entry_just_written_first_when_another_was_updated_in_the_same_second() -> None:
    # Given an entry updated at NOW (whose id sorts after the item's) and the item's revision 1, older
    entries = [record("zzz", updated=NOW.isoformat()), record("item", updated="2026-11-20T10:00:00+00:00")]
    # When revision 2 of the item, and then a new item, are merged in that same second
    merged, stored, _ = _merge(entries, record("item", revision=2, digest="h2"), NOW, 10)
    merged_again, _, _ = _merge(merged, record("aaa"), NOW, 10)
    # Then each entry just written comes first, ahead of the tie, whatever the ids
    assert stored["updated"] == NOW.isoformat() and [e["id"] for e in merged] == ["item", "zzz"]
    assert [e["id"] for e in merged_again] == ["aaa", "item", "zzz"]


def test_merge_moves_updated_forward_even_within_the_same_second() -> None:
    # Given an entry updated at NOW
    entries = [record("item", updated=NOW.isoformat())]
    # When a new revision is merged at the same second
    _, stored, _ = _merge(entries, record("item", revision=2, digest="h2"), NOW, 10)
    # Then updated still moves forward
    assert stored["updated"] == (NOW + timedelta(seconds=1)).isoformat()


def test_merge_ignores_an_older_revision_a_repeat_of_the_same_publication_and_an_evergreen_slot() -> None:
    # Given an entry at revision 2, slot 0
    entries = [record("item", revision=2, digest="h2")]
    # When an older revision, the same publication again, and a later slot of revision 2 are merged
    older = _merge(entries, record("item", revision=1, digest="h1"), NOW, 10)
    same = _merge(entries, record("item", revision=2, digest="h2"), NOW, 10)
    repeat = _merge(entries, record("item", revision=2, slot=1, digest="h3"), NOW, 10)
    # Then nothing changes, and each answer is the stored entry
    for merged, stored, changed in (older, same, repeat):
        assert not changed and merged == entries and stored == entries[0]


def test_merge_keeps_at_most_max_entries_dropping_the_oldest() -> None:
    # Given a full feed of three
    entries = [record(i, updated=f"2026-11-2{n}T10:00:00+00:00") for n, i in ((2, "c"), (1, "b"), (0, "a"))]
    # When a fourth is merged into a feed of at most three
    merged, _, _ = _merge(entries, record("d"), NOW, 3)
    # Then the oldest fell off
    assert [e["id"] for e in merged] == ["d", "c", "b"]
