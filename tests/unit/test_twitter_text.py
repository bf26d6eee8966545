"""X's weighted length counter against twitter-text's official conformance cases.

The cases are read from ``tests/data/twitter-text/`` (copied unchanged from twitter-text). Every case of
``WeightedTweetsWithDiscountedEmojiCounterTest`` and ``UnicodeDirectionalMarkerCounterTest`` must
pass with every field it gives: weightedLength, valid, permillage and both ranges.
"""

from __future__ import annotations

import dataclasses
import json
import unicodedata
from pathlib import Path
from typing import Any

import pytest
import yaml

from adapters import twitter_text
from adapters.twitter_text import V3, extract_urls, parse_tweet, weighted_length

CASES = Path(__file__).resolve().parents[1] / "data" / "twitter-text"
PACKAGED = Path(twitter_text.__file__).resolve().parent / "data" / "twitter-text"


def _load(name: str) -> dict[str, Any]:
    path = CASES / name
    if not path.is_file():
        raise RuntimeError(f"twitter-text conformance data missing: {path}")
    data: dict[str, Any] = yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)["tests"]
    return data


VALIDATE = _load("validate.yml")
EXTRACT = _load("extract.yml")


def _cases(section: str) -> list[Any]:
    cases = VALIDATE[section]
    assert cases, f"{section} has no cases"
    return [pytest.param(c, id=c["description"]) for c in cases]


def _observed(text: str, config: twitter_text.TextConfig = V3) -> dict[str, Any]:
    r = parse_tweet(text, config)
    return {"weightedLength": r.weighted_length, "valid": r.valid, "permillage": r.permillage,
            "displayRangeStart": r.display_range[0], "displayRangeEnd": r.display_range[1],
            "validRangeStart": r.valid_range[0], "validRangeEnd": r.valid_range[1]}


@pytest.mark.parametrize("case", _cases("WeightedTweetsWithDiscountedEmojiCounterTest"))
def test_weighted_length_matches_the_emoji_discounted_conformance_case(case: dict[str, Any]) -> None:
    # Given an official v3 case / When it is measured / Then every expected field matches
    assert _observed(case["text"]) == case["expected"]


@pytest.mark.parametrize("case", _cases("UnicodeDirectionalMarkerCounterTest"))
def test_weighted_length_matches_the_directional_marker_conformance_case(case: dict[str, Any]) -> None:
    # Given an official case with directional marks or invalid characters / Then every field matches
    assert _observed(case["text"]) == case["expected"]


@pytest.mark.parametrize("case", _cases("WeightedTweetsCounterTest"))
def test_weighted_length_without_emoji_parsing_matches_the_v2_conformance_case(case: dict[str, Any]) -> None:
    # Given the v2 weighting (v3 without emoji parsing) / When measured / Then the v2 cases pass too
    v2 = dataclasses.replace(V3, version=2, emoji_parsing_enabled=False)
    assert _observed(case["text"], v2) == case["expected"]


def _u16(text: str, offset: int) -> int:
    return len(text[:offset].encode("utf-16-le")) // 2


@pytest.mark.parametrize("section", ["urls", "urls_with_indices", "urls_with_directional_markers",
                                     "tco_urls_with_params"])
def test_url_extraction_matches_the_conformance_cases(section: str) -> None:
    # Given every URL extraction case / When extracted / Then the URLs (and UTF-16 indices) match
    failures = []
    for case in EXTRACT[section]:
        found = extract_urls(case["text"])
        if isinstance(case["expected"][0] if case["expected"] else "", dict):
            got: list[Any] = [{"url": e.url, "indices": [_u16(case["text"], e.start), _u16(case["text"], e.end)]}
                              for e in found]
        else:
            got = [e.url for e in found]
        if got != case["expected"]:
            failures.append((case["description"], got, case["expected"]))
    assert failures == []


def test_every_known_top_level_domain_is_extracted() -> None:
    # Given the TLD conformance file / When each https://twitter.<tld> is extracted / Then it is whole
    tlds = _load("tlds.yml")
    missed = [c["text"] for cases in tlds.values() for c in cases if [e.url for e in extract_urls(c["text"])]
              != c["expected"]]
    assert missed == []


def test_packaged_domain_list_is_the_conformance_list_in_order() -> None:
    # Given the packaged tlds.json / Then it lists the conformance TLDs, in the same order
    tlds = _load("tlds.yml")
    packaged = json.loads((PACKAGED / "tlds.json").read_text(encoding="utf-8"))
    for kind in ("generic", "country"):
        assert packaged[kind] == [c["text"].split("twitter.", 1)[1] for c in tlds[kind]]


def test_packaged_configuration_is_the_official_v3_with_its_license() -> None:
    # Given the packaged data / Then v3.json is byte-identical to the conformance copy and the license is beside it
    assert (PACKAGED / "v3.json").read_bytes() == (CASES / "v3.json").read_bytes()
    assert "Apache License" in (PACKAGED / "LICENSE").read_text(encoding="utf-8")
    assert (V3.max_weighted_length, V3.transformed_url_length, V3.scale) == (280, 23, 100)


def test_length_is_measured_on_the_nfc_form() -> None:
    # Given the same text composed and decomposed / Then both weigh the same
    composed = "Café déjà vu, naïve Ångström"
    decomposed = unicodedata.normalize("NFD", composed)
    assert decomposed != composed
    assert weighted_length(decomposed) == weighted_length(composed) == len(composed)


def test_any_url_counts_twenty_three_whatever_its_length() -> None:
    # Given a short and a very long URL / Then each counts 23, with or without a scheme
    short, long_url = "https://a.co", "https://example.com/" + "x" * 400 + "?utm_source=x&utm_medium=social"
    assert weighted_length(short) == weighted_length(long_url) == 23
    assert weighted_length("see example.com now") == len("see ") + 23 + len(" now")


def test_emoji_sequences_count_two_and_cjk_counts_two_per_character() -> None:
    # Given a family ZWJ sequence, a flag, a skin tone, and CJK / Then each emoji is 2, each ideograph 2
    assert weighted_length("👨‍👩‍👧‍👦") == 2
    assert weighted_length("🇯🇵") == 2
    assert weighted_length("👋🏽") == 2
    assert weighted_length("日本語") == 6
