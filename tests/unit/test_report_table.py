"""The terminal table of ``syndicate report``: one line per publication, back-link or reason last,
fitted to the terminal's width; and the JSON and CSV forms of absent values."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from syndicate.operations.report import REPORT_FIELDS, write_report


def row(**kw: Any) -> dict[str, Any]:
    base: dict[str, Any] = dict.fromkeys(REPORT_FIELDS)
    base.update(item_id="launch", revision=1, locale="de-DE", account="x-dach", slot=0, state="published",
                scheduled_for="2026-11-23T09:00:00+00:00", published_at="2026-11-23T09:00:02+00:00",
                permalink="https://x.com/ex/status/1", tagged_url="https://ex.com/?utm_source=x", attempts=1)
    base.update(kw)
    return base


FAILED = {"locale": "fr-FR", "account": "x-fr", "state": "failed", "permalink": None, "published_at": None,
          "last_error": "X refused the post (HTTP 403): duplicate content"}


def test_table_has_one_aligned_line_per_publication_and_a_summary() -> None:
    text = write_report([row(), row(**FAILED)], "table", width=160)
    lines = text.splitlines()
    assert lines[0].split() == ["item", "rev", "locale", "account", "#", "state", "when", "(UTC)", "back-link", "/",
                                "reason"]
    assert lines[1].endswith("2026-11-23 09:00  https://x.com/ex/status/1")
    assert lines[2].endswith("2026-11-23 09:00  X refused the post (HTTP 403): duplicate content")
    assert lines[1].index("published") == lines[2].index("failed")
    assert lines[-1] == "2 publication(s): 1 failed, 1 published"


def test_an_unpublished_row_shows_no_tagged_url_as_its_back_link() -> None:
    # Given a publication planned for later: no permalink, no error, but a tagged URL
    text = write_report([row(state="scheduled", permalink=None, published_at=None)], "table", width=160)
    # When it is shown, then its last column is empty: the tagged URL is not a back-link
    assert "utm_source" not in text
    assert text.splitlines()[1].endswith("scheduled  2026-11-23 09:00")


def test_a_skip_by_a_route_is_shown_as_its_reason() -> None:
    # Given a row skipped by a route's buying stages (its reason, not an error)
    skipped = row(state="skipped", permalink=None, published_at=None,
                  reason="route 'dach' accepts buying stages awareness; the item's is decision")
    # When it is shown, then the reason is in the last column
    assert write_report([skipped], "table", width=160).splitlines()[1].endswith("the item's is decision")


def test_the_table_fits_an_80_column_terminal_by_dropping_and_wrapping() -> None:
    # Given rows with a long id, a long back-link and a long error
    rows = [row(item_id="webinar-2026-12-attribution-emea-partners-and-friends",
                permalink="https://www.linkedin.com/feed/update/urn:li:share:7012345678901234567/"),
            row(**{**FAILED, "last_error": "the platform refused the post because the text repeats one posted "
                                           "earlier on this account (HTTP 403)"})]
    # When the table is fitted to 80 columns
    text = write_report(rows, "table", width=80)
    # Then no line is wider, the error is wrapped onto lines of its own, nothing of it is lost
    lines = text.splitlines()
    assert max(map(len, lines)) <= 80
    assert "rev" not in lines[0].split() and "#" not in lines[0].split()
    assert " ".join(x.strip() for x in lines if x.startswith("    ")).count("the platform refused the post because "
                                                                           "the text repeats one posted earlier")
    # And the summary says how to see everything
    assert lines[-1] == "(fitted to 80 columns; --wide shows all)"


def test_the_table_keeps_its_columns_when_the_terminal_is_wide() -> None:
    text = write_report([row(item_id="webinar-2026-12-attribution")], "table", width=200)
    assert text.splitlines()[0].split()[:5] == ["item", "rev", "locale", "account", "#"]
    assert "--wide" not in text


def test_wide_shows_every_report_column_in_full() -> None:
    long = "https://ex.com/" + "a" * 200
    text = write_report([row(permalink=long, likes=12)], "table", wide=True, width=80)
    head = text.splitlines()[0].split()
    assert head == list(REPORT_FIELDS)
    assert long in text and " 12 " in text


def test_json_gives_absent_values_as_null_and_counts_as_numbers() -> None:
    # Given a published row with counts and a failed one without any
    rows = [row(likes=12, clicks=0, engagement={"likes": 12, "clicks": 0}), row(**{**FAILED, "attempts": 3})]
    # When it is written as JSON
    data = json.loads(write_report(rows, "json"))
    # Then nothing absent is an empty string, and counts are numbers
    assert all(v != "" for r in data for v in r.values())
    assert (data[0]["likes"], data[0]["clicks"], data[0]["reposts"]) == (12, 0, None)
    assert (data[1]["permalink"], data[1]["published_at"], data[1]["attempts"]) == (None, None, 3)


def test_csv_leaves_absent_values_empty() -> None:
    text = write_report([row(**FAILED)], "csv")
    [parsed] = csv.DictReader(io.StringIO(text))
    assert (parsed["permalink"], parsed["likes"], parsed["reason"]) == ("", "", "")
