"""Dates, times and numbers in the route's locale and time zone; templates in localized text."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from syndicate.errors import LocalizationError
from syndicate.localization.formatting import (
    format_date,
    format_datetime,
    format_number,
    format_time,
    render_templates,
)

BERLIN = ZoneInfo("Europe/Berlin")
TOKYO = ZoneInfo("Asia/Tokyo")
NEW_YORK = ZoneInfo("America/New_York")
LAUNCH = datetime(2026, 6, 1, 22, 30, tzinfo=UTC)
VALUES = {"publish_at": LAUNCH, "expires_at": None, "approved_at": datetime(2026, 5, 1, 8, 0, tzinfo=UTC)}


def test_a_date_is_the_local_date_in_the_route_time_zone() -> None:
    # Given an instant late on 1 June in UTC / When shown in Tokyo and New York
    # Then Tokyo already has 2 June and New York still 1 June, each in its locale's style
    assert format_date(LAUNCH, "ja-JP", TOKYO, "long") == "2026年6月2日"
    assert format_date(LAUNCH, "en-US", NEW_YORK, "long") == "June 1, 2026"


def test_times_and_datetimes_follow_the_locale() -> None:
    # When shown in Berlin for German and for US English / Then 24-hour versus AM/PM
    assert format_time(LAUNCH, "de-DE", BERLIN, "short") == "00:30"
    assert format_time(LAUNCH, "en-US", NEW_YORK, "short") == "6:30\u202fPM"
    assert format_datetime(LAUNCH, "fr-FR", BERLIN, "medium") == "2 juin 2026, 00:30:00"


def test_numbers_use_the_locale_separators() -> None:
    # When a number is shown in three locales / Then each uses its group and decimal separators
    assert format_number("1234.5", "de-DE") == "1.234,5"
    assert format_number("1234.5", "en-US") == "1,234.5"
    assert format_number("1234.5", "fr-FR") == "1\u202f234,5"
    assert format_number("0.25", "de-DE", style="percent") == "25\xa0%"


def test_a_naive_datetime_is_refused() -> None:
    # Given a datetime without an offset / Then it has no local time, and formatting refuses it
    with pytest.raises(ValueError, match="naive"):
        format_date(datetime(2026, 6, 1, 9, 0), "de-DE", BERLIN)


def test_templates_render_item_fields_in_the_locale_and_time_zone() -> None:
    # Given a human override with templates
    text = "Ab {publish_at:date:long} um {publish_at:time:short} Uhr, für {currency:49.99:EUR} ({number:1234.5})."
    # When rendered for German in Berlin / Then every template is a German date, time or number
    assert render_templates(text, locale="de-DE", tz=BERLIN, values=VALUES) == (
        "Ab 2. Juni 2026 um 00:30 Uhr, für 49,99\xa0€ (1.234,5).")


def test_a_literal_instant_needs_an_offset() -> None:
    # Given literal instants with and without an offset / Then the first renders and the second is refused
    assert render_templates("{date:2026-06-01T09:00:00Z long}", locale="en-GB", tz=BERLIN, values=VALUES) == (
        "1 June 2026")
    with pytest.raises(LocalizationError, match="no UTC offset"):
        render_templates("{date:2026-06-01T09:00:00}", locale="en-GB", tz=BERLIN, values=VALUES, field="body")


def test_a_template_naming_a_field_the_item_lacks_is_refused_with_the_field() -> None:
    # Given an item without expires_at / When a text names it / Then the error says which field and template
    with pytest.raises(LocalizationError, match=r"summary: \{expires_at:date\}: the item has no expires_at"):
        render_templates("Until {expires_at:date}", locale="de-DE", tz=BERLIN, values=VALUES, field="summary")


def test_a_malformed_template_is_refused_with_a_hint() -> None:
    with pytest.raises(LocalizationError, match="width must be one of"):
        render_templates("{publish_at:date:huge}", locale="de-DE", tz=BERLIN, values=VALUES)
    with pytest.raises(LocalizationError, match="ISO 4217"):
        render_templates("{currency:49.99}", locale="de-DE", tz=BERLIN, values=VALUES)


def test_braces_that_are_not_templates_are_left_alone() -> None:
    # Given braces in ordinary text / Then nothing is rendered or refused
    text = "Use {curly braces} and {} freely; {publish_at is not closed"
    assert render_templates(text, locale="de-DE", tz=BERLIN, values=VALUES) == text
