"""The terminal table of ``syndicate report``: one line per publication, back-link or error last."""

from __future__ import annotations

from typing import Any

from syndicate.report import REPORT_FIELDS, write_report


def row(**kw: Any) -> dict[str, Any]:
    base: dict[str, Any] = dict.fromkeys(REPORT_FIELDS, "")
    base.update(item_id="launch", revision=1, locale="de-DE", account="x-dach", slot=0, state="published",
                scheduled_for="2026-11-23T09:00:00+00:00", published_at="2026-11-23T09:00:02+00:00",
                permalink="https://x.com/ex/status/1", tagged_url="https://ex.com/?utm_source=x")
    base.update(kw)
    return base


def test_table_has_one_aligned_line_per_publication_and_a_summary() -> None:
    text = write_report([row(), row(locale="fr-FR", account="x-fr", state="failed", permalink="", published_at="",
                                    last_error="X refused the post (HTTP 403): duplicate content")], "table")
    lines = text.splitlines()
    assert lines[0].split() == ["item", "rev", "locale", "account", "slot", "state", "when", "(UTC)", "back-link",
                                "/", "error"]
    assert lines[1].endswith("2026-11-23 09:00  https://x.com/ex/status/1")
    assert lines[2].endswith("2026-11-23 09:00  X refused the post (HTTP 403): duplicate content")
    assert lines[1].index("published") == lines[2].index("failed")
    assert lines[-1] == "2 publication(s): 1 failed, 1 published"


def test_long_links_are_shortened_in_the_table_only() -> None:
    long = "https://ex.com/" + "a" * 200
    assert "…" in write_report([row(permalink=long)], "table")
    assert long in write_report([row(permalink=long)], "csv")
