"""Fitting a localization's segments into engine requests: split at the coarsest boundary, pack in order."""

from __future__ import annotations

import pytest

from syndicate.errors import PlaceholderMismatch
from syndicate.localization.batching import join_segments, pack, split_joined, split_text


def test_text_under_the_limit_is_one_piece() -> None:
    assert split_text("Short text.", 100) == ["Short text."]


def test_paragraph_breaks_are_preferred_to_sentences() -> None:
    # Given two paragraphs that do not fit together / When split / Then at the paragraph break, kept at the end
    text = "First paragraph. Two sentences.\n\nSecond paragraph here."
    assert split_text(text, 40) == ["First paragraph. Two sentences.\n\n", "Second paragraph here."]


def test_a_long_paragraph_is_split_at_sentence_ends() -> None:
    text = "One sentence here. Another sentence there. A third one."
    assert split_text(text, 25) == ["One sentence here. ", "Another sentence there. ", "A third one."]


def test_japanese_sentences_split_after_the_full_stop() -> None:
    text = "これは最初の文です。これは二番目の文です。"
    assert split_text(text, 12) == ["これは最初の文です。", "これは二番目の文です。"]


def test_a_placeholder_is_never_cut() -> None:
    # Given words and placeholders with a tiny limit / When split at spaces / Then each placeholder is whole
    text = 'a <x id="12"/> b <x id="13"/> c'
    pieces = split_text(text, 4)
    assert "".join(pieces) == text
    assert '<x id="12"/>' in pieces and '<x id="13"/>' in pieces


def test_a_run_without_spaces_is_cut_between_graphemes() -> None:
    # Given a long run of flags (two code points each) / When cut / Then no flag is split
    text = "🇩🇪" * 10
    pieces = split_text(text, 5)
    assert "".join(pieces) == text and all(len(p) % 2 == 0 for p in pieces)


def test_packing_keeps_order_and_respects_size_and_count() -> None:
    # Given sizes / When packed under 10 per group and 2 members / Then consecutive groups within both limits
    assert pack([4, 4, 4, 9, 12, 1], 10, 2) == [[0, 1], [2], [3], [4], [5]]
    assert pack([3, 3, 3], 10, 50) == [[0, 1, 2]]


def test_joined_segments_must_come_back_with_every_boundary_in_order() -> None:
    # Given three segments joined / Then a faithful answer splits back, and a lost boundary is refused
    joined = join_segments(["One", "Two", "Three"])
    answer = joined.replace("One", "Eins").replace("Two", "Zwei").replace("Three", "Drei")
    assert split_joined(answer, 3) == ["Eins", "Zwei", "Drei"]
    with pytest.raises(PlaceholderMismatch, match="segment boundaries"):
        split_joined("One Two <x id=\"b2\"/> Three", 3, engine="google")
