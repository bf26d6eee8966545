"""Property tests: any text round-trips its protected spans byte for byte.

The strategy mixes what real posts hold: words in several scripts, emoji sequences, combining
marks, right-to-left text, URLs, mentions, hashtags, e-mail addresses, code, templates, glossary
terms, placeholders, and the characters XML cares about.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from syndicate.localization.batching import join_segments, split_joined, split_text
from syndicate.localization.masking import PLACEHOLDER, mask, protected_spans, unmask, xml_escape, xml_unescape
from syndicate.localization.options import PseudoTranslator, TranslateOptions

TERMS = ("Syndicate", "free trial", "Example Inc.")

_pieces = st.one_of(
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12),
    st.sampled_from(["Hello", "world", "Grüße", "日本語のテキスト", "مرحبا بالعالم", "שלום", "e\u0301", "👩🏽‍💻",
                     "🇩🇪", "a & b", "x < y > z", "\n\n", "\n", " ", ". ", "!", "?", "(", ")", "#", "@", "`"]),
    st.builds(lambda host, path: f"https://{host}.example.com/{path}",
              st.from_regex(r"[a-z]{1,8}", fullmatch=True), st.from_regex(r"[a-z0-9/_?=&%-]{0,20}", fullmatch=True)),
    st.from_regex(r"@[A-Za-z0-9_]{1,15}", fullmatch=True),
    st.from_regex(r"#[A-Za-z][A-Za-z0-9_]{0,15}", fullmatch=True),
    st.from_regex(r"[a-z]{1,8}@[a-z]{1,8}\.(com|de|jp)", fullmatch=True),
    st.from_regex(r"`[a-z =_.]{1,12}`", fullmatch=True),
    st.sampled_from(["{publish_at:date}", "{number:1234.5}", "{currency:49.99:EUR}", '<x id="4"/>']),
    st.sampled_from(TERMS),
)
texts = st.lists(_pieces, max_size=25).map(" ".join)


@given(texts)
@settings(max_examples=300, deadline=None)
def test_mask_then_unmask_is_the_identity(text: str) -> None:
    # Given any text / When masked and unmasked unchanged / Then it is the same text, byte for byte
    m = mask(text, TERMS)
    assert unmask(m.text, m) == text


@given(texts)
@settings(max_examples=300, deadline=None)
def test_every_protected_span_becomes_one_placeholder_in_order(text: str) -> None:
    # Given any text / When masked / Then every span became exactly one placeholder, in order
    m = mask(text, TERMS)
    ids = [int(i) for i in PLACEHOLDER.findall(m.text)]
    assert ids == list(range(len(m.spans)))
    assert [text[s:e] for s, e in protected_spans(text, TERMS)] == list(m.spans)


@given(texts)
@settings(max_examples=300, deadline=None)
def test_protected_spans_survive_the_pseudo_engine_byte_for_byte(text: str) -> None:
    # Given any text, masked / When pseudo-translated and unmasked
    m = mask(text, TERMS)
    [translated] = PseudoTranslator().translate([m.text], "en-US", "de-DE", TranslateOptions())
    out = unmask(translated, m)
    # Then every protected span is in the output, in order, exactly as it was
    pos = 0
    for span in m.spans:
        found = out.find(span, pos)
        assert found >= 0, span
        pos = found + len(span)


@given(texts)
@settings(max_examples=200, deadline=None)
def test_xml_escaping_round_trips_masked_text(text: str) -> None:
    # Given any masked text / When escaped for an XML engine and unescaped / Then it is unchanged
    masked = mask(text, TERMS).text
    assert xml_unescape(xml_escape(masked)) == masked
    assert PLACEHOLDER.findall(xml_escape(masked)) == PLACEHOLDER.findall(masked)


@given(texts, st.integers(min_value=20, max_value=200))
@settings(max_examples=300, deadline=None)
def test_splitting_for_an_engine_limit_keeps_every_character_and_every_placeholder_whole(text: str,
                                                                                        limit: int) -> None:
    # Given any masked text and a size limit
    masked = mask(text, TERMS).text
    # When split for the limit
    pieces = split_text(masked, limit)
    # Then the pieces give the text back, fit the limit, and no placeholder is cut
    assert "".join(pieces) == masked
    assert all(len(p) <= limit for p in pieces if not PLACEHOLDER.fullmatch(p))
    assert sum(len(PLACEHOLDER.findall(p)) for p in pieces) == len(PLACEHOLDER.findall(masked))


@given(st.lists(texts.map(lambda t: t.strip()).filter(bool), min_size=1, max_size=5))
@settings(max_examples=200, deadline=None)
def test_joined_segments_split_back_into_the_same_segments(segments: list[str]) -> None:
    # Given segments joined into one request text / When split again / Then they are the segments, trimmed
    masked = [mask(s, TERMS).text.strip() for s in segments]
    assert split_joined(join_segments(masked), len(masked)) == [s.strip() for s in masked]
