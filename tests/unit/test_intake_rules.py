"""Intake rules that hold on content the project's own examples never had: blank and single-line
fields, overrides, channel texts and variants under their field's rules, channel names, lone
surrogates, byte-order marks, sizes that name the field, and errors with their file and line."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml

from syndicate import InvalidItem
from syndicate.model.item import IntakeLimits, channel_names, load_item_bytes, parse_item, stored_item
from tests.helpers import item_data

KNOWN = channel_names(["x", "linkedin", "sandbox"], ["x-na", "li-emea"])


def refusal(data: Any, **kw: Any) -> InvalidItem:
    with pytest.raises(InvalidItem) as err:
        parse_item(data, **kw)
    return err.value


def problems(data: Any, **kw: Any) -> dict[str, str]:
    return dict(refusal(data, **kw).problems)


# -- required and blank fields --------------------------------------------------------------------

def test_a_minimal_item_needs_no_summary_cta_tags_or_media() -> None:
    # Given only id, revision, source locale, title, body, canonical URL, campaign and approval
    data = {k: v for k, v in item_data().items() if k not in ("summary", "cta", "tags")}
    # When it is parsed / Then it is valid, without a summary
    item = parse_item(data)
    assert item.summary is None and item.cta is None and item.tags == []


@pytest.mark.parametrize("field", ["title", "body", "canonical_url", "campaign", "approved_by", "approved_at"])
def test_a_missing_required_field_is_refused(field: str) -> None:
    assert problems(item_data(**{field: None})) == {field: "is required"}


@pytest.mark.parametrize(("value", "reason"), [
    ("", "is empty"),
    ("   ", "is blank: it holds only whitespace or invisible characters"),
    ("\u3000\u00a0", "is blank: it holds only whitespace or invisible characters"),
    ("\u200b\ufeff", "is blank: it holds only whitespace or invisible characters"),
])
def test_a_blank_title_body_or_summary_is_refused(value: str, reason: str) -> None:
    found = problems(item_data(title=value, body=value, summary=value))
    assert found == {"title": reason, "body": reason, "summary": reason}


def test_an_html_body_that_sanitizing_empties_is_refused() -> None:
    found = problems(item_data(body_format="html", body="<script>alert(1)</script><style>p{}</style>"))
    assert found == {"body": "is blank once sanitized: scripts, styles and event handlers are removed, and nothing "
                             "else is left"}
    assert parse_item(item_data(body_format="html", body='<img src="https://example.com/a.png">')).body


def test_override_fields_that_are_present_but_blank_are_refused() -> None:
    found = problems(item_data(overrides={
        "locales": {"de-DE": {"title": " ", "summary": "", "body": "\n", "cta_text": "\t"}},
        "channels": {"x": {"en-US": "  "}}}))
    assert set(found) == {"overrides.locales.de-DE.title", "overrides.locales.de-DE.summary",
                          "overrides.locales.de-DE.body", "overrides.locales.de-DE.cta_text",
                          "overrides.channels.x.en-US"}


def test_a_blank_evergreen_variant_is_refused_by_its_index() -> None:
    found = problems(item_data(repeat={"interval": "1d", "count": 3, "variants": ["First.", " "]}))
    assert found == {"repeat.variants.1": "is blank: it holds only whitespace or invisible characters"}


# -- single-line fields ---------------------------------------------------------------------------

SINGLE_LINE = {
    "title": {"title": "A\nB"},
    "cta.text": {"cta": {"text": "Read\tmore", "url": "https://example.com/"}},
    "campaign": {"campaign": "spring\rlaunch"},
    "tags.0": {"tags": ["two\nlines"]},
    "media.0.alt": {"media": [{"url": "https://example.com/a.png", "alt": "a\nb"}]},
    "approved_by": {"approved_by": "ann\tbob"},
    "overrides.locales.de-DE.title": {"overrides": {"locales": {"de-DE": {"title": "Ein\nTitel"}}}},
    "overrides.locales.de-DE.cta_text": {"overrides": {"locales": {"de-DE": {"cta_text": "Mehr\nlesen"}}}},
}


@pytest.mark.parametrize("field", list(SINGLE_LINE))
def test_single_line_fields_refuse_cr_lf_and_tab(field: str) -> None:
    found = problems(item_data(**SINGLE_LINE[field]))
    assert list(found) == [field]
    assert "this field is a single line, without line breaks or tabs" in found[field]


def test_the_message_names_which_control_it_is() -> None:
    assert problems(item_data(title="A\tB"))["title"] == (
        "contains a tab (U+0009): this field is a single line, without line breaks or tabs")
    assert problems(item_data(title="A\r\nB"))["title"].startswith("contains a carriage return (U+000D)")


def test_summary_body_variants_and_channel_texts_keep_line_breaks_and_tabs() -> None:
    item = parse_item(item_data(summary="one\ntwo\tthree", body="a\r\nb\tc",
                                overrides={"channels": {"x": {"en-US": "Line one\nline two"}}},
                                repeat={"interval": "1d", "count": 2, "variants": ["First\nsecond"]}))
    assert item.summary == "one\ntwo\tthree" and item.repeat is not None and item.repeat.variants == ["First\nsecond"]


# -- overrides, channel texts and variants under their field's rules ----------------------------

def test_an_override_title_has_the_title_limit() -> None:
    found = problems(item_data(overrides={"locales": {"de-DE": {"title": "x" * 100_000}}}))
    assert found == {"overrides.locales.de-DE.title": "is 100,000 characters, more than the limit of 300 "
                                                      "(intake.max_title_chars in settings.yaml)"}


def test_override_limits_follow_the_configured_limits() -> None:
    limits = IntakeLimits(max_title_chars=10, max_summary_chars=20, max_body_chars=30)
    found = problems(item_data(title="short", summary="short", body="short",
                               overrides={"locales": {"fr-FR": {"title": "t" * 11, "summary": "s" * 21,
                                                                "body": "b" * 31}},
                                          "channels": {"x": {"en-US": "c" * 21}}},
                               repeat={"interval": "1d", "count": 2, "variants": ["v" * 21]}), limits=limits)
    assert {k: v.split(",")[0] for k, v in found.items()} == {
        "overrides.locales.fr-FR.title": "is 11 characters",
        "overrides.locales.fr-FR.summary": "is 21 characters",
        "overrides.locales.fr-FR.body": "is 31 characters",
        "overrides.channels.x.en-US": "is 21 characters",
        "repeat.variants.0": "is 21 characters"}


@pytest.mark.parametrize("char", ["\x07", "\x1b", "\x9b", "\u2028"])
def test_control_characters_from_json_escapes_are_refused_in_overrides_channel_texts_and_variants(char: str) -> None:
    # Given the control character written as a JSON escape (the file itself is clean)
    data = item_data(overrides={"locales": {"de-DE": {"body": f"a{char}b"}}, "channels": {"x": {"en-US": f"a{char}"}}},
                     repeat={"interval": "1d", "count": 2, "variants": [f"{char}v"]})
    raw = json.dumps(data).encode()
    assert char.encode() not in raw
    # When it is read / Then each text names the character
    with pytest.raises(InvalidItem) as err:
        load_item_bytes(raw, "item.json")
    found = dict(err.value.problems)
    assert set(found) == {"overrides.locales.de-DE.body", "overrides.channels.x.en-US", "repeat.variants.0"}
    assert all(f"U+{ord(char):04X}" in reason for reason in found.values())


def test_an_unclosed_bidi_override_is_refused_in_an_override_body() -> None:
    found = problems(item_data(overrides={"locales": {"ar-SA": {"body": "Read \u202ethis"}}}))
    assert "U+202E (RIGHT-TO-LEFT OVERRIDE) without its closing U+202C" in found["overrides.locales.ar-SA.body"]


def test_an_html_body_override_is_sanitized_like_the_body() -> None:
    item = parse_item(item_data(body_format="html", body="<p>Hello</p>", overrides={"locales": {"de-DE": {
        "body": '<p onclick="x()">Hallo<script>alert(1)</script> <a href="javascript:x">l</a></p>'}}}))
    body = item.overrides.locales["de-DE"].body
    assert body is not None and body.startswith("<p>Hallo")
    assert "script" not in body and "onclick" not in body and "javascript" not in body


def test_a_markdown_body_override_is_kept_as_written() -> None:
    item = parse_item(item_data(overrides={"locales": {"de-DE": {"body": "Hallo <b>Welt</b>"}}}))
    assert item.overrides.locales["de-DE"].body == "Hallo <b>Welt</b>"


# -- channel names --------------------------------------------------------------------------------

def test_an_unknown_channel_is_refused_with_the_known_names_and_a_suggestion() -> None:
    found = problems(item_data(channels=["x-na", "linkdin"]), channels=KNOWN)
    assert found == {"channels.1": "unknown channel 'linkdin': not an adapter or an account id in the config "
                                   "(li-emea, linkedin, sandbox, x, x-na); did you mean 'linkedin'?"}


def test_adapter_names_and_account_ids_are_known_channels() -> None:
    assert parse_item(item_data(channels=["linkedin", "x-na"]), channels=KNOWN).channels == ["linkedin", "x-na"]


def test_a_repeated_channel_is_refused() -> None:
    assert problems(item_data(channels=["x", "x-na", "x"])) == {
        "channels": "'x' listed more than once; list each channel once"}


def test_an_unknown_channel_is_reported_with_every_other_problem() -> None:
    found = problems(item_data(title=" ", channels=["nope"]), channels=KNOWN)
    assert set(found) == {"title", "channels.0"}


# -- characters and numbers that are not data -----------------------------------------------------

@pytest.mark.parametrize(("over", "field"), [
    ({"title": "a\ud800b"}, "title"),
    ({"body": "\udfff"}, "body"),
    ({"tags": ["ok", "\ud83d"]}, "tags.1"),
    ({"canonical_url": "https://example.com/\ud800"}, "canonical_url"),
    ({"overrides": {"locales": {"de-DE": {"summary": "\ud800"}}}}, "overrides.locales.de-DE.summary"),
])
def test_a_lone_surrogate_is_refused_naming_the_field(over: dict[str, Any], field: str) -> None:
    found = problems(item_data(**over))
    assert list(found) == [field]
    assert "lone surrogate" in found[field]
    str(refusal(item_data(**over))).encode("utf-8")  # the message itself can be printed and logged


def test_a_lone_surrogate_in_a_json_file_is_refused_with_its_line() -> None:
    raw = b'{\n  "id": "item-1",\n  "title": "caf\\ud800",\n  "revision": 1\n}'
    with pytest.raises(InvalidItem) as err:
        load_item_bytes(raw, "item.json")
    assert str(err.value) == ("item.json:3: item: title: contains the lone surrogate U+D800 (an unpaired \\ud800 "
                              "escape), which is not a character")


def test_a_surrogate_pair_in_json_is_one_character_and_accepted() -> None:
    raw = json.dumps(item_data(title="Launch \U0001f680")).encode()  # ensure_ascii: "\ud83d\ude80"
    assert b"\\ud83d\\ude80" in raw
    assert load_item_bytes(raw, "item.json").title == "Launch \U0001f680"


def test_a_non_finite_number_is_refused_naming_the_field() -> None:
    assert problems(item_data(revision=float("nan"))) == {"revision": "is not a finite number (nan); numbers must be "
                                                                      "finite"}
    raw = json.dumps(item_data()).replace('"revision": 1', '"revision": 1e999').encode()
    with pytest.raises(InvalidItem, match=r"item.json:1: item: revision: is not a finite number \(inf\)"):
        load_item_bytes(raw, "item.json")


@pytest.mark.parametrize("char", ["\ufffe", "\uffff", "\ufdd0", "\U0001fffe"])
def test_noncharacters_are_refused(char: str) -> None:
    assert f"noncharacter U+{ord(char):04X}" in problems(item_data(summary=f"a{char}b"))["summary"]


@pytest.mark.parametrize("fmt", ["yaml", "json"])
def test_one_byte_order_mark_is_accepted_and_two_are_refused(fmt: str) -> None:
    data = item_data()
    raw = (yaml.safe_dump(data) if fmt == "yaml" else json.dumps(data)).encode()
    assert load_item_bytes(b"\xef\xbb\xbf" + raw, f"item.{fmt}").id == "item-1"
    with pytest.raises(InvalidItem) as err:
        load_item_bytes(b"\xef\xbb\xbf\xef\xbb\xbf" + raw, f"item.{fmt}")
    assert str(err.value) == (f"item.{fmt}:1: item: (item): starts with more than one byte-order mark (U+FEFF); "
                              "save it as UTF-8 with at most one")


# -- sizes ----------------------------------------------------------------------------------------

def test_a_field_bigger_than_the_item_limit_is_named() -> None:
    found = problems(item_data(body="x" * 10_673_030))
    assert found == {"body": "is 10,673,032 bytes, more than the limit of 1,048,576 bytes for a whole item "
                             "(max_item_bytes)"}


def test_an_item_over_the_limit_names_the_fields_that_make_it_big() -> None:
    # Given an item of 5 KB whose summary and one override take most of it, under a 4 KB limit
    data = item_data(summary="s" * 2000, overrides={"locales": {"de-DE": {"body": "b" * 2500}}})
    found = problems(data, limits=IntakeLimits(max_item_bytes=4096))
    # Then the biggest fields are named, until what is left would fit
    assert list(found) == ["overrides.locales.de-DE.body"]
    assert found["overrides.locales.de-DE.body"].startswith("is 2,502 bytes of the item's ")
    found = problems(data, limits=IntakeLimits(max_item_bytes=1024))
    assert list(found) == ["overrides.locales.de-DE.body", "summary"]


def test_many_small_values_are_attributed_to_their_top_level_field() -> None:
    found = problems(item_data(tags=[f"t{i:04d}" for i in range(2000)]), limits=IntakeLimits(max_item_bytes=4096))
    assert list(found) == ["tags"]


def test_a_yaml_file_over_the_item_limit_names_the_field_and_its_line() -> None:
    raw = yaml.safe_dump(item_data(body="y" * 1_100_000), sort_keys=False, width=10**9).encode()
    with pytest.raises(InvalidItem) as err:
        load_item_bytes(raw, "big.yaml")
    assert str(err.value).startswith("big.yaml:6: item 'item-1': body: is 1,100,002 bytes, more than the limit")


def test_a_file_far_over_the_item_limit_is_refused_by_size_without_parsing() -> None:
    with pytest.raises(InvalidItem, match=r"huge.yaml: item: \(item\): is 5,000,000 bytes, more than 4,194,304 "
                                          r"\(4 times the item limit of 1,048,576 bytes\)"):
        load_item_bytes(b"#" * 5_000_000, "huge.yaml")


# -- lines in messages ----------------------------------------------------------------------------

def test_item_errors_carry_the_file_and_line_in_yaml_and_json() -> None:
    data = item_data(id="launch", title="Two\nlines", tags=["ok", " "])
    as_yaml = yaml.safe_dump(data, sort_keys=False).encode()
    as_json = json.dumps(data, indent=2).encode()
    for raw, name in ((as_yaml, "launch.yaml"), (as_json, "launch.json")):
        with pytest.raises(InvalidItem) as err:
            load_item_bytes(raw, name)
        lines = str(err.value).splitlines()
        text = raw.decode().splitlines()
        assert len(lines) == 2, lines
        # each line is file:line: item 'id': field: reason, and the line holds the field
        title_at = int(lines[0].split(":")[1])
        tag_at = int(lines[1].split(":")[1])
        assert lines[0].startswith(f"{name}:{title_at}: item 'launch': title: contains a line feed")
        assert lines[1].startswith(f"{name}:{tag_at}: item 'launch': tags.1: is blank")
        assert "title" in text[title_at - 1]
        assert "' '" in text[tag_at - 1] or '" "' in text[tag_at - 1]


def test_invalid_item_keeps_problems_and_lines_for_callers() -> None:
    raw = yaml.safe_dump(item_data(revision=0, campaign="has space"), sort_keys=False).encode()
    with pytest.raises(InvalidItem) as err:
        load_item_bytes(raw, "i.yaml")
    assert [f for f, _ in err.value.problems] == ["revision", "campaign"]
    assert err.value.lines == [2, 11]


# -- stored items ---------------------------------------------------------------------------------

def test_a_stored_item_reads_back_whatever_the_limits_and_rules_are_now() -> None:
    # Given a payload accepted under raised limits, or before a rule existed (a title with a line break)
    item = parse_item(item_data(body="x" * 300_000), limits=IntakeLimits(max_body_chars=500_000))
    payload = item.model_dump(mode="json")
    older = {**payload, "title": "Old\ttitle", "body": ""}
    # When they are read back / Then they are the same items
    assert stored_item(payload) == item
    assert stored_item(older).title == "Old\ttitle"
