"""Protected spans become placeholders before machine translation and come back exactly once."""

from __future__ import annotations

import pytest

from syndicate.errors import PlaceholderMismatch
from syndicate.localization.masking import mask, protected_spans, unmask, xml_escape, xml_unescape


def spans_of(text: str, terms: tuple[str, ...] = (), *, markup: bool = False) -> list[str]:
    return [text[s:e] for s, e in protected_spans(text, terms, markup=markup)]


def test_urls_mentions_hashtags_and_emails_are_protected() -> None:
    # Given a post with each kind of protected span
    text = "Read https://example.com/a?b=1#c, ask @jane_doe or mail info@example.com #launch2026!"
    # When its spans are found / Then each is one span, without trailing punctuation
    assert spans_of(text) == ["https://example.com/a?b=1#c", "@jane_doe", "info@example.com", "#launch2026"]


def test_code_spans_fences_and_templates_are_protected() -> None:
    # Given Markdown with code and a date template
    text = "Run `pip install x` then:\n```\nsyndicate run --now\n```\nLive on {publish_at:date:long}."
    # Then code and the template are protected whole
    assert spans_of(text) == ["`pip install x`", "```\nsyndicate run --now\n```", "{publish_at:date:long}"]


def test_glossary_terms_match_whole_words_longest_first() -> None:
    # Given terms where one contains another
    text = "Try the Syndicate Cloud free trial; Syndicated content is not a term."
    # Then the longer term wins and a term inside a longer word is not matched
    assert spans_of(text, ("Syndicate", "Syndicate Cloud", "free trial")) == ["Syndicate Cloud", "free trial"]


def test_html_markup_is_protected_only_in_html_bodies() -> None:
    # Given an HTML body with tags, an attribute URL and an entity
    text = '<p>Hello <a href="https://example.com/x">world</a> &amp; more</p>'
    # When masked as markup / Then tags and the entity are spans, and the URL stays inside its tag
    assert spans_of(text, markup=True) == ["<p>", '<a href="https://example.com/x">', "</a>", "&amp;", "</p>"]


def test_mask_then_unmask_gives_the_text_back() -> None:
    # Given a text with spans
    text = "See https://example.com and @team about #news"
    m = mask(text)
    # Then placeholders replace the spans and unmasking restores the text byte for byte
    assert m.text == 'See <x id="0"/> and <x id="1"/> about <x id="2"/>'
    assert unmask(m.text, m) == text


def test_a_glossary_term_comes_back_as_its_translation() -> None:
    # Given a term with a German translation
    m = mask("Start your free trial at https://example.com", ("free trial",),
             replacements={"free trial": "kostenlose Testversion"})
    # When the engine moves the placeholders around
    translated = 'Starten Sie Ihre <x id="0"/> unter <x id="1"/>'
    # Then the term comes back translated and the URL as it was
    assert unmask(translated, m) == "Starten Sie Ihre kostenlose Testversion unter https://example.com"


def test_a_lost_placeholder_is_refused_naming_the_span() -> None:
    # Given a translation that dropped the URL
    m = mask("Go to https://example.com now")
    # Then unmasking refuses it, naming the lost span and the field
    with pytest.raises(PlaceholderMismatch, match=r"title lost \['https://example.com'\]"):
        unmask("Jetzt gehen", m, field="title")


def test_a_repeated_placeholder_is_refused() -> None:
    m = mask("Ask @jane")
    with pytest.raises(PlaceholderMismatch, match="repeated"):
        unmask('Frag <x id="0"/> <x id="0"/>', m)


def test_an_invented_placeholder_is_refused() -> None:
    m = mask("Ask @jane")
    with pytest.raises(PlaceholderMismatch, match=r"invented placeholders \[7\]"):
        unmask('Frag <x id="0"/> <x id="7"/>', m)


def test_placeholders_can_be_numbered_from_an_offset() -> None:
    # Given a second field numbered after the first's placeholders
    m = mask("and #more", start=3)
    # Then its placeholders start at 3 and unmask expects the same offset
    assert m.text == 'and <x id="3"/>'
    assert unmask('und <x id="3"/>', m, start=3) == "und #more"


def test_a_placeholder_already_in_the_text_is_itself_protected() -> None:
    # Given text that literally contains our placeholder syntax
    text = 'The tag <x id="9"/> is literal'
    m = mask(text)
    # Then it round-trips instead of being confused with a real placeholder
    assert m.spans == ('<x id="9"/>',)
    assert unmask(m.text, m) == text


def test_xml_escaping_leaves_placeholders_and_round_trips() -> None:
    # Given masked text with characters XML would misread
    text = 'A & B <x id="0"/> if x < y > z'
    # Then escaping keeps placeholders as markup and unescaping restores the text
    assert xml_escape(text) == 'A &amp; B <x id="0"/> if x &lt; y &gt; z'
    assert xml_unescape(xml_escape(text)) == text
