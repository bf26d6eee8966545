"""The split strategy's cutting and joining, and the spacing repair around placeholders.

Property tests run on the texts of ``test_masking_properties`` (every script, emoji, URLs,
mentions, hashtags, code, templates, glossary terms, the characters XML cares about).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given, settings

from syndicate.localization.engines import engine_options
from syndicate.localization.http_engines import LibreTranslateEngine
from syndicate.localization.masking import PLACEHOLDER, mask, unmask
from syndicate.localization.options import PseudoTranslator, TranslateOptions
from syndicate.localization.strategies import join_pieces, restore_spacing, split_pieces
from tests.cpu import cpu_seconds
from tests.unit.test_masking_properties import TERMS, texts


def test_a_field_is_cut_at_its_placeholders_and_line_breaks_and_nowhere_else() -> None:
    # Given a masked field with two spans and a paragraph break
    masked = 'Read <x id="0"/> now.\n\nAsk <x id="1"/>, then go.'
    # When cut / Then text pieces alternate with the cuts, which are kept as they are
    assert split_pieces(masked) == ["Read ", '<x id="0"/>', " now.", "\n\n", "Ask ", '<x id="1"/>', ", then go."]


def test_joining_puts_each_translation_between_the_untouched_cuts() -> None:
    parts = split_pieces('Read <x id="0"/> now.\n\nAsk <x id="1"/>, then go.')
    out = join_pieces(parts, ["Lisez ", " maintenant.", "Demandez à ", ", puis allez-y."])
    assert out == 'Lisez <x id="0"/> maintenant.\n\nDemandez à <x id="1"/>, puis allez-y.'
    with pytest.raises(ValueError, match="3 translations for 4 pieces"):
        join_pieces(parts, ["a", "b", "c"])


@given(texts)
@settings(max_examples=300, deadline=None)
def test_splitting_and_joining_untranslated_pieces_is_the_identity(text: str) -> None:
    # Given any masked text / When cut and joined with every piece unchanged / Then it is the same text
    masked = mask(text, TERMS).text
    parts = split_pieces(masked)
    assert "".join(parts) == masked
    assert join_pieces(parts, parts[0::2]) == masked
    # and no text piece holds a placeholder or a line break
    assert not any(PLACEHOLDER.search(p) or "\n" in p for p in parts[0::2])


@given(texts)
@settings(max_examples=200, deadline=None)
def test_the_split_strategy_round_trips_every_protected_span_byte_for_byte(text: str) -> None:
    # Given any text, masked / When its pieces are pseudo-translated as plain text and joined again
    m = mask(text, TERMS)
    parts = split_pieces(m.text)
    pieces = PseudoTranslator().translate(parts[0::2], "en-US", "de-DE", TranslateOptions(markup=False))
    joined = join_pieces(parts, pieces)
    # Then every span comes back exactly, in order, as unmask checks
    restored = unmask(joined, m)
    positions = [restored.find(span) for span in m.spans]
    assert all(p >= 0 for p in positions)


@pytest.mark.parametrize(("answer", "fixed"), [
    # the engine glued a word to the placeholder on both sides: spaces come back where the source had them
    ('LISEZ<x id="0"/>OU', 'LISEZ <x id="0"/> OU'),
    # two placeholders the source separated with a space
    ('VOIR<x id="0"/><x id="1"/>', 'VOIR <x id="0"/> <x id="1"/>'),
    # punctuation and elision glued to a placeholder are left alone
    ('(<x id="0"/>), <x id="1"/>.', '(<x id="0"/>), <x id="1"/>.'),
    ("L'<x id=\"0\"/> ET", "L'<x id=\"0\"/> ET"),
    # scripts written without spaces get none
    ('<x id="0"/>を読む<x id="1"/>', '<x id="0"/>を読む<x id="1"/>'),
])
def test_spaces_dropped_next_to_a_placeholder_are_put_back(answer: str, fixed: str) -> None:
    source = 'Read <x id="0"/> or <x id="1"/> now'
    assert restore_spacing(answer, source) == fixed
    assert restore_spacing(fixed, source) == fixed  # idempotent


def test_no_space_is_added_where_the_source_had_none() -> None:
    # Given a source where the span is glued to a word (a hashtag after a bracket, a term in a compound)
    assert restore_spacing('ÜBER<x id="0"/>NUTZER', 'about<x id="0"/>users') == 'ÜBER<x id="0"/>NUTZER'


@pytest.mark.parametrize("unit", ["  x", " \t", "a &", '\n<x id="1"/> '])
def test_cutting_and_libretranslate_encoding_take_linear_time_on_hostile_text(unit: str) -> None:
    # Given long runs of white space, ampersands and placeholders (text an item may hold)
    small, large = unit * 40_000, unit * 320_000
    engine = LibreTranslateEngine(engine_options("libretranslate", {}), None)  # type: ignore[arg-type]

    def work(text: str) -> Callable[[], object]:
        return lambda: (split_pieces(text), engine._encode(text))

    # When cut and encoded at two sizes / Then eight times the text costs about eight times the CPU
    # (quadratic: 64)
    ratio = cpu_seconds(work(large)) / max(cpu_seconds(work(small)), 1e-6)
    assert ratio < 20, ratio
