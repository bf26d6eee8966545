"""Item validation at intake: every refusal names the item, the field and the reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from syndicate import ContentItem, InvalidItem, NotApproved
from syndicate.base.locales import InvalidLocale, canonical, is_rtl
from syndicate.model.item import IntakeLimits, load_item_bytes, load_item_file, parse_item
from tests.helpers import REPO, item_data


def problems(data: dict[str, object], **kw: object) -> dict[str, str]:
    with pytest.raises(InvalidItem) as err:
        parse_item(data, **kw)  # type: ignore[arg-type]
    return dict(err.value.problems)


def test_a_valid_item_parses_and_normalizes_text() -> None:
    item = parse_item(item_data(title="Cafe\u0301 launch"))
    assert isinstance(item, ContentItem)
    assert item.title == "Café launch"  # NFC
    assert item.revision == 1


@pytest.mark.parametrize(
    ("tag", "expected"),
    [("en-US", "en-US"), ("zh-hant-tw", "zh-Hant-TW"), ("es-419", "es-419"), ("de", "de"),
     ("sr-Latn-RS", "sr-Latn-RS")],
)
def test_registered_bcp47_tags_are_accepted_in_canonical_case(tag: str, expected: str) -> None:
    assert canonical(tag) == expected


@pytest.mark.parametrize(
    ("tag", "hint"),
    [("en_US", "did you mean 'en-US'?"), ("en-UK", "'UK' is deprecated or not a registered subtag; use 'GB'"),
     ("xx-YY", "'xx' is not a registered language"), ("iw-IL", "use 'he'"), ("en-Latx", "not a registered script"),
     ("english", "not a BCP 47 tag"), ("und", "not a registered language")],
)
def test_unregistered_or_malformed_tags_are_refused_with_a_hint(tag: str, hint: str) -> None:
    with pytest.raises(InvalidLocale) as err:
        canonical(tag)
    assert hint in str(err.value)


def test_rtl_locales() -> None:
    assert is_rtl("ar-EG") and is_rtl("he-IL") and is_rtl("fa") and is_rtl("ur-PK")
    assert not is_rtl("en-US") and not is_rtl("ja-JP")


def test_every_problem_is_reported_at_once() -> None:
    found = problems(item_data(revision="1", source_locale="en_US", canonical_url="ftp://x.example/a",
                               approved_at="2026-01-01", campaign=None))
    assert set(found) == {"revision", "source_locale", "canonical_url", "approved_at", "campaign"}
    assert "did you mean 'en-US'?" in found["source_locale"]
    assert "http or https" in found["canonical_url"]
    assert found["campaign"] == "is required"


def test_the_error_message_names_item_field_and_reason() -> None:
    with pytest.raises(InvalidItem) as err:
        parse_item(item_data(id="launch-1", publish_at="2026-05-01T10:00:00"))
    assert str(err.value) == (
        "item 'launch-1': publish_at: 2026-05-01T10:00:00 has no UTC offset; add one, e.g. 'Z' or '+02:00'")


@pytest.mark.parametrize("value", [False, "true", "yes", 1, None])
def test_approved_must_be_literally_true(value: object) -> None:
    data = item_data()
    data["approved"] = value
    with pytest.raises((NotApproved, InvalidItem)) as err:
        parse_item(data)
    assert "approved" in str(err.value)


@pytest.mark.parametrize("value", ["2026-01-01", 1767225600, "2026-01-01T00:00:00", "yesterday"])
def test_datetimes_need_a_time_and_an_offset(value: object) -> None:
    assert "publish_at" in problems(item_data(publish_at=value))


@pytest.mark.parametrize("value", [0, -1, True, "2", 1.0])
def test_revision_is_a_positive_integer(value: object) -> None:
    assert "revision" in problems(item_data(revision=value))


@pytest.mark.parametrize(
    ("url", "reason"),
    [("javascript:alert(1)", "http or https"), ("https://user:pw@example.com/", "credentials"),
     ("/relative/path", "http or https"), ("https://example.com/" + "a" * 2100, "2,048"),
     ("https://exa mple.com/", "whitespace")],
)
def test_urls_are_absolute_http_without_credentials(url: str, reason: str) -> None:
    assert reason in problems(item_data(canonical_url=url))["canonical_url"]


def test_unknown_fields_are_refused() -> None:
    assert problems(item_data(colour="blue"))["colour"] == "unknown field"


def test_control_characters_in_text_are_refused() -> None:
    assert "U+0007" in problems(item_data(title="Bell\x07"))["title"]


def test_size_limits_are_configurable() -> None:
    limits = IntakeLimits(max_title_chars=10, max_tags=1)
    found = problems(item_data(title="x" * 11, tags=["a", "b"]), limits=limits)
    assert "more than the limit of 10" in found["title"]
    assert "more than the limit of 1" in found["tags"]
    with pytest.raises(InvalidItem, match="bytes, more than the limit"):
        parse_item(item_data(body="x" * 5000), limits=IntakeLimits(max_item_bytes=4096))


def test_html_bodies_are_sanitized() -> None:
    item = parse_item(item_data(body_format="html",
                                body='<p onclick="x()">Hi<script>alert(1)</script> <a href="javascript:x">l</a></p>'))
    assert "script" not in item.body and "onclick" not in item.body and "javascript" not in item.body
    assert item.body.startswith("<p>Hi")


def test_expiry_must_follow_publication() -> None:
    found = problems(item_data(publish_at="2026-02-01T00:00:00Z", expires_at="2026-01-01T00:00:00Z"))
    assert found == {"expires_at": "must be later than publish_at"}


def test_overrides_are_keyed_by_valid_locales() -> None:
    found = problems(item_data(overrides={"locales": {"de_DE": {"title": "Titel"}}}))
    assert any("did you mean 'de-DE'?" in v for v in found.values())


def test_repeat_needs_a_bound() -> None:
    found = problems(item_data(repeat={"interval": "7d"}))
    assert "count" in next(iter(found.values()))


def test_example_items_are_valid() -> None:
    files = sorted((REPO / "examples" / "content").glob("*.yaml"))
    assert len(files) >= 3
    for f in files:
        assert load_item_file(f).approved is True


def test_items_load_from_json_or_yaml_bytes(tmp_path: Path) -> None:
    import json

    data = item_data()
    assert load_item_bytes(json.dumps(data).encode(), "<stdin>").id == "item-1"
    with pytest.raises(InvalidItem, match="<stdin>: item: \\(item\\): invalid JSON"):
        load_item_bytes(b'{"id": NaN}', "<stdin>")


def test_revision_fits_a_database_integer() -> None:
    assert "revision" in problems(item_data(revision=2**31))
    assert parse_item(item_data(revision=2**31 - 1)).revision == 2**31 - 1
