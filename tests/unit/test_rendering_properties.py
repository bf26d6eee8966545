"""Property tests: for any text, every rendered part fits its channel, keeps the link, splits nothing.

Channels: X (weighted counter, 280, URLs 23, emoji 2, threads) and code-point channels of several
sizes (the sandbox's counter). Texts come from ``tests/strategies.py``.
"""

from __future__ import annotations

import os

import regex
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.twitter_text import entity_spans, extract_urls, weighted_length
from syndicate.channels.contract import Limits
from syndicate.channels.rendering import ELLIPSIS, Post, fit_text, grapheme_boundaries, render_post
from syndicate.errors import ContentError
from syndicate.localization.masking import EXISTING_PLACEHOLDER, HASHTAG, MENTION, URL, mask, unmask
from tests import strategies as ts

#: Examples per property; raise SYNDICATE_PROPERTY_EXAMPLES for a longer hunt.
EXAMPLES = int(os.environ.get("SYNDICATE_PROPERTY_EXAMPLES", "150"))
PROFILE = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])

X_SINGLE = Limits(max_length=280, counter=weighted_length)
X_THREAD = Limits(max_length=280, counter=weighted_length, max_parts=6)
CODE_POINTS = [Limits(max_length=n, counter=len) for n in (120, 280, 500)]

limits = st.sampled_from([X_SINGLE, X_THREAD, *CODE_POINTS])
ctas = st.one_of(st.none(), st.sampled_from(["Read more", "Zur Ankündigung", "詳しくはこちら", "اقرأ المزيد", "👉 Go"]))
tag_lists = st.lists(ts.hashtags(), max_size=4)


def _check_slices(lead: str, protected: tuple[tuple[int, int], ...], post: Post) -> None:
    """Every part begins with its slice of the lead; slices sit on grapheme boundaries, outside
    protected tokens, in order, with only whitespace between them unless the text was cut."""
    bounds = set(grapheme_boundaries(lead))
    previous_end = 0
    for (start, end), part in zip(post.slices, post.parts, strict=True):
        assert start in bounds and end in bounds, (start, end)
        assert part.startswith(lead[start:end])
        for ps, pe in protected:
            assert not ps < start < pe and not ps < end < pe, (lead[ps:pe], start, end)
        if start < end:
            assert start >= previous_end
            if not post.cut:
                assert lead[previous_end:start].strip() == ""
            previous_end = end
    if not post.cut:
        assert lead[previous_end:].strip() == ""


@given(ts.post_texts(), ts.links(), ctas, tag_lists, limits, st.booleans(), st.sampled_from(["first", "last"]))
@PROFILE
def test_every_rendered_part_fits_keeps_the_link_and_splits_no_grapheme(
    generated: ts.GeneratedText, link: str, cta: str | None, tags: list[str], lim: Limits, thread: bool,
    link_position: str,
) -> None:
    # Given any text, tagged link, call to action and hashtags, and a channel's limits
    lead = generated.text
    suffix = f"{cta} {link}" if cta else link
    # When rendered (as a thread where the channel allows)
    try:
        post = render_post(lead=lead, link=link, limits=lim, cta=cta, tags=tags, thread=thread,
                           link_position="first" if link_position == "first" else "last", atomic=entity_spans)
    except ContentError:
        # (only when the link and call to action alone are over the limit: never a long post instead)
        assert lim.counter(suffix) > lim.max_length
        return
    # Then every part measures within the limit by the channel's own counter
    assert all(lim.counter(p) <= lim.max_length for p in post.parts)
    assert list(post.lengths) == [lim.counter(p) for p in post.parts]
    assert len(post.parts) <= max(1, lim.max_parts)
    # And exactly one part carries the link, whole, after the call to action
    carrying = [p for p in post.parts if link in p]
    assert len(carrying) >= 1 and post.parts[post.link_part] in carrying
    assert suffix in post.parts[post.link_part]
    # And the lead is kept as whole graphemes, never cut inside a URL, mention, hashtag or placeholder
    _check_slices(lead, generated.protected, post)


@given(ts.post_texts(), st.integers(min_value=0, max_value=300), st.sampled_from(["x", "len"]))
@PROFILE
def test_fit_text_returns_a_grapheme_prefix_within_the_budget(
    generated: ts.GeneratedText, budget: int, counter_name: str,
) -> None:
    # Given any text and budget / When fitted
    counter = weighted_length if counter_name == "x" else len
    text = generated.text
    fitted = fit_text(text, budget, counter, atomic=entity_spans if counter_name == "x" else None)
    # Then it fits, and it is a prefix of the text ending on a grapheme boundary (plus an ellipsis)
    assert fitted.length == (counter(fitted.text) if fitted.text else 0) and fitted.length <= max(budget, 0)
    assert fitted.end in grapheme_boundaries(text)
    kept = text[: fitted.end]
    assert fitted.text in ((kept, kept + ELLIPSIS) if fitted.cut else (text,))
    for ps, pe in generated.protected:
        assert not ps < fitted.end < pe


def test_strategy_emoji_are_single_grapheme_clusters() -> None:
    # Given the emoji strategies / Then each drawn sequence is one extended grapheme cluster
    @given(st.one_of(ts.zwj_sequences(), ts.skin_toned(), ts.flags(), ts.keycaps()))
    @settings(max_examples=200, deadline=None)
    def check(seq: str) -> None:
        assert len(regex.findall(r"\X", seq)) == 1, [hex(ord(c)) for c in seq]

    check()


def test_strategy_protected_tokens_are_what_the_masking_patterns_see() -> None:
    # Given the URL, mention, hashtag and placeholder strategies, each between spaces
    @given(st.one_of(ts.urls(), ts.mentions(), ts.hashtags(), ts.placeholders()))
    @settings(max_examples=300, deadline=None)
    def check(token: str) -> None:
        text = f"x {token} y"
        spans = {m.span() for pat in (URL, MENTION, HASHTAG, EXISTING_PLACEHOLDER) for m in pat.finditer(text)}
        # Then one pattern matches exactly the token
        assert (2, 2 + len(token)) in spans

    check()


def test_strategy_urls_are_links_for_x() -> None:
    # Given the URL strategy / Then X's extractor finds each URL, starting where it starts
    @given(ts.urls())
    @settings(max_examples=300, deadline=None)
    def check(url: str) -> None:
        found = extract_urls(f"see {url} now")
        assert found and found[0].start == 4 and url.startswith(found[0].url)

    check()


@given(ts.post_texts())
@settings(max_examples=200, deadline=None)
def test_placeholders_and_protected_spans_round_trip_through_masking(generated: ts.GeneratedText) -> None:
    # Given any generated text / When masked and unmasked unchanged / Then it is the same text
    m = mask(generated.text)
    assert unmask(m.text, m) == generated.text
