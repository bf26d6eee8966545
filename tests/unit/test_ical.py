"""The calendar's iCalendar feed (RFC 5545): folding, escaping, and a feed a parser library reads back."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import icalendar
import pytest

from syndicate.operations.calendar import Entry
from syndicate.operations.ical import escape_text, fold_line, ical_feed, ical_status

AT = datetime(2026, 12, 9, 23, 30, tzinfo=UTC)


def entry(**changes: object) -> Entry:
    base = Entry(id=7, key="webinar/1/de-DE/x-dach/0", item_id="webinar", revision=1, title="Webinar am 10. Dezember",
                 locale="de-DE", region="dach", channel="x", account="x-dach", slot=0, state="scheduled",
                 shown="scheduled", at=AT, timezone="Europe/Berlin", note=None, link=None,
                 tagged_url="https://example.com/w?utm_source=x&utm_content=webinar.r1", updated_at=AT)
    return replace(base, **changes)  # type: ignore[arg-type]


def physical_lines(feed: str) -> list[bytes]:
    assert feed.endswith("\r\n")
    data = feed.encode("utf-8")
    assert b"\n" not in data.replace(b"\r\n", b""), "every line ends with CRLF, and no bare LF or CR"
    return data.split(b"\r\n")[:-1]


@pytest.mark.parametrize("text", [
    "a" * 200,
    "日本語のタイトル" * 20,
    "👩🏽‍💻 emoji " * 30,
    "x" * 74 + "é" + "y" * 80,  # a two-octet character straddling the first fold
])
def test_a_long_line_is_folded_at_75_octets_without_splitting_a_character(text: str) -> None:
    # When a line is folded
    folded = fold_line(f"SUMMARY:{text}")
    parts = folded.encode("utf-8").split(b"\r\n")
    # Then no physical line is longer than 75 octets, each is valid UTF-8 on its own, continuations
    # start with one space, and unfolding gives the line back
    assert all(len(p) <= 75 for p in parts)
    assert all(p.decode("utf-8") for p in parts)
    assert all(p.startswith(b" ") for p in parts[1:]) and len(parts) > 1
    assert folded.replace("\r\n ", "") == f"SUMMARY:{text}"


def test_text_values_escape_backslash_semicolon_comma_and_line_breaks_and_drop_controls() -> None:
    assert escape_text("a\\b;c,d\ne\r\nf\rg") == "a\\\\b\\;c\\,d\\ne\\nf\\ng"
    assert escape_text("tab\there\x00\x07\x1b\x7fend") == "tab\there" + "end"
    assert escape_text("日本語 · ok: fine") == "日本語 · ok: fine"


def test_each_calendar_state_has_its_status() -> None:
    assert ical_status("published") == "CONFIRMED"
    for gone in ("cancelled", "superseded", "skipped", "failed"):
        assert ical_status(gone) == "CANCELLED"
    for open_ in ("scheduled", "awaiting_review", "held", "enqueued", "calling", "retrying", "in_doubt",
                  "unconfirmed"):
        assert ical_status(open_) == "TENTATIVE"


def test_a_parser_reads_back_every_event_with_its_fields() -> None:
    # Given entries whose text needs escaping and folding: commas, semicolons, a backslash, a line
    # break in a reason, long Japanese text, emoji, and a published one with its permalink
    tricky = "Launch; now, with \\ backslash — 🚀 " + "とても長いタイトル" * 8
    entries = [
        entry(),
        entry(id=8, key="launch/1/ja-JP/x-jp/0", title=tricky, locale="ja-JP", region="jp", timezone="Asia/Tokyo",
              state="published", shown="published", at=AT - timedelta(days=1),
              link="https://x.example/i/status/123"),
        entry(id=9, key="webinar/1/en-US/li-na/0", state="cancelled", shown="cancelled", channel="linkedin",
              account="li-na", note="<script>alert(1)</script> & co,\nsecond line; done"),
        entry(id=10, key="webinar/1/ja-JP/x-jp/0", shown="held", note="held: account 'x-jp' needs new credentials"),
    ]
    # When the feed is written and parsed by the icalendar library
    feed = ical_feed(entries, name="spring, 2026", now=datetime(2026, 12, 7, 10, 0, tzinfo=UTC))
    assert all(len(line) <= 75 for line in physical_lines(feed))
    cal = icalendar.Calendar.from_ical(feed)
    events = list(cal.walk("VEVENT"))
    # Then the calendar has its required properties and one event per entry, in order
    assert str(cal["VERSION"]) == "2.0" and str(cal["PRODID"]).startswith("-//syndicate//")
    # (the library leaves RFC 7986's NAME and the x-property raw: both are TEXT, so the comma is escaped)
    assert str(cal["NAME"]) == str(cal["X-WR-CALNAME"]) == "spring\\, 2026"
    assert len(events) == len(entries)
    for ev, e in zip(events, entries, strict=True):
        assert str(ev["UID"]).startswith(f"{e.id}-") and str(ev["UID"]).endswith("@syndicate.invalid")
        assert ev.decoded("DTSTART") == e.at
        assert ev.decoded("DURATION") == timedelta(minutes=15)
        assert ev.decoded("DTSTAMP") == datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
        assert str(ev["SUMMARY"]).endswith(f"{e.channel} · {e.account} · {e.locale}: {e.title}")
        assert str(ev["STATUS"]) == ical_status(e.shown)
        assert f"Link: {e.tagged_url}" in str(ev["DESCRIPTION"])
    # And the published one links its post, the others have no URL
    assert [str(ev.get("URL")) if "URL" in ev else None for ev in events] == [
        None, "https://x.example/i/status/123", None, None]
    # And a reason keeps its punctuation and line break; what is not plain gets its state in brackets
    assert "Why: <script>alert(1)</script> & co,\nsecond line; done" in str(events[2]["DESCRIPTION"])
    assert str(events[3]["SUMMARY"]).startswith("[held] ")
    assert str(events[0]["SUMMARY"]).startswith("x · ")


def test_the_uid_is_stable_across_exports_and_differs_between_publications() -> None:
    first = icalendar.Calendar.from_ical(ical_feed([entry()], now=AT))
    later = icalendar.Calendar.from_ical(ical_feed([entry(state="published", shown="published")],
                                                   now=AT + timedelta(days=3), domain="cal.example.com"))
    other = icalendar.Calendar.from_ical(ical_feed([entry(key="webinar/1/de-DE/x-dach/1")], now=AT))
    uid = str(next(iter(first.walk("VEVENT")))["UID"])
    assert str(next(iter(later.walk("VEVENT")))["UID"]) == uid.replace("syndicate.invalid", "cal.example.com")
    assert str(next(iter(other.walk("VEVENT")))["UID"]) != uid


def test_an_empty_calendar_is_still_a_valid_feed() -> None:
    cal = icalendar.Calendar.from_ical(ical_feed([], now=AT))
    assert list(cal.walk("VEVENT")) == [] and str(cal["VERSION"]) == "2.0"
