"""Fitting text to a channel: where it is cut, what always survives, how threads are numbered."""

from __future__ import annotations

import pytest

from adapters.twitter_text import entity_spans, weighted_length
from syndicate.channels.contract import Limits
from syndicate.channels.rendering import ELLIPSIS, compose, fit_text, grapheme_boundaries, hashtags, render_post
from syndicate.errors import ContentError

X = Limits(max_length=280, counter=weighted_length, max_parts=5)
LINK = "https://example.com/blog/launch?utm_source=x&utm_medium=social&utm_campaign=launch&utm_content=item.en-US.x.0"


def test_fit_text_cuts_after_a_sentence_when_that_keeps_most_of_the_text() -> None:
    # Given two sentences where only the first fits
    text = "The first sentence is long enough to matter here. The second one does not fit at all, sadly."
    # When fitted to 60 code points
    fitted = fit_text(text, 60, len)
    # Then the cut is after the first sentence, with no ellipsis
    assert fitted.text == "The first sentence is long enough to matter here."
    assert fitted.cut and fitted.end == len(fitted.text)


def test_fit_text_cuts_at_a_space_with_an_ellipsis_when_a_sentence_end_keeps_too_little() -> None:
    # Given a short first sentence followed by a long one
    text = "Hi. " + "word " * 40
    # When fitted to 50 / Then the cut is at a space, well past the first sentence, with an ellipsis
    fitted = fit_text(text, 50, len)
    assert fitted.text.endswith("word" + ELLIPSIS) and len(fitted.text) <= 50 and len(fitted.text) > 40


def test_fit_text_drops_a_trailing_comma_before_the_ellipsis() -> None:
    # Given a cut that lands after a comma / Then the comma goes and the ellipsis follows the word
    fitted = fit_text("alpha, beta, gamma, delta, epsilon", 15, len)
    assert fitted.text == "alpha, beta" + ELLIPSIS


def test_fit_text_cuts_cjk_between_ideographs_preferring_a_full_stop() -> None:
    # Given Chinese text with full stops and no spaces, weighted 2 per ideograph
    text = "故人西辞黄鹤楼，烟花三月下扬州。孤帆远影碧空尽，唯见长江天际流。" * 4
    # When fitted to 70 weighted units
    fitted = fit_text(text, 70, weighted_length)
    # Then it ends on a full stop and measures within the budget
    assert fitted.text.endswith("。") and weighted_length(fitted.text) <= 70
    assert text.startswith(fitted.text)


def test_fit_text_falls_back_to_graphemes_and_never_splits_an_emoji_sequence() -> None:
    # Given one long run of family emoji (each a ZWJ sequence of 7 code points) and no spaces
    family = "👨‍👩‍👧‍👦"
    text = family * 50
    # When fitted to 21 weighted units (each family counts 2, the ellipsis 2)
    fitted = fit_text(text, 21, weighted_length)
    # Then whole families are kept
    assert fitted.text == family * 9 + ELLIPSIS
    assert fitted.end in grapheme_boundaries(text)


@pytest.mark.parametrize("token", ["https://example.com/a/very/long/path?with=query", "@example_support",
                                   "#MarketingAutomation", '<x id="12"/>'])
def test_fit_text_never_cuts_inside_a_url_mention_hashtag_or_placeholder(token: str) -> None:
    # Given a text where the budget ends inside the token
    text = "Some words before " + token + " and after"
    budget = len("Some words before ") + len(token) // 2
    # When fitted by code points / Then the cut is before the token
    fitted = fit_text(text, budget, len)
    assert fitted.text == "Some words before" + ELLIPSIS


def test_fit_text_keeps_a_url_that_fits_by_weight_though_it_is_long() -> None:
    # Given a long URL in text measured by X's counter (a URL counts 23)
    text = "Read https://example.com/" + "x" * 200 + " today, and more text " * 20
    # When fitted to 60 / Then the URL survives whole
    fitted = fit_text(text, 60, weighted_length, atomic=entity_spans)
    assert "https://example.com/" + "x" * 200 in fitted.text and weighted_length(fitted.text) <= 60


