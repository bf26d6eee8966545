"""Every pattern that meets item text runs in linear time, even on text built to make it backtrack.

Each case feeds 100 kB of one pathological shape to one pattern and compares the CPU time it takes
with the CPU time of a linear scan of the same text (see ``tests/cpu.py``; never wall-clock). A
super-linear pattern spends thousands of times the scan on 100 kB (``a.`` runs cost the old X URL
extractor hours); a runaway case is stopped by a CPU limit and fails.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import UTC, datetime

import pytest

from adapters import linkedin, twitter_text, wordpress
from adapters.x import XAdapter, XOptions
from syndicate.base import segments
from syndicate.base.secrets import Credentials
from syndicate.channels import rendering
from syndicate.channels.contract import AccountContext, PostContent
from syndicate.localization import batching, formatting, masking
from tests.cpu import cpu_ratio

SIZE = 100_000
#: A pattern may spend this many times the CPU of a linear scan (the scan takes about 9 ms for
#: 100 kB here, so this is under 0.75 s; the slowest, X's extractor and counter, stay near 40).
#: A super-linear pattern spends thousands of times the scan.
RATIO = 80


def _repeat(unit: str, size: int = SIZE) -> str:
    return (unit * (size // len(unit) + 1))[:size]


#: Shapes that make backtracking engines try every start and read the rest of the text each time.
SHAPES = {
    "dotted-labels": _repeat("a."),
    "scheme-then-labels": "http://" + _repeat("a.", SIZE - 7),
    "www-labels": _repeat("www."),
    "hyphen-labels": _repeat("a-") + ".com",
    "cjk-labels": _repeat("中."),
    "many-urls": _repeat(" a.com"),
    "long-path": "a.com/" + _repeat("a!", SIZE - 6),
    "open-parens-path": "https://a.com/" + _repeat("(a", SIZE // 2) + _repeat(")", SIZE // 2),
    "long-query": "a.com?" + _repeat("a!", SIZE - 6),
    "punycode": _repeat(".xn--a"),
    "email-local-part": _repeat("a.") + "@",
    "email-domain": "x@" + _repeat("a1."),
    "at-signs": _repeat("a@"),
    "comment-openers": _repeat("<!--"),
    "tag-openers": _repeat("<"),
    "fences": _repeat("```~~~"),
    "backticks": _repeat("`a"),
    "whitespace": _repeat(" \n"),
    "spaces-before-placeholder": _repeat(" ") + '<x id="b1"/>',
    "placeholder-openers": _repeat("<x "),
    "hashtag-digits": _repeat("#1"),
    "mentions": _repeat("@a"),
    "templates": _repeat("{date:"),
    "entities": _repeat("&#"),
    "sentence-closers": _repeat(".)"),
    "zwj-chain": _repeat("👨\u200d"),
    "regional-indicators": _repeat("🇯"),
    "combining-marks": "a" + _repeat("\u0301"),
}


def _all(finditer: Callable[[str], Iterable[object]]) -> Callable[[str], object]:
    return lambda text: sum(1 for _ in finditer(text))


#: Every pattern (or function built on one) that reads item text, by where it lives.
PATTERNS: dict[str, Callable[[str], object]] = {
    "twitter_text.extract_urls": twitter_text.extract_urls,
    "twitter_text.weighted_length": twitter_text.weighted_length,
    "twitter_text.emoji_spans": twitter_text.emoji_spans,
    "masking.URL": _all(masking.URL.finditer),
    "masking.EMAIL": _all(masking.find_emails),
    "masking.MENTION": _all(masking.MENTION.finditer),
    "masking.HASHTAG": _all(masking.HASHTAG.finditer),
    "masking.CODE_FENCE": _all(masking.CODE_FENCE.finditer),
    "masking.CODE_SPAN": _all(masking.CODE_SPAN.finditer),
    "masking.HTML_TAG": _all(masking.HTML_TAG.finditer),
    "masking.HTML_ENTITY": _all(masking.HTML_ENTITY.finditer),
    "masking.PLACEHOLDER": _all(masking.PLACEHOLDER.finditer),
    "masking.protected_spans": lambda text: masking.protected_spans(text, ["a.a", "Syndicate"], markup=True),
    "formatting.TEMPLATE": _all(formatting.TEMPLATE.finditer),
    "rendering.sentence_ends": _all(rendering._SENTENCE_END.finditer),
    "segments.word_boundaries": segments.word_boundaries,
    "segments.grapheme_boundaries": segments.grapheme_boundaries,
    "rendering.atomic_spans": lambda text: rendering.atomic_spans(text, twitter_text.entity_spans),
    "rendering.hashtags": lambda text: rendering.hashtags([text]),
    "batching.split_text": lambda text: batching.split_text(text, 5000),
    "batching.boundaries": _all(batching._BOUNDARY.finditer),
    "linkedin.escape_little_text": linkedin.escape_little_text,
    "wordpress.error_tags": lambda text: wordpress._TAG.sub("", text),
}


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("pattern", PATTERNS)
def test_pattern_runs_in_linear_time_on_pathological_text(pattern: str, shape: str) -> None:
    # Given 100 kB of a shape built to make a backtracking pattern try every start
    text = SHAPES[shape]
    # When the pattern reads it (stopped after 20 s of CPU)
    ratio = cpu_ratio(PATTERNS[pattern], text)
    # Then it costs a small multiple of a linear scan of the same text
    assert ratio < RATIO, f"{pattern} on {shape}: {ratio:.0f} times a linear scan"


def _x(**options: object) -> XAdapter:
    return XAdapter(AccountContext(id="x", options=XOptions.model_validate(options), credentials=Credentials("x", {})))


def _content(summary: str, body: str = "") -> PostContent:
    return PostContent(item_id="i", revision=1, locale="en-US", title="Title", summary=summary, body=body,
                       body_format="markdown", link="https://example.com/p?utm_source=x", cta_text="Read",
                       canonical_url="https://example.com/p", cta_url=None, published_at=datetime.now(UTC))


@pytest.mark.parametrize("shape", ["dotted-labels", "scheme-then-labels", "www-labels", "many-urls", "comment-openers",
                                   "tag-openers", "regional-indicators", "entities"])
@pytest.mark.parametrize("thread", [False, True], ids=["post", "thread"])
def test_x_renders_a_pathological_text_in_linear_time_and_within_the_limit(shape: str, thread: bool) -> None:
    # Given 100 kB of pathological text as an X post's summary (or, in thread mode, its body)
    text = SHAPES[shape]
    adapter = _x(thread=thread, include_body=thread)
    content = _content("Summary.", text) if thread else _content(text)
    # When it is rendered
    ratio = cpu_ratio(lambda _: adapter.render(content), text)
    # Then it costs a small multiple of a linear scan, and every part fits X's limit
    rendered = adapter.render(content)
    assert ratio < RATIO, f"{ratio:.0f} times a linear scan"
    assert all(twitter_text.weighted_length(p) <= 280 for p in rendered.parts or (rendered.text,))
    assert "https://example.com/p?utm_source=x" in rendered.text


def test_the_new_email_finder_finds_what_the_email_pattern_finds() -> None:
    # Given texts with addresses at word boundaries, inside runs, after dots and next to other '@'s
    texts = ["mail a@b.com now", "..a@b.com", "é.x@y.org", "a@b.com.x@y.com", "a@@b.com", "x@1.2.ab_",
             "first.last+tag@sub.example.co.uk, second@example.org.", "a.b@c", "@a.com", "a@b.c@d.ef"]
    # When both read them / Then they find the same spans
    for text in texts:
        assert [m.span() for m in masking.find_emails(text)] == [m.span() for m in masking.EMAIL.finditer(text)], text


def test_an_html_comment_left_open_is_protected_to_the_end_of_the_text() -> None:
    # Given an HTML body with a comment that is never closed
    text = "<p>Hello</p><!-- draft: <b>not for translation</b>"
    # When its spans are found / Then the comment runs to the end (as browsers read it)
    assert masking.protected_spans(text, markup=True)[-1] == (text.index("<!--"), len(text))


def test_the_split_boundary_pattern_finds_what_the_backtracking_one_found() -> None:
    # Given joined segments with whitespace around boundaries, and two boundaries in a row
    old = re.compile(r"\s*<x\s+id=\"b(\d+)\"\s*/>\s*")
    texts = ["one  \n\n<x id=\"b1\"/>\n\n two<x id=\"b2\"/>three",
             "a\n\n<x id=\"b1\"/>\n\n<x id=\"b1\"/>\n\nb", "  <x id=\"b3\"/>", "x <x id=\"b4\" /> \t"]
    # Then the split and the matches are the old pattern's
    for text in texts:
        assert batching._BOUNDARY.split(text) == old.split(text)
        assert [m.span() for m in batching._BOUNDARY.finditer(text)] == [m.span() for m in old.finditer(text)]
