"""The teaser that stands in for an absent summary: the first sentences of the body's plain text."""

from __future__ import annotations

import pytest

from syndicate.intake.teaser import TEASER_CHARS, teaser
from tests.cpu import cpu_seconds


def test_a_short_body_is_its_own_teaser_as_plain_text() -> None:
    assert teaser("Hello **world**. See [the guide](https://example.com/g).", "markdown") == (
        "Hello world. See the guide.")


def test_whole_sentences_are_kept_while_they_fit() -> None:
    body = "First sentence here. Second one is longer than that! Third? " + "Filler words go on. " * 30
    out = teaser(body, "markdown", max_chars=70)
    assert out == "First sentence here. Second one is longer than that! Third?"


def test_headings_and_code_blocks_are_left_out_and_paragraphs_joined() -> None:
    body = "# Launch day\n\nWe shipped it.\n\n```\ncode here\n```\n\nTry it today."
    assert teaser(body, "markdown") == "We shipped it. Try it today."


def test_html_bodies_give_their_text_without_markup() -> None:
    body = "<h2>Title</h2><p>One &amp; two.</p><ul><li>Item a</li><li>Item b</li></ul><script>x()</script>"
    assert teaser(body, "html") == "One & two. Item a Item b"


def test_raw_html_in_markdown_stays_text() -> None:
    assert teaser("Hello <script>alert(1)</script> world.", "markdown") == "Hello <script>alert(1)</script> world."


def test_a_first_sentence_that_is_too_long_is_cut_at_a_word_with_an_ellipsis() -> None:
    body = " ".join(["word"] * 200) + "."
    out = teaser(body, "markdown", max_chars=50)
    assert out.endswith("word…") and len(out) <= 50 and "  " not in out


def test_text_without_spaces_is_cut_between_graphemes() -> None:
    body = "👩‍👩‍👧‍👦" * 100 + "日本語の文章" * 100
    out = teaser(body, "markdown", max_chars=21)
    assert out.endswith("…") and len(out) <= 21
    assert out[:-1] == "👩‍👩‍👧‍👦" * (len(out[:-1]) // 7)  # whole families only (7 code points each)


def test_cjk_sentences_end_without_a_space() -> None:
    body = "最初の文です。" + "二番目の文はとても長いです" * 40 + "。"
    assert teaser(body, "markdown", max_chars=40) == "最初の文です。"


def test_a_body_with_no_text_has_an_empty_teaser() -> None:
    assert teaser('<img src="https://example.com/a.png">', "html") == ""


@pytest.mark.parametrize("shape", ["a." * 100_000, "a" * 200_000, "a " * 100_000, ". " * 100_000, "。" * 200_000])
def test_a_pathological_body_takes_time_linear_in_its_length(shape: str) -> None:
    # Given 200 kB of one shape / When its teaser is made / Then it costs a small multiple of one
    # linear Python scan over the same text (CPU time of both, the least of three runs each, measured in
    # this run: one run alone also counts whatever else the process did meanwhile)
    spent = cpu_seconds(lambda: teaser(shape, "markdown"))
    linear = cpu_seconds(lambda: sum(1 for c in shape if c in ".。"))
    assert len(teaser(shape, "markdown")) <= TEASER_CHARS
    assert spent < 25 * linear, (spent, linear)