def test_compose_keeps_the_link_and_call_to_action_and_drops_hashtags_last_first() -> None:
    # Given a lead, a CTA with the link, and three hashtags, in a budget too small for all
    lead = "A title\n\nA summary that says what it is about."
    suffix = "Read more " + LINK
    tail = "#One #Two #Three"
    budget = weighted_length(lead + "\n\n" + suffix + "\n#One #Two")
    # When composed / Then the link and CTA are whole, the last hashtag went, the lead is whole
    text, cut = compose(text=lead, suffix=suffix, budget=budget, counter=weighted_length, optional_tail=tail)
    assert text == lead + "\n\n" + suffix + "\n#One #Two"
    assert cut


def test_compose_refuses_when_the_link_and_call_to_action_alone_are_over_the_limit() -> None:
    # Given a call to action longer than the limit / Then rendering fails instead of sending a long post
    with pytest.raises(ContentError, match="link and call to action"):
        compose(text="lead", suffix="x" * 300 + " " + LINK, budget=280, counter=weighted_length)


def test_single_post_reports_the_slice_of_the_lead_it_keeps() -> None:
    # Given a lead that must be cut / When rendered for X
    lead = "  First sentence here. " + "More words follow here. " * 20
    post = render_post(lead=lead, link=LINK, limits=X, cta="Read more")
    # Then its one part starts with exactly that slice of the lead and ends with the CTA and link
    [(start, end)] = post.slices
    assert post.parts[0].startswith(lead[start:end]) and start == 2
    assert post.parts[0].endswith("Read more " + LINK) and post.lengths[0] <= 280 and post.cut


def test_thread_numbers_its_parts_and_puts_the_link_in_the_first_part() -> None:
    # Given text for about three posts / When rendered as a thread with the link first
    lead = " ".join(f"Sentence number {i} says something worth reading." for i in range(15))
    post = render_post(lead=lead, link=LINK, limits=X, cta="Read more", tags=["#One"], thread=True)
    n = len(post.parts)
    # Then every part fits, is numbered i/n, the first carries the link, the last the hashtag
    assert n >= 3 and all(weighted_length(p) <= 280 for p in post.parts)
    assert [p.rsplit(" ", 1)[1] for p in post.parts] == [f"{i}/{n}" for i in range(1, n + 1)]
    assert LINK in post.parts[0] and all(LINK not in p for p in post.parts[1:]) and post.link_part == 0
    assert "\n#One " in post.parts[-1] and not post.cut
    # And no text is lost between parts: each part begins with the next slice of the lead
    joined = " ".join(lead[s:e] for s, e in post.slices)
    assert joined == lead


def test_thread_can_put_the_link_in_the_last_part() -> None:
    # Given a long text / When rendered with the link last
    lead = "Ein langer deutscher Text mit vielen Wörtern. " * 20
    post = render_post(lead=lead, link=LINK, limits=X, cta="Mehr lesen", thread=True, link_position="last")
    # Then only the last part carries the call to action and the link
    assert post.parts[-1].endswith(f"Mehr lesen {LINK} {len(post.parts)}/{len(post.parts)}")
    assert all(LINK not in p for p in post.parts[:-1]) and post.link_part == len(post.parts) - 1


def test_thread_longer_than_its_part_limit_ends_with_an_ellipsis() -> None:
    # Given text without sentence ends for far more than five parts / When rendered with at most five
    lead = "words and more words that go on and on " * 60
    post = render_post(lead=lead, link=LINK, limits=X, thread=True)
    # Then there are five parts, the last cut with an ellipsis, all within the limit
    assert len(post.parts) == 5 and post.cut
    assert post.parts[-1].endswith(ELLIPSIS + " 5/5") and max(post.lengths) <= 280


def test_text_that_fits_is_one_post_even_in_thread_mode() -> None:
    # Given a short lead / When rendered in thread mode / Then it is one unnumbered post
    post = render_post(lead="Short.", link=LINK, limits=X, cta="Go", tags=["#A"], thread=True)
    assert post.parts == (f"Short.\n\nGo {LINK}\n#A",)


def test_hashtags_follow_the_style_and_drop_repeats_and_empty_tags() -> None:
    # Given tags with spaces, case, repeats and punctuation only / Then each style renders them
    tags = ["marketing automation", "B2B", "b2b", "!!", "2026", "Grüße aus Köln"]
    assert hashtags(tags) == ["#MarketingAutomation", "#B2B", "#GrüßeAusKöln"]
    assert hashtags(tags, style="lower") == ["#marketingautomation", "#b2b", "#grüßeausköln"]
    assert hashtags(tags, style="none") == []
